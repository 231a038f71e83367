"""The simulated IOM scheme (simulation/scheme.py): a live, rule-abiding cohort history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from openiom.audit.models import AuditEvent
from openiom.cohort.dates import add_months
from openiom.cohort.deregistration import green_run_start
from openiom.cohort.models import (
    ExitPlan,
    PanelDecision,
    RagAssessment,
    Reconsideration,
    Referral,
    ReferralStateChange,
    Registration,
    RegistrationStatusChange,
)
from openiom.cohort.rag import ReportedEvidence, suggest_rag
from openiom.simulation.scheme import SchemeParameters, simulate_scheme
from openiom.simulation.services import simulate_area

AS_OF = dt.date(2025, 6, 30)
PEOPLE = 3000
# a small area still needs a cohort worth testing: capacities are per 20,000 people
# (and, to keep the tests fast, two years scored every 8 weeks with one stored snapshot)
PARAMS = SchemeParameters(
    years=2,
    scoring_interval_days=56,
    snapshot_quarters=1,
    capacity_fixed=200,
    capacity_flex=100,
    capacity_free=40,
    max_adoptions_per_panel=40,
)


def _fingerprint() -> list[Any]:
    return [
        list(
            Registration.objects.order_by("person_id", "start_date").values_list(
                "person_id",
                "cohort_key",
                "start_date",
                "end_date",
                "status",
                "lead_worker__username",
            )
        ),
        list(
            RagAssessment.objects.order_by("person_id", "assessed_on").values_list(
                "person_id", "assessed_on", "status", "suggested_status"
            )
        ),
        list(Referral.objects.order_by("person_id", "id").values_list("person_id", "state")),
    ]


@pytest.mark.django_db(transaction=False)
def test_scheme_history_follows_the_rules(tmp_path: Path) -> None:
    result = simulate_area(
        people=PEOPLE, seed=7, as_of=AS_OF, manifest_dir=tmp_path, scheme_params=PARAMS
    )
    scheme = result.manifest["scheme"]
    regs = list(Registration.objects.select_related("panel_decision", "referral"))
    # a live cohort with RAG statuses on the as-of date
    live = [r for r in regs if r.end_date is None]
    assert len(live) >= 10 and scheme["live_registrations"] == len(live)
    assert {r.cohort_key for r in live} >= {"fixed", "flex"}
    for reg in live:
        assert RagAssessment.objects.filter(registration=reg).exists()
    statuses = set(RagAssessment.objects.values_list("status", flat=True))
    assert statuses == {"red", "amber", "green"}
    # every registration came from an adopting panel decision on an adopted referral
    for reg in regs:
        assert reg.panel_decision is not None and reg.panel_decision.decision == "adopt"
        assert reg.referral is not None and reg.referral.state == "adopted"
        assert reg.panel_decision.referral_id == reg.referral_id
        assert reg.lead_involvement is not None
        first = reg.rag_assessments.order_by("assessed_on", "id").first()
        assert first is not None and first.status in {"red", "amber"}
    outcomes = set(PanelDecision.objects.values_list("decision", flat=True))
    assert outcomes == {"adopt", "not_adopt", "defer"}
    assert not PanelDecision.objects.filter(decision="not_adopt", rationale="").exists()
    # RAG assessments keep the suggestion, and it is what the rules give on the database
    sample = list(RagAssessment.objects.select_related("person", "policy").order_by("id")[::25])
    for a in sample:
        assert a.suggestion_reasons and a.evidence
        assert a.differs_from_suggestion == (a.status != a.suggested_status)
        again = suggest_rag(
            a.person,
            on=a.assessed_on,
            policy=a.policy,
            reported=ReportedEvidence(**a.evidence["reported"]),
        )
        assert again.status == a.suggested_status
        assert again.reasons() == a.suggestion_reasons
    # exits follow the de-registration rules
    reasons = {r.deregistration_reason for r in regs if r.end_date}
    assert "green_exit_plan" in reasons
    for reg in regs:
        if reg.end_date is None:
            continue
        if reg.deregistration_reason == "green_exit_plan":
            assessments = list(reg.rag_assessments.order_by("assessed_on", "created_at", "id"))
            start = green_run_start(assessments, reg.end_date)
            assert start is not None and add_months(start, 3) <= reg.end_date
            assert ExitPlan.objects.filter(registration=reg, recorded_on__lte=reg.end_date).exists()
        if reg.end_date:
            last: Any = reg.status_changes.order_by("changed_on", "id").last()
            assert last.to_status == "deregistered" and last.reason == reg.deregistration_reason
            assert last.suggestion is not None
            if reg.deregistration_reason in {"green_exit_plan", "long_custody"}:
                assert reg.deregistration_reason in [
                    r["deregistration_reason"]
                    for r in last.suggestion["results"]
                    if r["suggests_exit"]
                ]
            assert reg.lead_involvement is not None
            assert reg.lead_involvement.end_date == reg.end_date
        if reg.deregistration_reason == "long_custody":
            assert Reconsideration.objects.filter(registration=reg).exists()
    # nothing dated after the as-of date, or before the scheme started
    start = dt.date.fromisoformat(scheme["start"])
    dated: list[tuple[Any, str]] = [
        (Registration, "start_date"),
        (Registration, "end_date"),
        (RagAssessment, "assessed_on"),
        (PanelDecision, "decided_on"),
        (RegistrationStatusChange, "changed_on"),
        (ExitPlan, "recorded_on"),
    ]
    for model, column in dated:
        days = [d for d in model.objects.values_list(column, flat=True) if d is not None]
        assert days and max(days) <= AS_OF and min(days) >= start, (model, column)
    assert max(Referral.objects.values_list("created_at", flat=True)).date() <= AS_OF
    # manifest counts are the database's
    labels: dict[str, Any] = {
        "cohort.Referral": Referral,
        "cohort.ReferralStateChange": ReferralStateChange,
        "cohort.PanelDecision": PanelDecision,
        "cohort.Registration": Registration,
        "cohort.RagAssessment": RagAssessment,
        "cohort.ExitPlan": ExitPlan,
        "cohort.RegistrationStatusChange": RegistrationStatusChange,
        "cohort.Reconsideration": Reconsideration,
    }
    for label, model in labels.items():
        assert scheme["counts"][label] == model.objects.count(), label
    assert scheme["parameters"]["iom_effect"] == 0.0
    assert scheme["offences_removed_by_iom_effect"] == 0
    # the one summarising audit event, linked to the simulation run
    event = AuditEvent.objects.get(event_type="simulation.scheme_generated")
    assert event.object_id == str(result.run_id)
    assert event.details["counts"] == scheme["counts"]


@pytest.mark.django_db
def test_scheme_is_deterministic_and_optional(tmp_path: Path) -> None:
    result = simulate_area(people=PEOPLE, seed=3, as_of=AS_OF, manifest_dir=tmp_path, scheme=False)
    assert result.manifest["scheme"] is None and not Registration.objects.exists()
    prints = []
    for _ in range(2):
        with transaction.atomic():
            simulate_scheme(seed=3, as_of=AS_OF, people=PEOPLE, params=PARAMS)
            prints.append(_fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1] and prints[0][0]


@pytest.mark.django_db
def test_iom_effect_thins_offending_while_registered(tmp_path: Path) -> None:
    from openiom.offending.models import Offence

    simulate_area(people=PEOPLE, seed=3, as_of=AS_OF, manifest_dir=tmp_path, scheme=False)
    before = Offence.objects.count()
    section = simulate_scheme(
        seed=3,
        as_of=AS_OF,
        people=PEOPLE,
        params=SchemeParameters(**{**PARAMS.as_dict(), "years": 1, "iom_effect": 0.5}),
    )
    assert section["offences_removed_by_iom_effect"] > 0
    assert Offence.objects.count() == before - section["offences_removed_by_iom_effect"]


def test_future_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="future"):
        simulate_scheme(seed=1, as_of=dt.date.today() + dt.timedelta(days=30), people=10)
