from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "openiom.providers"
    label = "providers"
    verbose_name = "Referrals to pathway providers"
