from django.apps import AppConfig


class CaseloadsConfig(AppConfig):
    name = "openiom.caseloads"
    label = "caseloads"
    verbose_name = "Caseloads and agency contribution"
