"""The event types openiom records. Other apps register theirs in their own events.py."""

from openiom.audit.registry import register

C = "collection"
A = "alteration"
V = "consultation"
D = "disclosure"
M = "combination"
E = "erasure"
S = "security"

register(
    "person.consulted",
    V,
    "Viewed a person's record",
    lambda c: f"Viewed the record of {c['person']}",
)
register(
    "person.searched",
    V,
    "Searched people",
    lambda c: f"Searched people for '{c['query']}' ({c['results']} results)",
)
register(
    "person.listed",
    V,
    "Listed people via the API",
    lambda c: f"Listed people ({c['results']} results)",
)
register("person.collected", C, "Recorded a new person", lambda c: f"Recorded {c['person']}")
register(
    "person.altered", A, "Changed a person's details", lambda c: f"Changed details of {c['person']}"
)
register(
    "person.erased",
    E,
    "Erased a person's record",
    lambda c: f"Erased the record of person {c['person']}",
)
register(
    "person.merged",
    M,
    "Combined two person records",
    lambda c: f"Combined {c['source']} into {c['person']}",
)
register(
    "person.restricted",
    A,
    "Restricted a person's record to named users",
    lambda c: f"Restricted {c['person']} to {c['users']}",
)
register(
    "involvement.started",
    C,
    "Started working with a person",
    lambda c: f"{c['agency']} started working with {c['person']}",
)
register(
    "involvement.ended",
    A,
    "Stopped working with a person",
    lambda c: f"{c['agency']} stopped working with {c['person']}",
)
register(
    "intelligence.consulted",
    V,
    "Viewed police intelligence",
    lambda c: f"Viewed {c['count']} intelligence items on {c['person']}",
)
register(
    "intelligence.collected",
    C,
    "Recorded police intelligence",
    lambda c: f"Recorded intelligence on {c['person']}",
)
register(
    "import.collected",
    C,
    "Imported an extract",
    lambda c: f"Imported {c['file']} ({c['rows']} rows)",
)
register(
    "import.rejected",
    S,
    "Rejected an extract with errors",
    lambda c: f"Rejected {c['file']}: {c['errors']} errors",
)
register(
    "import.match_resolved",
    M,
    "Resolved a possible person match",
    lambda c: f"Resolved possible match for {c['person']}: {c['decision']}",
)
register("audit.consulted", V, "Viewed the audit trail", lambda c: "Viewed the audit trail")
register("data.exported", D, "Exported data", lambda c: f"Exported {c['what']}")
register("auth.signed_in", S, "Signed in", lambda c: f"Signed in as {c['username']}")
register("auth.signed_out", S, "Signed out", lambda c: f"Signed out {c['username']}")
register(
    "auth.sign_in_failed", S, "Failed sign-in", lambda c: f"Failed sign-in for {c['username']}"
)
register(
    "auth.locked_out",
    S,
    "Locked out after repeated failures",
    lambda c: f"Locked out {c['username']}",
)
register("access.denied", S, "Access denied", lambda c: f"Denied {c['action']} on {c['object']}")
register(
    "account.created", A, "Created a user account", lambda c: f"Created account {c['username']}"
)
register(
    "membership.granted",
    A,
    "Granted an agency role",
    lambda c: f"Granted {c['role']} at {c['agency']} to {c['username']}",
)
register(
    "token.issued",
    S,
    "Issued an API token",
    lambda c: f"Issued API token '{c['name']}' to {c['username']}",
)
register("token.revoked", S, "Revoked an API token", lambda c: f"Revoked API token '{c['name']}'")
register(
    "otp.enrolled",
    S,
    "Set up two-factor authentication",
    lambda c: f"Set up two-factor authentication for {c['username']}",
)
register(
    "import.failed",
    S,
    "An import stopped with an unexpected problem; nothing was imported",
    lambda c: f"Import of {c['file']} failed: {c['why']}",
)
register(
    "audit.verified",
    S,
    "Checked the audit trail's hash chain",
    lambda c: f"Checked the audit hash chain: {c['result']}",
)
register(
    "audit.exported",
    D,
    "Exported audit events to a spreadsheet",
    lambda c: f"Exported {c['count']} audit events to CSV",
)
register(
    "audit.viewers_consulted",
    V,
    "Viewed who has looked at a person's record",
    lambda c: f"Viewed who has looked at the record of person {c['person_id']}",
)
register(
    "audit.viewers_exported",
    D,
    "Exported who has looked at a person's record",
    lambda c: f"Exported who has looked at the record of person {c['person_id']} to CSV",
)
register(
    "audit.unusual_access_consulted",
    V,
    "Viewed the unusual-access report",
    lambda c: f"Viewed the unusual-access report for {c['period']} ({c['flags']} flags)",
)
register(
    "audit.unusual_access_exported",
    D,
    "Exported the unusual-access report",
    lambda c: f"Exported the unusual-access report for {c['period']} ({c['flags']} flags) to CSV",
)
