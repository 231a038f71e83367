"""Audit event types recorded by identification scoring."""

from openiom.audit.registry import register

register(
    "scoring.policy_published",
    "alteration",
    "Published a new version of a scoring rule set",
    lambda c: f"Published {c['policy']} version {c['version']}",
)
register(
    "scoring.run",
    "combination",
    "Scored the area's offending population (combining offending, arrests, custody and intelligence)",
    lambda c: f"Scored {c['people']} people with {c['policy']} as of {c['as_of']}",
)
