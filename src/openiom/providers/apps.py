from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "openiom.providers"
    label = "providers"
    verbose_name = "Referrals to pathway providers"

    def ready(self) -> None:
        from openiom.providers import events  # noqa: F401  (registers the audit event types)
