"""Database mode: the treated group, the time-aligned comparison pool, covariates and outcomes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from django.db import connection, transaction

from openiom.cohort.models import CohortDefinition, Registration
from openiom.evaluation import comparison
from openiom.evaluation.comparison import (
    DEFAULT_COVARIATES,
    AreaData,
    ComparisonError,
    TreatmentSelection,
    build_frame,
    evaluation_spec,
    frame_from_area,
    load_area,
)
from openiom.evaluation.methods.pipeline import evaluate_frame
from openiom.offending.models import Offence
from openiom.partnership.models import Agency
from openiom.people.models import CustodyEpisode
from openiom.reference.models import OffenceCode
from openiom.scoring import dbload, ogrs3
from openiom.scoring.defaults import HARM_TABLE

D = dt.date
AS_OF = D(2025, 6, 30)
INDEX = D(2023, 3, 15)  # T1's registration: the only complete, eligible treated index date


def _code(category: str) -> OffenceCode:
    """A code of the category that the harm table does not override by group."""
    code = (
        OffenceCode.objects.filter(category=category)
        .exclude(group_code__in=list(HARM_TABLE["groups"]))
        .order_by("code")
        .first()
    )
    assert code is not None
    return code


@pytest.fixture
def area(make_person: Any, personas: dict[str, Any]) -> dict[str, Any]:
    """People whose fate in the table is worked out by hand in the tests below."""
    violence, burglary, drugs = (
        _code("Violence against the person"),
        _code("Burglary (domestic)"),
        _code("Drug possession or supply"),
    )
    police = Agency.objects.get(code="wessex-police")
    worker = personas["police.officer"]
    fixed = CohortDefinition.in_force("fixed", INDEX)
    flex = CohortDefinition.in_force("flex", INDEX)

    def offence(
        person: Any, code: OffenceCode, committed: dt.date, proven: dt.date, **kw: Any
    ) -> None:
        Offence.objects.create(
            person=person,
            offence_code=code,
            offence_date=committed,
            disposal_date=proven,
            disposal_type=kw.get("disposal", "community_order"),
        )

    def register(person: Any, cohort: CohortDefinition, start: dt.date) -> Registration:
        return Registration.objects.create(
            person=person,
            cohort=cohort,
            cohort_key=cohort.key,
            lead_agency=police,
            lead_worker=worker,
            start_date=start,
            review_date=start + dt.timedelta(days=28),
            planned_end_date=start + dt.timedelta(days=365),
            status="active",
            status_since=start,
            created_by=worker,
        )

    people: dict[str, Any] = {}
    # T1: treated, complete window, eligible
    t1 = people["T1"] = make_person(date_of_birth=D(1990, 5, 10), sex="M")
    offence(t1, violence, D(2019, 1, 1), D(2019, 2, 1))
    offence(t1, burglary, D(2022, 9, 1), D(2022, 10, 1))
    offence(t1, drugs, D(2023, 2, 1), D(2023, 3, 1), disposal="custody")
    # sentenced on the same day as the drugs offence, but less serious (fewer harm days)
    offence(t1, _code("Criminal damage"), D(2023, 1, 20), D(2023, 3, 1))
    offence(t1, burglary, D(2023, 6, 1), D(2023, 7, 1))  # the reoffence, day 78
    CustodyEpisode.objects.create(
        person=t1, custody_type="sentenced", received_date=D(2020, 1, 1), release_date=D(2020, 3, 1)
    )
    register(t1, fixed, INDEX)
    # T2: registered too late for a complete outcome window (final on 30 November 2025)
    t2 = people["T2"] = make_person()
    offence(t2, burglary, D(2024, 3, 1), D(2024, 4, 1))
    register(t2, fixed, D(2024, 6, 1))
    # T3: registered without an offence in the year before (partner referral)
    t3 = people["T3"] = make_person()
    offence(t3, burglary, D(2021, 1, 1), D(2021, 2, 1))
    register(t3, fixed, D(2023, 4, 1))
    # C1: eligible comparison person
    c1 = people["C1"] = make_person(date_of_birth=D(1985, 1, 1), sex="F")
    offence(c1, burglary, D(2022, 12, 1), D(2023, 1, 10))
    # C2: in custody on the index date
    c2 = people["C2"] = make_person()
    offence(c2, burglary, D(2023, 1, 1), D(2023, 3, 1))
    CustodyEpisode.objects.create(
        person=c2, custody_type="sentenced", received_date=D(2023, 3, 1), release_date=D(2023, 5, 1)
    )
    # C3: already registered (Flex) before the index date
    c3 = people["C3"] = make_person()
    offence(c3, burglary, D(2022, 12, 1), D(2023, 1, 5))
    register(c3, flex, D(2023, 1, 10))
    # C4: aged 17 on the index date
    c4 = people["C4"] = make_person(date_of_birth=D(2005, 6, 1))
    offence(c4, burglary, D(2022, 12, 1), D(2023, 1, 5))
    # C5: no offence in the year before
    c5 = people["C5"] = make_person()
    offence(c5, burglary, D(2020, 12, 1), D(2021, 1, 5))
    # C6: died before the index date
    c6 = people["C6"] = make_person(date_of_death=D(2023, 2, 1))
    offence(c6, burglary, D(2022, 12, 1), D(2023, 1, 5))
    # C7: eligible, registered (Flex) later, during their follow-up
    c7 = people["C7"] = make_person()
    offence(c7, burglary, D(2022, 12, 1), D(2023, 1, 5))
    register(c7, flex, D(2023, 6, 1))
    return {"people": people, "codes": (violence, burglary, drugs)}


SELECTION = TreatmentSelection(cohorts=("fixed",), label="Fixed cohort")


@pytest.mark.django_db
def test_treated_pool_attrition_and_hand_computed_covariates(area: dict[str, Any]) -> None:
    people = area["people"]
    _violence, burglary, drugs = area["codes"]
    extra = [
        "offences_total",
        "offences_last_90_days",
        "arrests_last_year",
        "age",  # asked for twice: one column
    ]
    frame, attrition = build_frame(
        selection=SELECTION, as_of=AS_OF, covariates=[*DEFAULT_COVARIATES, *extra]
    )
    n_people = len(people)  # the fixture's people are the whole area
    assert attrition == [
        ("registrations selected", 3, n_people - 3),
        ("matched to data", 3, n_people - 3),
        ("eligible / outcome window complete", 1, 2),
    ]
    ids = {pk.pk: name for name, pk in people.items()}
    assert sorted(ids[p] for p in frame["person_id"]) == ["C1", "C7", "T1"]
    by = {ids[r["person_id"]]: r for r in frame.iter_rows(named=True)}
    # every comparison person gets the (only) treated index date
    assert {r["index_date"] for r in by.values()} == {INDEX}
    assert by["T1"]["treated"] == 1 and by["C1"]["treated"] == 0
    assert by["T1"]["cohort"] == "fixed" and by["T1"]["registration_id"] is not None
    assert by["T1"]["index_quarter"] == "2023Q1"
    assert (by["C7"]["registered_in_follow_up"], by["C1"]["registered_in_follow_up"]) == (1, 0)

    t1 = by["T1"]
    assert t1["age"] == 32  # born 10 May 1990
    assert t1["sex"] == "M"
    # offences before 15 March 2023: 1 Jan 2019, 1 Sep 2022, 20 Jan 2023, 1 Feb 2023
    assert t1["offences_total"] == 4
    assert t1["offences_last_year"] == 3
    assert t1["offences_last_90_days"] == 2  # 20 Jan and 1 Feb 2023
    assert t1["arrests_last_year"] == 0
    assert t1["offences_last_3_years"] == 3
    assert (t1["history_violence"], t1["history_acquisitive"], t1["history_drugs"]) == (1, 1, 1)
    assert t1["history_other"] == 1  # criminal damage
    assert t1["days_since_last_offence"] == 42  # 1 Feb to 15 Mar 2023
    assert t1["days_since_last_sanction"] == 14  # sentenced on 1 Mar 2023
    # first sanction 1 Feb 2019: 1,503 days before the index date
    assert t1["years_since_first_sanction"] == pytest.approx(1503 / 365.25)
    assert t1["custody_history"] == 1
    harm = HARM_TABLE["categories"]
    assert t1["harm_last_year"] == (
        harm[burglary.category]["days"]
        + harm[drugs.category]["days"]
        + harm["Criminal damage"]["days"]
    )
    assert harm[drugs.category]["days"] > harm["Criminal damage"]["days"]
    nbh = int(burglary.is_neighbourhood_crime) + int(drugs.is_neighbourhood_crime)
    assert t1["neighbourhood_share"] == pytest.approx(nbh / 3)
    # OGRS3: three sanctions (2019-02-01, 2022-10-01, 2023-03-01); current conviction at 32,
    # first at 28, age 32 at the start of follow-up; of the two offences sentenced on 1 March
    # 2023 the drugs offence is the more serious, so it is the current offence
    expected = ogrs3.ogrs3(
        sanctions=3,
        age_at_current_conviction=32,
        age_at_first_sanction=28,
        age_at_start=32,
        sex="M",
        offence_weight=ogrs3.offence_weight(
            ogrs3_weight=drugs.ogrs3_weight, category=drugs.category
        ),
    )
    assert t1["ogrs3_2yr"] == pytest.approx(expected.two_year)
    # outcome: the burglary on 1 June 2023 (day 78), proven 1 July 2023
    assert (t1["reoffended"], t1["reoffences"], t1["days_to_reoffence"]) == (1, 1, 78)
    assert t1["reoffence_event"] == 1
    assert t1["harm_days"] == harm[burglary.category]["days"]
    assert t1["custody"] == 0
    c1 = by["C1"]
    assert (c1["reoffended"], c1["days_to_reoffence"], c1["reoffence_event"]) == (0, 365, 0)
    assert c1["age"] == 38 and c1["sex"] == "F"
    assert c1["ogrs3_2yr"] is not None
    # The columns the pipeline is told about exist and are complete for these rows.
    spec = evaluation_spec()
    for column in (spec.treatment, spec.outcome, spec.frequency, spec.time, spec.event, spec.harm):
        assert column in frame.columns and frame[column].null_count() == 0
    assert [c for c in DEFAULT_COVARIATES if c not in frame.columns] == []


@pytest.mark.django_db
def test_build_frame_is_load_area_plus_frame_from_area_and_reproducible(
    area: dict[str, Any],
) -> None:
    stages: list[tuple[str, float]] = []
    frame, attrition = build_frame(
        selection=SELECTION, as_of=AS_OF, progress=lambda s, f: stages.append((s, f))
    )
    again, attrition_again = frame_from_area(load_area(AS_OF), selection=SELECTION, as_of=AS_OF)
    assert frame.equals(again) and attrition == attrition_again
    assert stages[0] == ("loading the area's records", 0.0) and stages[-1][1] == 1.0
    assert [f for _s, f in stages] == sorted(f for _s, f in stages)


@pytest.mark.django_db
def test_selection_filters_and_errors(area: dict[str, Any]) -> None:
    with pytest.raises(ComparisonError, match="no registrations match"):
        build_frame(selection=TreatmentSelection(lead_agency="probation-wessex"), as_of=AS_OF)
    with pytest.raises(ComparisonError, match="registrations must start on or before 2022-01-01"):
        build_frame(selection=SELECTION, as_of=D(2023, 7, 2))
    with pytest.raises(ComparisonError, match="unknown covariate"):
        build_frame(selection=SELECTION, as_of=AS_OF, covariates=["age", "shoe_size"])
    with pytest.raises(ComparisonError, match="no selected registration met the eligibility"):
        build_frame(
            selection=TreatmentSelection(cohorts=("fixed",), registered_from=D(2023, 4, 1)),
            as_of=AS_OF,
        )
    # by name as well as by key; lead agency by code; hubs
    frame, _ = build_frame(
        selection=TreatmentSelection(cohorts=("Fixed cohort",), lead_agency="wessex-police"),
        as_of=AS_OF,
    )
    assert int(frame["treated"].sum()) == 1
    with pytest.raises(ComparisonError, match="eligibility"):
        build_frame(selection=TreatmentSelection(cohorts=("fixed",), hubs=("south",)), as_of=AS_OF)
    # C7, registered (Flex) during their follow-up, leaves the pool with the sensitivity option
    frame, attrition = build_frame(
        selection=dataclasses.replace(SELECTION, pool_unregistered_through_follow_up=True),
        as_of=AS_OF,
    )
    assert attrition[-1] == ("eligible / outcome window complete", 1, 1)
    with pytest.raises(ComparisonError, match="look_back_days"):
        TreatmentSelection(look_back_days=0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgresql_fast_path_reads_the_same_table(
    area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = dbload._load_adbc

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dbload, "_load_adbc", counted)
    fast, attrition = build_frame(selection=SELECTION, as_of=AS_OF)  # ADBC: committed data
    assert calls
    with transaction.atomic():  # Django's own connection (COPY)
        slow, attrition_slow = build_frame(selection=SELECTION, as_of=AS_OF)
    assert len(calls) == 1
    assert fast.equals(slow) and attrition == attrition_slow


# --- the pool rule at scale, without the database --------------------------------------------


def _synthetic_area(n_pool: int = 3000, seed: int = 0) -> AreaData:
    """A pool who offend every month (always eligible unless in custody); 30 treated people
    registered in 2023 Q1 and 10 in 2023 Q3."""
    rng = np.random.default_rng(seed)
    n = n_pool + 40
    ids = np.arange(1, n + 1)
    months = pl.date_range(D(2020, 1, 5), D(2025, 6, 5), "1mo", eager=True)
    offences = (
        pl.DataFrame({"person_id": ids})
        .join(pl.DataFrame({"offence_date": months}), how="cross")
        .filter(pl.Series(rng.random(n * len(months)) < 0.5))
        .with_columns(
            (pl.col("offence_date") + pl.duration(days=30)).alias("disposal_date"),
            pl.lit("fine").alias("disposal_type"),
            pl.lit("Theft (non-motor)").alias("category"),
            pl.lit(7.0).alias("harm_days"),
            pl.lit(False).alias("is_neighbourhood_crime"),
            pl.lit(0.66).alias("offence_weight"),
            pl.lit(1).alias("code_priority"),
        )
    )
    treated_ids = ids[:40]
    starts = [D(2023, 1, 10) + dt.timedelta(days=2 * i) for i in range(30)] + [
        D(2023, 8, 1) + dt.timedelta(days=3 * i) for i in range(10)
    ]
    registrations = pl.DataFrame(
        {
            "registration_id": treated_ids,
            "person_id": treated_ids,
            "cohort_key": "fixed",
            "cohort_name": "Fixed cohort",
            "lead_agency": "wessex-police",
            "start_date": starts,
            "end_date": [None] * 40,
        },
        schema_overrides={"end_date": pl.Date},
    )
    people = pl.DataFrame(
        {
            "person_id": ids,
            "date_of_birth": [D(1990, 1, 1)] * n,
            "sex": rng.choice(["M", "F"], n).tolist(),
            "hub": "north",
            "date_of_death": [None] * n,
        },
        schema_overrides={"date_of_death": pl.Date},
    )
    # person 41 (the first pool person) is in custody through 2023 Q1 only
    custody = pl.DataFrame(
        {"person_id": [41], "received_date": [D(2022, 12, 1)], "release_date": [D(2023, 5, 1)]}
    )
    return AreaData(
        people=people,
        offences=offences,
        custody=custody,
        arrests=pl.DataFrame(schema={"person_id": pl.Int64, "arrest_date": pl.Date}),
        registrations=registrations,
    )


def test_pool_index_dates_follow_the_treated_calendar_reproducibly() -> None:
    data = _synthetic_area()
    selection = TreatmentSelection(seed=7)
    frame, attrition = frame_from_area(data, selection=selection, as_of=AS_OF)
    treated = frame.filter(pl.col("treated") == 1)
    pool = frame.filter(pl.col("treated") == 0)
    assert treated.height == 40 and attrition[-1][1] == 40
    # each pool person's date is one of the treated index dates ...
    assert set(pool["index_date"]) <= set(treated["index_date"])
    # ... chosen in proportion to the treated dates per quarter (30:10), within sampling error
    share_q1 = float((pool["index_quarter"] == "2023Q1").mean())  # type: ignore[arg-type]
    sd = (0.75 * 0.25 / pool.height) ** 0.5
    assert abs(share_q1 - 0.75) < 4 * sd
    # in custody through Q1: only a Q3 date is possible
    assert pool.filter(pl.col("person_id") == 41)["index_quarter"].to_list() == ["2023Q3"]
    # reproducible with the same seed; another seed draws differently
    again, _ = frame_from_area(data, selection=selection, as_of=AS_OF)
    assert frame.equals(again)
    other, _ = frame_from_area(data, selection=dataclasses.replace(selection, seed=8), as_of=AS_OF)
    assert not frame["index_date"].equals(other["index_date"])
    assert other.filter(pl.col("treated") == 1).equals(treated)


def test_risk_set_pool_and_its_sensitivity_options() -> None:
    data = _synthetic_area()
    registered = dict(
        zip(data.registrations["person_id"], data.registrations["start_date"], strict=True)
    )
    frame, _ = frame_from_area(data, selection=TreatmentSelection(), as_of=AS_OF)
    pool = frame.filter(pl.col("treated") == 0)
    # treated people registered in Q3 are comparison people at earlier (Q1) dates: not yet
    # registered on the date they are compared on
    early = pool.filter(pl.col("person_id").is_in(list(registered)))
    assert early.height > 0
    for person, day in early.select("person_id", "index_date").iter_rows():
        assert day < registered[person]
    # and they are marked when their registration falls in their follow-up
    flagged = early.filter(pl.col("registered_in_follow_up") == 1)
    assert flagged.height == early.height  # registered within months, all inside the year
    excluded, _ = frame_from_area(
        data, selection=TreatmentSelection(exclude_treated_from_pool=True), as_of=AS_OF
    )
    through, _ = frame_from_area(
        data, selection=TreatmentSelection(pool_unregistered_through_follow_up=True), as_of=AS_OF
    )
    for other in (excluded, through):
        others = other.filter(pl.col("treated") == 0)
        assert not others["person_id"].is_in(list(registered)).any()
        assert others["registered_in_follow_up"].sum() == 0


def test_contamination_note() -> None:
    frame = pl.DataFrame({"registered_in_follow_up": [0, 1, 1, 0, 0]})

    @dataclasses.dataclass
    class _Match:
        pair_control: list[int]

    @dataclasses.dataclass
    class _Result:
        matching: _Match

    note = comparison.contamination_note(frame, _Result(_Match([1, 2, 3, 3])))
    assert note.startswith("2 of the 3 matched comparison people (67%) were themselves registered")
    assert "smaller than the true one" in note
    assert comparison.contamination_note(frame, _Result(_Match([0, 3]))) == ""


def test_frame_runs_through_the_pipeline() -> None:
    frame, attrition = frame_from_area(
        _synthetic_area(n_pool=600), selection=TreatmentSelection(), as_of=AS_OF
    )
    covariates = ("age", "sex", "offences_last_year", "days_since_last_offence")
    result = evaluate_frame(
        frame,
        evaluation_spec(covariates, bootstrap_replicates=50),
        attrition=attrition,
    )
    assert [s for s, _t, _c in result.attrition][:3] == list(comparison.ATTRITION_STAGES)
    assert result.matching.n_treated == 40
    assert {e.measure for e in result.estimates} >= {"one_year_rate", "frequency", "harm"}
