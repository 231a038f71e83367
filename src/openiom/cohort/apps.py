from django.apps import AppConfig


class CohortConfig(AppConfig):
    name = "openiom.cohort"
    label = "cohort"
    verbose_name = "Cohorts, referrals and registrations"

    def ready(self) -> None:
        from openiom.cohort import events  # noqa: F401  (registers the audit event types)
