from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openiom.core"
    label = "core"
    verbose_name = "Core"
