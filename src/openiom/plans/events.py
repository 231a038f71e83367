"""Audit event types of management plans (imported by PlansConfig.ready)."""

from openiom.audit.events import A, C, D, V
from openiom.audit.registry import register

register(
    "plan.created",
    C,
    "Started a management plan",
    lambda c: f"Started the management plan of {c['person']}",
)
register(
    "plan.needs_set",
    A,
    "Set the pathway needs of a management plan",
    lambda c: f"Set the pathway needs of {c['person']}'s plan ({c['changed']} changed)",
)
register(
    "plan.readiness_set",
    A,
    "Set the strengths and readiness of a management plan",
    lambda c: f"Set the strengths and readiness in {c['person']}'s plan",
)
register(
    "plan.objective_added",
    C,
    "Added an objective to a management plan",
    lambda c: f"Added an objective to {c['person']}'s plan",
)
register(
    "plan.objective_edited",
    A,
    "Changed an objective of a management plan",
    lambda c: f"Changed an objective of {c['person']}'s plan",
)
register(
    "plan.action_added",
    C,
    "Added an action to a management plan",
    lambda c: f"Added a {c['type']} action for {c['agency']} to {c['person']}'s plan",
)
register(
    "plan.action_edited",
    A,
    "Changed an action of a management plan",
    lambda c: f"Changed an action for {c['agency']} in {c['person']}'s plan",
)
register(
    "plan.action_updated",
    A,
    "Updated the status or outcome of a plan action",
    lambda c: f"Set an action for {c['agency']} in {c['person']}'s plan to {c['status']}",
)
register(
    "plan.agreed",
    A,
    "Agreed a management plan",
    lambda c: f"Agreed {c['person']}'s plan (version {c['number']})",
)
register(
    "plan.reviewed",
    A,
    "Reviewed a management plan",
    lambda c: f"Reviewed {c['person']}'s plan (version {c['number']})",
)
register(
    "plan.consulted",
    V,
    "Viewed a management plan",
    lambda c: f"Viewed {c['person']}'s management plan ({c['actions']} actions shown)",
)
register(
    "plan.history_consulted",
    V,
    "Viewed the version history of a management plan",
    lambda c: f"Viewed the history of {c['person']}'s management plan",
)
register(
    "plan.my_plan_printed",
    D,
    "Printed the person's own copy of their plan",
    lambda c: f"Printed 'my plan' for {c['person']}",
)
register(
    "pathway.added",
    C,
    "Added a resettlement pathway",
    lambda c: f"Added the pathway '{c['name']}'",
)
