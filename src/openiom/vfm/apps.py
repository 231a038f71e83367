from django.apps import AppConfig


class VfmConfig(AppConfig):
    name = "openiom.vfm"
    label = "vfm"
    verbose_name = "Value for money"

    def ready(self) -> None:
        from openiom.vfm import events  # noqa: F401  (registers audit event types)
