"""Mechanisms ("dosage"): time at each RAG status, agencies, lead changes, reported contacts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest

from openiom.cohort.models import (
    CohortDefinition,
    RagAssessment,
    RagPolicy,
    Registration,
    RegistrationStatusChange,
)
from openiom.evaluation.mechanisms import (
    CONTACTS_NOTE,
    DESCRIPTIVE_NOTE,
    LEAD_CHANGES_NOTE,
    MONTH_DAYS,
    cohort_dosage,
    dosage,
)
from openiom.evaluation.outcomes import OutcomeError
from openiom.offending.models import Offence
from openiom.partnership.models import Agency
from openiom.people.models import Involvement

D = dt.date
AS_OF = D(2023, 3, 2)

# R1: 1 Jan – 11 Apr 2023 (100 days): amber from day 0, red from day 30, green from day 60.
# R2: from 1 Jan 2023, current on the as-of date (60 days): first assessed (red) on day 10;
#     in custody 1–11 Feb (10 days).
# R3: person 1 again from 1 Jun 2023 with another lead worker (after the as-of date of most
#     tests; used with a later as-of date).
REGISTRATIONS = pl.DataFrame(
    {
        "registration_id": [1, 2, 3],
        "person_id": [10, 20, 10],
        "start_date": [D(2023, 1, 1), D(2023, 1, 1), D(2023, 6, 1)],
        "end_date": [D(2023, 4, 11), None, None],
        "lead_agency": ["wessex-police", "probation-wessex", "wessex-police"],
        "lead_worker": [1, 2, 3],
    }
)
RAG = pl.DataFrame(
    {
        "registration_id": [1, 1, 1, 2],
        "assessed_on": [D(2023, 1, 1), D(2023, 1, 31), D(2023, 3, 2), D(2023, 1, 11)],
        "status": ["amber", "red", "green", "red"],
    }
)
STATUS = pl.DataFrame(
    {
        "registration_id": [1, 2, 2, 2],
        "changed_on": [D(2023, 1, 1), D(2023, 1, 1), D(2023, 2, 1), D(2023, 2, 11)],
        "to_status": ["active", "active", "in_custody", "active"],
    }
)
INVOLVEMENTS = pl.DataFrame(
    {
        "person_id": [10, 10, 10, 20],
        "agency": ["wessex-police", "harbour-housing", "turning-point-wessex", "probation-wessex"],
        "start_date": [D(2022, 1, 1), D(2023, 2, 1), D(2023, 5, 1), D(2023, 1, 1)],
        "end_date": [None, D(2023, 3, 1), None, None],
    }
)
APPOINTMENTS = pl.DataFrame(
    {
        "registration_id": [1, 1, 2],
        "appointments_kept": [3, 2, None],
        "appointments_missed": [1, 2, None],
    }
)
OUTCOMES = pl.DataFrame(
    {
        "registration_id": [1, 2],
        "complete": [True, False],
        "reoffended": [1, None],
        "reoffences": [2, None],
    }
)


LATER = D(2023, 4, 30)


def _rows(as_of: dt.date = LATER) -> dict[int, dict[str, Any]]:
    result = dosage(
        REGISTRATIONS,
        rag=RAG,
        status_changes=STATUS,
        involvements=INVOLVEMENTS,
        appointments=APPOINTMENTS,
        outcomes=OUTCOMES,
        as_of=as_of,
    )
    return {r["registration_id"]: r for r in result.people.iter_rows(named=True)}


def test_days_at_each_rag_status_and_in_custody() -> None:
    rows = _rows()
    r1 = rows[1]
    assert r1["days_registered"] == 100
    assert (r1["days_amber"], r1["days_red"], r1["days_green"]) == (30, 30, 40)
    assert r1["days_not_assessed"] == 0
    assert r1["share_red"] == pytest.approx(0.3)
    # R2 is current: counted to the as-of date
    r2 = _rows(AS_OF)[2]
    assert r2["days_registered"] == 60
    assert (r2["days_not_assessed"], r2["days_red"], r2["days_green"]) == (10, 50, 0)
    assert r2["days_in_custody"] == 10
    assert 3 not in _rows(AS_OF)  # registered after the as-of date


def test_agencies_lead_changes_and_reported_appointments() -> None:
    rows = _rows(D(2023, 7, 1))
    # R1 (1 Jan – 11 Apr): police throughout, housing Feb; drugs service only from May
    assert rows[1]["agencies_involved"] == 2
    assert rows[3]["agencies_involved"] == 2  # police and the drugs service
    assert (rows[1]["lead_worker_changes"], rows[3]["lead_worker_changes"]) == (0, 1)
    assert (rows[1]["lead_agency_changes"], rows[3]["lead_agency_changes"]) == (0, 0)
    # R1: 8 appointments reported (5 kept) over 100 days
    assert rows[1]["appointments_reported_per_month"] == pytest.approx(8 / (100 / MONTH_DAYS))
    assert rows[1]["appointments_kept_share"] == pytest.approx(5 / 8)
    assert rows[2]["appointments_reported_per_month"] is None  # nothing reported
    assert rows[3]["appointments_reported_per_month"] is None


def test_outcomes_by_band_are_labelled_descriptive() -> None:
    result = dosage(
        REGISTRATIONS,
        rag=RAG,
        status_changes=STATUS,
        involvements=INVOLVEMENTS,
        appointments=APPOINTMENTS,
        outcomes=OUTCOMES,
        as_of=D(2023, 4, 30),
    )
    bands = {(b["measure"], b["band"]): b for b in result.bands}
    # R1 (30% red, complete, reoffended) and R2 (red since day 10, not complete)
    quarter = bands[("share_red", "a quarter or more")]
    assert (quarter["registrations"], quarter["complete"]) == (2, 1)
    assert quarter["reoffending_rate"] == 1.0 and quarter["reoffences_per_person"] == 2.0
    assert bands[("appointments_reported_per_month", "2 to under 4")]["registrations"] == 1
    assert bands[("appointments_reported_per_month", "not reported")]["complete"] == 0
    assert result.label == DESCRIPTIVE_NOTE and "not causal" in DESCRIPTIVE_NOTE
    assert {DESCRIPTIVE_NOTE, CONTACTS_NOTE, LEAD_CHANGES_NOTE} <= set(result.notes)
    assert "not recorded yet" in CONTACTS_NOTE and "later release" in CONTACTS_NOTE
    summary = result.summary
    assert (summary["registrations"], summary["people"]) == (2, 2)
    assert summary["mean_days_red"] == pytest.approx((30 + 109) / 2)  # R2: 10 Jan – 30 Apr red
    json.dumps(result.to_dict())
    without = dosage(
        REGISTRATIONS,
        rag=RAG,
        status_changes=STATUS,
        involvements=INVOLVEMENTS,
        as_of=D(2023, 4, 30),
    )
    assert without.bands == [] and any("No outcomes" in n for n in without.notes)


def test_missing_columns_are_named() -> None:
    with pytest.raises(OutcomeError, match=r"rag: missing column.*status"):
        dosage(
            REGISTRATIONS,
            rag=RAG.drop("status"),
            status_changes=STATUS,
            involvements=INVOLVEMENTS,
            as_of=AS_OF,
        )


@pytest.mark.django_db
def test_cohort_dosage_from_the_database(
    make_person: Any, personas: dict[str, Any], offence_code: Any
) -> None:
    police = Agency.objects.get(code="wessex-police")
    housing = Agency.objects.get(code="harbour-housing")
    worker = personas["police.officer"]
    person = make_person()
    start = D(2023, 1, 1)
    registration = Registration.objects.create(
        person=person,
        cohort=CohortDefinition.in_force("fixed", start),
        cohort_key="fixed",
        lead_agency=police,
        lead_worker=worker,
        start_date=start,
        review_date=start,
        planned_end_date=start,
        status="deregistered",
        status_since=D(2023, 4, 11),
        end_date=D(2023, 4, 11),
        created_by=worker,
    )
    RegistrationStatusChange.objects.create(
        registration=registration,
        to_status="active",
        changed_on=start,
        changed_by=worker,
    )
    policy = RagPolicy.in_force("rag", start)
    for on, status, kept, missed in (
        (start, "amber", 3, 1),
        (D(2023, 1, 31), "red", 2, 2),
        (D(2023, 3, 2), "green", None, None),
    ):
        RagAssessment.objects.create(
            registration=registration,
            person=person,
            status=status,
            assessed_on=on,
            reason="test",
            suggested_status=status,
            suggestion_reasons=[],
            evidence={"reported": {"appointments_kept": kept, "appointments_missed": missed}},
            differs_from_suggestion=False,
            policy=policy,
            assessed_by=worker,
        )
    Involvement.objects.create(person=person, agency=police, start_date=start)
    Involvement.objects.create(person=person, agency=housing, start_date=D(2023, 2, 1))
    Offence.objects.create(
        person=person,
        offence_code=offence_code("028/01"),
        offence_date=D(2023, 5, 1),
        disposal_date=D(2023, 6, 1),
        disposal_type="fine",
    )
    result = cohort_dosage(as_of=D(2025, 1, 1), cohorts=["fixed"])
    row = result.people.row(0, named=True)
    assert (row["days_amber"], row["days_red"], row["days_green"]) == (30, 30, 40)
    assert row["agencies_involved"] == 2
    assert row["appointments_reported_per_month"] == pytest.approx(8 / (100 / MONTH_DAYS))
    bands = {(b["measure"], b["band"]): b for b in result.bands}
    band = bands[("share_red", "a quarter or more")]
    assert (band["complete"], band["reoffending_rate"]) == (1, 1.0)
    assert (
        cohort_dosage(as_of=D(2025, 1, 1), lead_agency="probation-wessex").summary["registrations"]
        == 0
    )
