from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "openiom.plans"
    label = "plans"
    verbose_name = "Management plans (ASPIRE): pathway needs, objectives, actions"

    def ready(self) -> None:
        from openiom.plans import events  # noqa: F401  (registers the audit event types)
