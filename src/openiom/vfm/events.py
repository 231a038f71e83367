"""Audit event types recorded by value for money (imported by VfmConfig.ready)."""

from openiom.audit.registry import register

register(
    "vfm.assumptions_published",
    "alteration",
    "Published a new version of the value-for-money assumptions",
    lambda c: f"Published {c['name']} version {c['version']}",
)
register(
    "vfm.programme_costs_published",
    "alteration",
    "Published a new version of the IOM programme costs",
    lambda c: f"Published {c['name']} version {c['version']}",
)
register(
    "vfm.contract_agreed",
    "alteration",
    "Recorded a payment-by-results contract (or a variation of one)",
    lambda c: f"Recorded contract {c['reference']} version {c['version']}",
)
register(
    "vfm.contract_measured",
    "combination",
    "Measured a payment-by-results contract's cohort against its baseline",
    lambda c: (
        f"Measured contract {c['reference']} version {c['version']} as of {c['as_of']} "
        f"({c['people']} people)"
    ),
)
