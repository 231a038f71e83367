"""Audit event types recorded by the simulator."""

from openiom.audit.registry import register

register(
    "simulation.generated",
    "collection",
    "Generated a synthetic area",
    lambda c: f"Generated a synthetic area of {c['people']} people (seed {c['seed']})",
)

register(
    "simulation.scheme_generated",
    "collection",
    "Simulated an IOM scheme's history",
    lambda c: (
        f"Simulated {c['years']} years of IOM: {c['registrations']} registrations, "
        f"{c['live']} current"
    ),
)
