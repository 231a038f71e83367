from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "openiom.casework"
    label = "casework"
    verbose_name = "Case management: contacts"

    def ready(self) -> None:
        from openiom.casework import events  # noqa: F401  (registers the audit event types)
