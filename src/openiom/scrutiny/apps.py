from django.apps import AppConfig


class ScrutinyConfig(AppConfig):
    name = "openiom.scrutiny"
    label = "scrutiny"
    verbose_name = "Score audit and disproportionality"
