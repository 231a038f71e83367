from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "openiom.reference"
    label = "reference"
    verbose_name = "Reference data"
