from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "openiom.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from openiom.audit import events, signals  # noqa: F401  (registers types and handlers)
