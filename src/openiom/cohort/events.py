"""Audit event types of the cohort lifecycle (imported by CohortConfig.ready)."""

from openiom.audit.events import A, C, V
from openiom.audit.registry import register

register(
    "referral.created",
    C,
    "Referred a person to IOM",
    lambda c: f"{c['agency']} referred {c['person']} (referral {c['referral']})",
)
register(
    "referral.submitted",
    A,
    "Submitted a referral to the coordinator",
    lambda c: f"Submitted referral {c['referral']} of {c['person']}",
)
register(
    "referral.listed",
    A,
    "Listed a referral for the selection panel",
    lambda c: (
        f"Listed referral {c['referral']} of {c['person']} for the panel on {c['panel_date']}"
    ),
)
register(
    "referral.withdrawn",
    A,
    "Withdrew a referral",
    lambda c: f"Withdrew referral {c['referral']} of {c['person']}",
)
register(
    "referral.decided",
    A,
    "A referral reached the panel's outcome",
    lambda c: f"Referral {c['referral']} of {c['person']}: {c['outcome']}",
)
register(
    "referral.queue_consulted",
    V,
    "Viewed the referral queue",
    lambda c: f"Viewed the referral queue ({c['results']} referrals)",
)
register(
    "panel.decision_recorded",
    C,
    "Recorded a selection panel decision",
    lambda c: f"Panel decision on {c['person']}: {c['decision']}",
)
register(
    "registration.started",
    C,
    "Registered a person in an IOM cohort",
    lambda c: f"Registered {c['person']} in {c['cohort']} (lead: {c['agency']})",
)
register(
    "registration.status_changed",
    A,
    "Changed a registration's status",
    lambda c: f"{c['person']}'s registration is now {c['status']}",
)
register(
    "registration.deregistered",
    A,
    "De-registered a person from IOM",
    lambda c: f"De-registered {c['person']} from {c['cohort']}: {c['reason']}",
)
register(
    "rag.assessed",
    C,
    "Set a RAG status",
    lambda c: f"Set {c['person']} to {c['status']} (suggested {c['suggested']})",
)
register(
    "rag.suggestion_consulted",
    V,
    "Viewed a RAG or exit suggestion",
    lambda c: f"Viewed the {c['what']} suggestion for {c['person']}",
)
register(
    "exit_plan.recorded",
    C,
    "Recorded an exit plan",
    lambda c: f"Recorded an exit plan for {c['person']}",
)
register(
    "reconsideration.scheduled",
    C,
    "Scheduled a reconsideration at the referral and review meeting",
    lambda c: f"Scheduled reconsideration of {c['person']} by {c['due_date']}",
)
register(
    "reconsideration.recorded",
    A,
    "Recorded the referral and review meeting's outcome on a reconsideration",
    lambda c: f"Reconsideration of {c['person']}: {c['outcome']}",
)
register(
    "cohort.policy_published",
    A,
    "Published a new cohort, RAG or de-registration policy version",
    lambda c: f"Published {c['kind']} policy {c['key']} v{c['version']}",
)
register(
    "cohort.register_consulted",
    V,
    "Viewed the cohort register",
    lambda c: f"Viewed the cohort register ({c['results']} registrations)",
)
register(
    "cohort.history_consulted",
    V,
    "Viewed a person's IOM history",
    lambda c: f"Viewed the IOM history of {c['person']}",
)
register(
    "registration.lead_changed",
    A,
    "Changed a registration's lead worker or lead agency",
    lambda c: f"{c['person']}'s lead worker is now {c['worker']} ({c['agency']})",
)
