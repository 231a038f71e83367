from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "openiom.simulation"
    label = "simulation"
    verbose_name = "Synthetic area"

    def ready(self) -> None:
        from openiom.simulation import events  # noqa: F401  (registers audit event types)
