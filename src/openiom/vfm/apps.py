from django.apps import AppConfig


class VfmConfig(AppConfig):
    name = "openiom.vfm"
    label = "vfm"
    verbose_name = "Value for money"
