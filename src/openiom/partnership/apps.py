from django.apps import AppConfig


class PartnershipConfig(AppConfig):
    name = "openiom.partnership"
    label = "partnership"
    verbose_name = "Partnership and agencies"
