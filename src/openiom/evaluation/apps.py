from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "openiom.evaluation"
    label = "evaluation"
    verbose_name = "Impact evaluation"

    def ready(self) -> None:
        from openiom.evaluation import events  # noqa: F401  (registers audit event types)
