from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "openiom.simulation"
    label = "simulation"
    verbose_name = "Synthetic area"
