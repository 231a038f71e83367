from django.apps import AppConfig


class CaseloadsConfig(AppConfig):
    name = "openiom.caseloads"
    label = "caseloads"
    verbose_name = "Caseloads and agency contribution"

    def ready(self) -> None:
        from openiom.caseloads import events  # noqa: F401  (registers the audit event types)
