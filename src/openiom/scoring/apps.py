from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "openiom.scoring"
    label = "scoring"
    verbose_name = "Identification scoring"

    def ready(self) -> None:
        from openiom.scoring import events  # noqa: F401  (registers audit event types)
