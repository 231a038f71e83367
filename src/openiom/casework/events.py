"""Audit event types of case management (imported by CaseworkConfig.ready)."""

from openiom.audit.events import A, C, V
from openiom.audit.registry import register

register(
    "contact.recorded",
    C,
    "Recorded a contact with a person",
    lambda c: f"{c['agency']} recorded a {c['kind']} with {c['person']} on {c['date']}",
)
register(
    "contact.list_consulted",
    V,
    "Viewed a person's contacts",
    lambda c: f"Viewed {c['results']} contacts of {c['person']}",
)
register(
    "briefing.consulted",
    V,
    "Viewed the police briefing of registered people",
    lambda c: f"Viewed the police briefing ({c['results']} registered people)",
)
register(
    "handling_note.set",
    A,
    "Set the police handling note of a registered person",
    lambda c: f"Set the handling note of {c['person']}: {c['text']}",
)
register(
    "iom_marker.consulted",
    V,
    "Looked up a person's IOM marker",
    lambda c: f"Looked up the IOM marker of {c['person']} (registered: {c['registered']})",
)
