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
# Pages and API (viewing a candidate list discloses who scored what).
register(
    "scoring.candidates_consulted",
    "consultation",
    "Viewed a scoring run's candidate list",
    lambda c: f"Viewed {c['results']} candidates of scoring run {c['run']}",
)
register(
    "scoring.explanation_consulted",
    "consultation",
    "Viewed the explanation of a person's score",
    lambda c: f"Viewed why {c['person']} was ranked {c['rank']} in scoring run {c['run']}",
)
register(
    "scrutiny.disproportionality_consulted",
    "consultation",
    "Viewed a disproportionality check",
    lambda c: f"Viewed the disproportionality of {c['what']}",
)
register(
    "scrutiny.score_audited",
    "combination",
    "Audited a score against outcomes from an uploaded file",
    lambda c: f"Audited '{c['score']}' against '{c['outcome']}' in {c['file']} ({c['rows']} rows)",
)
