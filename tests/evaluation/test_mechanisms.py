"""Mechanisms ("dosage"): time at each RAG status, agencies, lead changes, contacts."""

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
    assert not any("not recorded yet" in note for note in result.notes)
    assert "contact log" in CONTACTS_NOTE and "within the registration" in LEAD_CHANGES_NOTE
    # without a contact log or lead changes the notes say so (and contact measures are empty)
    assert any("No contact log" in n for n in result.notes)
    assert result.people["contacts_per_month"].is_null().all()
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


# Contacts in R1 (1 Jan – 11 Apr 2023, 100 days) and R2; the last R1 row is after it ended.
CONTACTS = pl.DataFrame(
    {
        "registration_id": [1, 1, 1, 1, 1, 1, 1, 1, 2],
        "contact_date": [
            D(2023, 1, 5),
            D(2023, 1, 12),
            D(2023, 1, 19),
            D(2023, 2, 2),
            D(2023, 2, 3),
            D(2023, 3, 1),
            D(2023, 3, 8),
            D(2023, 4, 20),
            D(2023, 1, 20),
        ],
        "kind": [
            "appointment",
            "appointment",
            "appointment",
            "drug_test",
            "drug_test",
            "home_visit",
            "drug_test",
            "home_visit",
            "prison_visit",
        ],
        "attendance": ["kept", "missed", "kept", None, None, None, None, None, None],
        "drug_test_result": [
            None,
            None,
            None,
            "positive",
            "negative",
            None,
            "negative",
            None,
            None,
        ],
        "agency": [
            "wessex-police",
            "wessex-police",
            "wessex-police",
            "turning-point-wessex",
            "turning-point-wessex",
            "wessex-police",
            "turning-point-wessex",
            "second-chance-mentoring",
            "hmp-wessex",
        ],
    }
)
# R3 (person 10's second registration, lead worker 3 now) started with worker 1 and was handed
# over on 1 Jul 2023 (after the later as-of date of some checks) and again within R1.
LEAD_CHANGES = pl.DataFrame(
    {
        "registration_id": [1, 3],
        "changed_on": [D(2023, 2, 15), D(2023, 7, 1)],
        "from_worker": [9, 1],
        "from_agency": ["probation-wessex", "wessex-police"],
        "to_worker": [1, 3],
        "to_agency": ["wessex-police", "wessex-police"],
    }
)
PLAN_ACTIONS = pl.DataFrame(
    {
        "registration_id": [1, 1],
        "owner_agency": ["harbour-housing", "wessex-council"],
        "created_on": [D(2023, 1, 10), D(2023, 5, 1)],
    }
)


def _with_case_data(as_of: dt.date, **frames: Any) -> dict[int, dict[str, Any]]:
    result = dosage(
        REGISTRATIONS,
        rag=RAG,
        status_changes=STATUS,
        involvements=INVOLVEMENTS,
        appointments=APPOINTMENTS,
        outcomes=OUTCOMES,
        as_of=as_of,
        **frames,
    )
    return {r["registration_id"]: r for r in result.people.iter_rows(named=True)}


def test_contact_intensity_from_the_contact_log() -> None:
    rows = _with_case_data(LATER, contacts=CONTACTS)
    r1, r2 = rows[1], rows[2]
    months = 100 / MONTH_DAYS
    # 2 kept appointments, 3 drug tests, 1 home visit within R1; the April visit is after it
    assert r1["contacts"] == 6
    assert r1["contacts_per_month"] == pytest.approx(6 / months)
    assert r1["appointment_per_month"] == pytest.approx(2 / months)
    assert r1["drug_test_per_month"] == pytest.approx(3 / months)
    assert r1["home_visit_per_month"] == pytest.approx(1 / months)
    assert r1["phone_call_per_month"] == 0
    assert (r1["appointments_kept"], r1["appointments_missed"]) == (2, 1)
    assert r1["appointment_attendance"] == pytest.approx(2 / 3)
    assert (r1["drug_tests"], r1["drug_tests_positive"]) == (3, 1)
    assert r1["drug_tests_positive_share"] == pytest.approx(1 / 3)
    assert r2["contacts"] == 1 and r2["prison_visit_per_month"] > 0
    assert r2["appointment_attendance"] is None and r2["drug_tests_positive_share"] is None
    # the drug service (contacts) joins police and housing (involvements): R1 had three agencies
    assert r1["agencies_involved"] == 3
    result = dosage(
        REGISTRATIONS,
        rag=RAG,
        status_changes=STATUS,
        involvements=INVOLVEMENTS,
        contacts=CONTACTS,
        outcomes=OUTCOMES,
        as_of=LATER,
    )
    assert result.summary["drug_tests_positive_share"] == pytest.approx(1 / 3)
    assert result.summary["registrations_with_contacts"] == 2
    measures = {b["measure"] for b in result.bands}
    assert {"contacts_per_month", "appointment_attendance"} <= measures
    assert not any("No contact log" in n for n in result.notes)


def test_lead_changes_within_and_between_registrations() -> None:
    rows = _with_case_data(D(2023, 6, 15), lead_changes=LEAD_CHANGES)
    # R1: one handover within (probation worker 9 → police worker 1): worker and agency changed
    assert (rows[1]["lead_worker_changes_within"], rows[1]["lead_agency_changes_within"]) == (1, 1)
    # R3 started with worker 1, the worker R1 ended with: no change between; its handover on
    # 1 Jul is after the as-of date
    assert rows[3]["lead_worker_changes_between"] == 0
    assert rows[3]["lead_worker_changes_within"] == 0 and rows[3]["lead_worker_changes"] == 0
    later = _with_case_data(D(2023, 8, 1), lead_changes=LEAD_CHANGES)
    assert later[3]["lead_worker_changes_within"] == 1
    assert (later[3]["lead_worker_changes"], later[3]["lead_agency_changes"]) == (1, 0)
    assert later[1]["lead_worker_changes"] == 1 and later[1]["lead_agency_changes"] == 1


def test_plan_actions_add_their_owning_agencies_during_the_registration() -> None:
    base = _with_case_data(LATER)[1]["agencies_involved"]
    rows = _with_case_data(LATER, plan_actions=PLAN_ACTIONS)
    # housing is already involved; the council's action was added after R1 ended (11 Apr)
    assert rows[1]["agencies_involved"] == base == 2
    extra = PLAN_ACTIONS.with_columns(pl.lit(D(2023, 3, 1)).alias("created_on"))
    assert _with_case_data(LATER, plan_actions=extra)[1]["agencies_involved"] == 3


def _registration(person: Any, worker: Any, agency: Agency, start: dt.date) -> Registration:
    return Registration.objects.create(
        person=person,
        cohort=CohortDefinition.in_force("fixed", start),
        cohort_key="fixed",
        lead_agency=agency,
        lead_worker=worker,
        start_date=start,
        review_date=start,
        planned_end_date=start,
        status="active",
        status_since=start,
        created_by=worker,
    )


@pytest.mark.django_db
def test_case_records_change_exactly_their_measures(
    make_person: Any, personas: dict[str, Any]
) -> None:
    """Contacts, a lead-worker change, an involvement and a plan action on a registration each
    change the measures they feed, and nothing else."""
    from openiom.casework.models import Contact
    from openiom.cohort.models import LeadWorkerChange
    from openiom.plans.models import ManagementPlan, PlanAction

    police = Agency.objects.get(code="wessex-police")
    drugs = Agency.objects.get(code="turning-point-wessex")
    council = Agency.objects.get(code="wessex-council")
    priya, owen, dev = (personas[p] for p in ("police.officer", "probation.om", "drug.worker"))
    start, as_of = D(2024, 1, 1), D(2024, 7, 1)
    person = make_person()
    registration = _registration(person, priya, police, start)
    Involvement.objects.create(person=person, agency=police, start_date=start)

    def measures() -> dict[str, Any]:
        return cohort_dosage(as_of=as_of).people.row(0, named=True)

    def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
        return {k for k in before if before[k] != after[k]}

    contact_measures = {
        "contacts",
        "contacts_per_month",
        "appointment_per_month",
        "drug_test_per_month",
        "appointments_kept",
        "appointments_missed",
        "drug_tests",
        "drug_tests_positive",
        "appointment_attendance",
        "drug_tests_positive_share",
    }
    m0 = measures()
    assert m0["contacts"] == 0 and m0["contacts_per_month"] == 0
    assert m0["agencies_involved"] == 1 and m0["lead_worker_changes"] == 0

    # police contacts: changes contact measures only (police are already involved)
    common = {"person": person, "registration": registration, "recorded_by": priya}
    Contact.objects.create(
        **common, agency=police, worker=priya, kind="appointment", attendance="kept",
        contact_date=D(2024, 2, 1),
    )  # fmt: skip
    Contact.objects.create(
        **common, agency=police, worker=priya, kind="appointment", attendance="missed",
        contact_date=D(2024, 2, 8),
    )  # fmt: skip
    Contact.objects.create(
        **common, agency=police, worker=priya, kind="drug_test", drug_test_result="positive",
        contact_date=D(2024, 2, 9),
    )  # fmt: skip
    m1 = measures()
    assert changed(m0, m1) == contact_measures
    assert (m1["contacts"], m1["appointments_kept"], m1["appointments_missed"]) == (2, 1, 1)
    assert m1["drug_tests_positive_share"] == 1.0

    # a lead-worker handover (police → probation): lead-change measures only
    LeadWorkerChange.objects.create(
        registration=registration,
        from_agency=police,
        to_agency=Agency.objects.get(code="probation-wessex"),
        from_worker=priya,
        to_worker=owen,
        changed_on=D(2024, 3, 1),
        reason="Licence started",
        changed_by=priya,
    )
    m2 = measures()
    assert changed(m1, m2) == {
        "lead_worker_changes",
        "lead_worker_changes_within",
        "lead_agency_changes",
        "lead_agency_changes_within",
    }
    assert (m2["lead_worker_changes_within"], m2["lead_agency_changes_within"]) == (1, 1)

    # a new involvement (the council): agencies only
    Involvement.objects.create(person=person, agency=council, start_date=D(2024, 4, 1))
    m3 = measures()
    assert changed(m2, m3) == {"agencies_involved"} and m3["agencies_involved"] == 2

    # a drug-service contact: a new agency and more contacts
    Contact.objects.create(
        **common, agency=drugs, worker=dev, kind="phone_call", contact_date=D(2024, 4, 2)
    )
    m4 = measures()
    assert changed(m3, m4) == {"contacts", "contacts_per_month", "phone_call_per_month",
                               "agencies_involved"}  # fmt: skip
    assert m4["agencies_involved"] == 3

    # a plan action owned by housing: agencies only
    plan = ManagementPlan.objects.create(
        registration=registration, person=person, created_by=owen, updated_by=owen
    )
    PlanAction.objects.create(
        plan=plan,
        person=person,
        owner_agency=Agency.objects.get(code="harbour-housing"),
        action_type="support",
        description="Find a tenancy",
        due_date=D(2024, 5, 1),
        created_by=owen,
        updated_by=owen,
    )
    PlanAction.objects.filter(plan=plan).update(
        created_at=dt.datetime(2024, 4, 20, 10, tzinfo=dt.UTC)
    )
    m5 = measures()
    assert changed(m4, m5) == {"agencies_involved"} and m5["agencies_involved"] == 4
