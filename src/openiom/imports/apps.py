from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "openiom.imports"
    label = "imports"
    verbose_name = "Imports"
