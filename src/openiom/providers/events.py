"""Audit event types of referrals to pathway providers (imported by ProvidersConfig.ready)."""

from openiom.audit.events import A, D, V
from openiom.audit.registry import Formatter, register

# Sending discloses the person's basics to the receiving agency: a disclosure, with its basis.
register(
    "provider_referral.sent",
    D,
    "Referred a person to a pathway provider",
    lambda c: f"Referred {c['person']} to {c['agency']} for {c['service']} (basis: {c['basis']})",
)


def _step_summary(verb: str) -> Formatter:
    return lambda c: f"{verb} provider referral {c['referral']} of {c['person']} to {c['agency']}"


for _code, _verb in [
    ("accepted", "Accepted"),
    ("started", "Started the work on"),
    ("completed", "Completed"),
    ("declined", "Declined"),
    ("ended_early", "Ended early"),
    ("withdrawn", "Withdrew"),
]:
    register(
        f"provider_referral.{_code}",
        A,
        f"{_verb} a referral to a pathway provider",
        _step_summary(_verb),
    )
register(
    "provider_referral.list_consulted",
    V,
    "Viewed a person's referrals to pathway providers",
    lambda c: f"Viewed {c['results']} provider referrals of {c['person']}",
)
register(
    "provider_referral.consulted",
    V,
    "Viewed a referral to a pathway provider",
    lambda c: f"Viewed provider referral {c['referral']} of {c['person']}",
)
register(
    "provider_referral.inbox_consulted",
    V,
    "Viewed the referrals to their agency",
    lambda c: f"Viewed {c['results']} active referrals to {c['agency']}",
)
