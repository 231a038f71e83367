"""Cohort tracking: offences, harm and cost in equal windows before and after registration."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest

from openiom.cohort.models import CohortDefinition, Registration
from openiom.evaluation.outcomes import OutcomeError
from openiom.evaluation.tracking import (
    LARGE_FALL,
    REGRESSION_TO_THE_MEAN_WARNING,
    before_after,
    cohort_before_after,
)
from openiom.offending.models import Offence
from openiom.partnership.models import Agency
from openiom.scoring.defaults import COST_TABLE, HARM_TABLE

D = dt.date
I = D(2023, 1, 1)  # noqa: E741 (index date)
AS_OF = D(2025, 1, 1)


def _offences(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "person_id": pl.Int64,
            "offence_date": pl.Date,
            "disposal_date": pl.Date,
            "harm_days": pl.Float64,
            "unit_cost": pl.Float64,
        },
        orient="row",
    )


# Person 1 — window W = 365 days, waiting 182 days:
#   before [2022-01-01, 2023-01-01): a (counts), b (a day too early), c (proven on 2023-07-03,
#   a day after I + 182), d (counts); after (2023-01-01, 2024-01-01]: e (on the index date: no),
#   f (counts), g (day 365 proven on day 547: counts).
OFFENCES = _offences(
    [
        (1, D(2022, 3, 1), D(2022, 4, 1), 10.0, 100.0),  # a
        (1, D(2021, 12, 31), D(2022, 1, 15), 99.0, 999.0),  # b
        (1, D(2022, 12, 1), D(2023, 7, 3), 99.0, 999.0),  # c
        (1, D(2022, 12, 15), D(2023, 2, 1), 20.0, 200.0),  # d
        (1, I, D(2023, 2, 1), 99.0, 999.0),  # e
        (1, D(2023, 6, 1), D(2023, 7, 1), 1.0, 10.0),  # f
        (1, D(2024, 1, 1), D(2024, 7, 1), 2.0, 20.0),  # g
        # person 2: four before, one after
        *[(2, D(2022, m, 1), D(2022, m, 20), 5.0, 50.0) for m in (2, 4, 6, 8)],
        (2, D(2023, 3, 1), D(2023, 4, 1), 5.0, 50.0),
        # person 3: indexed on 2024-06-01, after window not complete on the as-of date
        (3, D(2024, 1, 1), D(2024, 2, 1), 5.0, 50.0),
    ]
)
INDEX = pl.DataFrame(
    {
        "person_id": [1, 2, 3],
        "index_date": [I, I, D(2024, 6, 1)],
        "cohort": ["fixed", "flex", "fixed"],
    }
)


def test_windows_waiting_period_and_totals() -> None:
    view = before_after(OFFENCES, INDEX, as_of=AS_OF, group="cohort")
    people = {r["person_id"]: r for r in view.people.iter_rows(named=True)}
    p1 = people[1]
    assert (p1["offences_before"], p1["offences_after"]) == (2, 2)  # a, d / f, g
    assert (p1["harm_before"], p1["harm_after"]) == (30.0, 3.0)
    assert (p1["cost_before"], p1["cost_after"]) == (300.0, 30.0)
    assert p1["after_complete"] is True
    assert (people[2]["offences_before"], people[2]["offences_after"]) == (4, 1)
    assert people[3]["after_complete"] is False
    everyone = view.groups[0]
    assert everyone["group"] == "All"
    assert (everyone["people"], everyone["people_complete"], everyone["people_incomplete"]) == (
        3,
        2,
        1,
    )
    # person 3 is left out of the figures: 6 offences before, 3 after
    assert (everyone["offences_before"], everyone["offences_after"]) == (6.0, 3.0)
    assert everyone["offences_change"] == -0.5
    assert everyone["offences_before_per_person"] == 3.0
    assert everyone["share_offending_after"] == 1.0
    assert everyone["harm_change"] == pytest.approx((8.0 - 50.0) / 50.0)
    fixed, flex = view.groups[1], view.groups[2]
    assert (fixed["group"], fixed["offences_change"]) == ("fixed", 0.0)
    assert (flex["group"], flex["offences_change"]) == ("flex", -0.75)


def test_large_fall_is_flagged_as_regression_to_the_mean_never_impact() -> None:
    view = before_after(OFFENCES, INDEX, as_of=AS_OF, group="cohort")
    assert LARGE_FALL == 0.2
    everyone, fixed, flex = view.groups
    assert everyone["large_fall"] and flex["large_fall"] and not fixed["large_fall"]
    assert view.large_fall
    assert "fell by 50%" in everyone["note"]
    assert "regression to the mean" in everyone["note"]
    assert "did not change" in fixed["note"] and "regression" not in fixed["note"]
    data = view.to_dict()
    json.dumps(data)  # plain data
    assert data["warning"] == REGRESSION_TO_THE_MEAN_WARNING
    assert "regression to the mean" in data["warning"]
    text = json.dumps(data).lower()
    assert "impact" not in text


def test_warning_is_there_even_without_a_fall_or_any_offences() -> None:
    view = before_after(OFFENCES.head(0), INDEX.head(2), as_of=AS_OF)
    assert view.groups[0]["offences_change"] is None and not view.large_fall
    assert view.warning == REGRESSION_TO_THE_MEAN_WARNING
    assert view.to_dict()["warning"] == REGRESSION_TO_THE_MEAN_WARNING


def test_bad_input() -> None:
    with pytest.raises(OutcomeError, match="index: missing column"):
        before_after(OFFENCES, INDEX.drop("index_date"), as_of=AS_OF)
    with pytest.raises(OutcomeError, match="no column 'scheme'"):
        before_after(OFFENCES, INDEX, as_of=AS_OF, group="scheme")
    with pytest.raises(OutcomeError, match="window_days"):
        before_after(OFFENCES, INDEX, as_of=AS_OF, window_days=0)
    with pytest.raises(OutcomeError, match="the same ids are needed in both"):
        before_after(OFFENCES, INDEX.with_columns(pl.col("person_id").cast(pl.String)), as_of=AS_OF)


@pytest.mark.django_db
def test_cohort_before_after_from_the_database(
    make_person: Any, personas: dict[str, Any], offence_code: Any
) -> None:
    code = offence_code("028/01")
    police = Agency.objects.get(code="wessex-police")
    worker = personas["police.officer"]
    person = make_person()
    for committed, proven in (
        (D(2022, 5, 1), D(2022, 6, 1)),
        (D(2022, 9, 1), D(2022, 10, 1)),
        (D(2023, 4, 1), D(2023, 5, 1)),
    ):
        Offence.objects.create(
            person=person,
            offence_code=code,
            offence_date=committed,
            disposal_date=proven,
            disposal_type="fine",
        )
    fixed = CohortDefinition.in_force("fixed", I)
    for start in (I, D(2024, 1, 1)):  # a second, later registration is not counted again
        Registration.objects.create(
            person=person,
            cohort=fixed,
            cohort_key="fixed",
            lead_agency=police,
            lead_worker=worker,
            start_date=start,
            review_date=start,
            planned_end_date=start,
            status="deregistered" if start == I else "active",
            end_date=D(2023, 6, 1) if start == I else None,
            status_since=start,
            created_by=worker,
        )
    view = cohort_before_after(as_of=AS_OF)
    assert [g["group"] for g in view.groups] == ["All", "fixed"]
    everyone = view.groups[0]
    assert (everyone["people"], everyone["offences_before"], everyone["offences_after"]) == (
        1,
        2.0,
        1.0,
    )
    harm = HARM_TABLE["categories"][code.category]["days"]
    cost = COST_TABLE["categories"][code.category]["cost"]
    assert (everyone["harm_before"], everyone["cost_after"]) == (2 * harm, cost)
    nobody = cohort_before_after(as_of=AS_OF, cohorts=["flex"])
    assert nobody.groups[0]["people"] == 0 and nobody.groups[0]["offences_change"] is None
