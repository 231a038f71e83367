"""The board dashboard: month-end cohort counts by scheme and RAG, flows, latest headline.

Registrations and RAG assessments are written directly with known dates, so every expected count
below is read off the timeline in `cohort_history`'s docstring.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.access.services import AccessDenied
from openiom.cohort.models import (
    CohortDefinition,
    RagAssessment,
    RagPolicy,
    Registration,
    RegistrationStatus,
)
from openiom.evaluation import dashboard
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus
from openiom.partnership.models import Agency, Partnership
from tests.evaluation.test_report import sample_result

AS_OF = dt.date(2026, 6, 15)

pytestmark = pytest.mark.django_db


def _register(
    person: Any, key: str, start: dt.date, end: dt.date | None, worker: Any
) -> Registration:
    cohort = CohortDefinition.objects.filter(key=key).order_by("-version").first()
    assert cohort is not None
    return Registration.objects.create(
        person=person,
        cohort=cohort,
        cohort_key=key,
        lead_agency=Agency.objects.get(code="probation-wessex"),
        lead_worker=worker,
        start_date=start,
        review_date=start + dt.timedelta(days=90),
        planned_end_date=start + dt.timedelta(days=365),
        status=RegistrationStatus.DEREGISTERED if end else RegistrationStatus.ACTIVE,
        status_since=end or start,
        end_date=end,
        created_by=worker,
    )


def _rag(reg: Registration, status: str, on: dt.date, worker: Any) -> None:
    RagAssessment.objects.create(
        registration=reg,
        person=reg.person,
        status=status,
        assessed_on=on,
        reason="test",
        suggested_status=status,
        suggestion_reasons=[],
        evidence={},
        differs_from_suggestion=False,
        policy=RagPolicy.objects.order_by("-version").first(),
        assessed_by=worker,
    )


@pytest.fixture
def cohort_history(make_person: Any, personas: dict[str, Any]) -> dict[str, Registration]:
    """Timeline (as of 15 June 2026):
    A fixed, 10 Jan 2026 – open; red from 10 Jan, green from 20 Apr.
    B fixed, 5 Feb 2026 – 31 Mar 2026 (de-registered); amber from 5 Feb.
    C flex, 1 May 2026 – open; never assessed.
    D fixed, 1 Jul 2026 – after as_of, never counted.
    Month ends Jan: A (red) → fixed 1. Feb: A red, B amber → fixed 2. Mar 31: B ended on 31 Mar
    (end_date ≤ month end, so not counted) → fixed 1 (A red). Apr 30: A green → fixed 1.
    May 31: A green, C (none) → fixed 1, flex 1. 15 Jun: same as May.
    Flows: Jan in 1; Feb in 1; Mar out 1; May in 1.
    """
    worker = personas["probation.om"]
    a = _register(make_person(), "fixed", dt.date(2026, 1, 10), None, worker)
    b = _register(make_person(), "fixed", dt.date(2026, 2, 5), dt.date(2026, 3, 31), worker)
    c = _register(make_person(), "flex", dt.date(2026, 5, 1), None, worker)
    d = _register(make_person(), "fixed", dt.date(2026, 7, 1), None, worker)
    _rag(a, "red", dt.date(2026, 1, 10), worker)
    _rag(a, "green", dt.date(2026, 4, 20), worker)
    _rag(b, "amber", dt.date(2026, 2, 5), worker)
    return {"a": a, "b": b, "c": c, "d": d}


def test_month_ends() -> None:
    ends = dashboard.month_ends(AS_OF, 3)
    assert ends == [dt.date(2026, 4, 30), dt.date(2026, 5, 31), dt.date(2026, 6, 15)]
    assert dashboard.month_ends(dt.date(2026, 3, 10), 2) == [
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 10),
    ]


def test_counts_by_scheme_rag_and_flows(cohort_history: Any, actor: Any) -> None:
    board = dashboard.board_dashboard(
        actor=actor("housing.worker"), as_of=AS_OF, months=6, charts=False
    )
    assert board.month_ends[0] == dt.date(2026, 1, 31)
    schemes = {s.key: s.values for s in board.by_scheme}
    assert schemes == {"fixed": [1, 2, 1, 1, 1, 1], "flex": [0, 0, 0, 0, 1, 1]}
    rag = {s.key: s.values for s in board.by_rag}
    assert rag["red"] == [1, 1, 1, 0, 0, 0]
    assert rag["amber"] == [0, 1, 0, 0, 0, 0]
    assert rag["green"] == [0, 0, 0, 1, 1, 1]
    assert rag["none"] == [0, 0, 0, 0, 1, 1]
    assert [(m.month, i, o) for m, i, o in board.flows] == [
        (1, 1, 0),
        (2, 1, 0),
        (3, 0, 1),
        (4, 0, 0),
        (5, 1, 0),
        (6, 0, 0),
    ]
    assert board.current_total == 2
    data = board.to_dict()
    assert data["by_scheme"][0]["values"] == [1, 2, 1, 1, 1, 1]
    assert "regression to the mean" in data["tracking_notice"]


def test_latest_evaluation_headline(cohort_history: Any, actor: Any, personas: Any) -> None:
    partnership = Partnership.objects.get()
    older = Evaluation.objects.create(
        partnership=partnership,
        title="Old",
        kind=EvaluationKind.TABLE,
        config={},
        status=EvaluationStatus.QUEUED,
    )
    result = sample_result(label="Fixed cohort")
    Evaluation.objects.filter(pk=older.pk).update(
        status=EvaluationStatus.DONE,
        result={"headline": "Old headline"},
        finished_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    newer = Evaluation.objects.create(
        partnership=partnership, title="New", kind=EvaluationKind.TABLE, config={}
    )
    Evaluation.objects.filter(pk=newer.pk).update(
        status=EvaluationStatus.DONE,
        result=result,
        finished_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )
    Evaluation.objects.create(
        partnership=partnership,
        title="Running",
        kind=EvaluationKind.TABLE,
        config={},
        status=EvaluationStatus.RUNNING,
    )
    board = dashboard.board_dashboard(actor=actor("analyst"), as_of=AS_OF, months=3)
    assert board.latest is not None and board.latest.pk == newer.pk
    assert board.latest.headline == result["headline"]
    assert set(board.charts) == {"scheme", "rag", "flows"}
    assert (
        'aria-labelledby="cohort-size-chart-title cohort-size-chart-desc"' in board.charts["scheme"]
    )


def test_anyone_without_a_role_is_refused(db: Any, django_user_model: Any) -> None:
    from openiom.accounts.actor import actor_for_user

    user = django_user_model.objects.create_user("nobody", password="x")
    with pytest.raises(AccessDenied):
        dashboard.board_dashboard(actor=actor_for_user(user), as_of=AS_OF)


def test_before_after_tracking_is_labelled_not_impact(
    cohort_history: Any, actor: Any, make_person: Any, personas: dict[str, Any], offence_code: Any
) -> None:
    """E: fixed, 15 Jan 2024 – 31 Dec 2024; 3 offences in the year before, 1 in the year after,
    all proven within the waiting period. Only E's after-window (to 14 Jan 2025 + 182 days) is
    complete on 15 June 2026, so the cohort figures are E's: 3 → 1, a fall of 67%."""
    from openiom.offending.models import Offence

    person = make_person()
    _register(
        person, "fixed", dt.date(2024, 1, 15), dt.date(2024, 12, 31), personas["probation.om"]
    )
    for day in (
        dt.date(2023, 3, 1),
        dt.date(2023, 6, 1),
        dt.date(2023, 11, 1),
        dt.date(2024, 5, 1),
    ):
        Offence.objects.create(
            person=person,
            offence_code=offence_code("028/01"),
            offence_date=day,
            disposal_type="community_order",
            disposal_date=day + dt.timedelta(days=30),
        )
    board = dashboard.board_dashboard(actor=actor("analyst"), as_of=AS_OF, months=3, charts=False)
    tracking = board.tracking
    assert tracking is not None
    everyone = tracking["rows"][0]
    assert everyone[:5] == ["All", "1", "3", "1", "-67%"]
    assert tracking["large_fall"] is True
    assert any("regression to the mean" in note for note in tracking["notes"])
    assert "not evidence that IOM reduced offending" in tracking["warning"]
