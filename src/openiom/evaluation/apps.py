from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "openiom.evaluation"
    label = "evaluation"
    verbose_name = "Impact evaluation"
