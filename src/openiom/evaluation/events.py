"""Audit event types of impact evaluation (imported by openiom.evaluation.models)."""

from openiom.audit.events import C, D, M
from openiom.audit.registry import register

register(
    "evaluation.requested",
    C,
    "Asked for an impact evaluation",
    lambda c: f"Asked for evaluation {c['evaluation']} ({c['kind']}): {c['title']}",
)
register(
    "evaluation.table_uploaded",
    C,
    "Uploaded a table for a flat-table evaluation",
    lambda c: f"Uploaded {c['file']} ({c['rows']} rows) for an evaluation",
)
register(
    "evaluation.run",
    M,
    "Ran an impact evaluation (combining cohort, offending and comparison-pool data)",
    lambda c: f"Evaluation {c['evaluation']} {c['outcome']}: {c['title']}",
)
register(
    "evaluation.downloaded",
    D,
    "Downloaded an evaluation report or table",
    lambda c: f"Downloaded the {c['what']} of evaluation {c['evaluation']}",
)
