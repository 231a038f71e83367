"""Audit event types recorded by the simulator."""

from openiom.audit.registry import register

register(
    "simulation.generated",
    "collection",
    "Generated a synthetic area",
    lambda c: f"Generated a synthetic area of {c['people']} people (seed {c['seed']})",
)
