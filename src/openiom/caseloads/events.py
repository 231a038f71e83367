"""Audit event types of caseloads and agency contribution (imported by CaseloadsConfig.ready)."""

from openiom.audit.events import V
from openiom.audit.registry import register

register(
    "caseload.consulted",
    V,
    "Viewed a caseload",
    lambda c: f"Viewed the caseload '{c['scope']}' ({c['results']} people)",
)
register(
    "contribution.consulted",
    V,
    "Viewed agency contribution",
    lambda c: f"Viewed agency contribution from {c['first']} to {c['last']} (counts only)",
)
register(
    "contribution.exported",
    V,
    "Downloaded agency contribution as CSV",
    lambda c: f"Downloaded agency contribution from {c['first']} to {c['last']} (counts only)",
)
