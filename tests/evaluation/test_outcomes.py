"""The MoJ proven-reoffending rules (evaluation-methods.md §1), on hand-built worked examples.

Index date I = 2023-01-01 unless stated. Follow-up: offences committed on days 1..365 after I
(I + 365 = 2024-01-01). Waiting period: proven by I + 365 + 182 = 2024-07-01 (2024 is a leap year:
Jan 31 + Feb 29 + Mar 31 + Apr 30 + May 31 + Jun 30 = 182 days), when the outcome is final.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from openiom.evaluation.outcomes import (
    OUTCOME_COLUMNS,
    OutcomeError,
    OutcomeRules,
    current_tables,
    load_offences,
    proven_outcomes,
    summarise,
)
from openiom.offending.models import Offence
from openiom.scoring.defaults import COST_TABLE, HARM_KEY, HARM_TABLE
from openiom.scoring.models import CrimeHarmTable

D = dt.date
I = D(2023, 1, 1)  # noqa: E741 (the index date, as in the rules' notation)
AS_OF = D(2025, 1, 1)


def _offences(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "person_id": pl.Int64,
            "offence_date": pl.Date,
            "disposal_date": pl.Date,
            "harm_days": pl.Float64,
            "disposal_type": pl.String,
        },
        orient="row",
    )


def _index(rows: list[tuple[int, dt.date]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"person_id": pl.Int64, "index_date": pl.Date}, orient="row")


def _one(offences: list[tuple[Any, ...]], index: dt.date = I, as_of: dt.date = AS_OF) -> dict:
    out = proven_outcomes(_offences(offences), _index([(1, index)]), as_of=as_of)
    return out.row(0, named=True)


def test_final_date_and_complete_window() -> None:
    rules = OutcomeRules()
    assert rules.final_on(I) == D(2024, 7, 1)
    row = _one([])
    assert row["follow_up_end"] == D(2024, 1, 1)
    assert row["final_on"] == D(2024, 7, 1)
    assert row["complete"] is True
    # no reoffence: 0, censored at the end of the follow-up (365 days)
    assert (row["reoffended"], row["reoffences"], row["harm_days"]) == (0, 0, 0.0)
    assert (row["days_to_reoffence"], row["reoffence_event"]) == (365, 0)


def test_reoffence_committed_and_proven_in_time_counts() -> None:
    row = _one([(1, D(2023, 3, 1), D(2023, 5, 1), 7.5, "fine")])
    assert (row["reoffended"], row["reoffences"]) == (1, 1)
    # Jan (31) + Feb (28) = 59 days from 1 January to 1 March 2023
    assert (row["days_to_reoffence"], row["reoffence_event"]) == (59, 1)
    assert row["first_reoffence_date"] == D(2023, 3, 1)


def test_offence_in_follow_up_but_proven_after_the_waiting_period_does_not_count() -> None:
    # committed on day 334, convicted on day 548 (2 July 2024): one day too late
    row = _one([(1, D(2023, 12, 1), D(2024, 7, 2), 7.5, "fine")])
    assert (row["reoffended"], row["reoffences"]) == (0, 0)
    assert (row["days_to_reoffence"], row["reoffence_event"]) == (365, 0)


def test_boundaries_last_day_of_follow_up_and_of_waiting_period_count() -> None:
    # committed on day 365 (1 January 2024) and proven on day 547 (1 July 2024): counts
    row = _one([(1, D(2024, 1, 1), D(2024, 7, 1), 7.5, "fine")])
    assert (row["reoffended"], row["days_to_reoffence"], row["reoffence_event"]) == (1, 365, 1)
    # committed on day 366: outside the follow-up
    row = _one([(1, D(2024, 1, 2), D(2024, 2, 1), 7.5, "fine")])
    assert row["reoffended"] == 0


def test_offence_on_the_index_date_is_the_index_offence_not_a_reoffence() -> None:
    row = _one([(1, I, D(2023, 2, 1), 7.5, "fine")])
    assert row["reoffended"] == 0


def test_frequency_harm_and_custody() -> None:
    row = _one(
        [
            (1, D(2023, 6, 1), D(2023, 7, 1), 7.5, "fine"),
            (1, D(2023, 6, 1), D(2023, 7, 1), 7.5, "fine"),  # a second offence that day
            (1, D(2023, 8, 1), D(2023, 9, 1), 365.0, "custody"),
            (1, D(2022, 6, 1), D(2022, 7, 1), 99.0, "custody"),  # before the index date
            (1, D(2023, 9, 1), D(2024, 8, 1), 99.0, "custody"),  # proven too late
        ]
    )
    assert row["reoffences"] == 3  # offences, not occasions
    assert row["harm_days"] == 7.5 + 7.5 + 365.0
    assert (row["custodial_reoffences"], row["custody"]) == (1, 1)
    # 1 January to 1 June 2023: 31 + 28 + 31 + 30 + 31 = 151 days
    assert row["days_to_reoffence"] == 151


def test_unproven_offences_are_not_reoffences() -> None:
    row = _one([(1, D(2023, 3, 1), None, 7.5, None)])
    assert row["reoffended"] == 0


def test_incomplete_window_is_excluded_from_binary_frequency_and_harm() -> None:
    # I = 1 June 2024: final on 30 November 2025, after the as-of date
    row = _one([(1, D(2024, 6, 20), D(2024, 9, 1), 7.5, "fine")], index=D(2024, 6, 1))
    assert row["complete"] is False
    assert row["final_on"] == D(2025, 11, 30)
    for name in ("reoffended", "reoffences", "harm_days", "custodial_reoffences", "custody"):
        assert row[name] is None, name


def test_incomplete_window_censoring() -> None:
    # as of 1 January 2025 observation stops at as_of − 182 days = 3 July 2024
    cutoff = AS_OF - dt.timedelta(days=182)
    assert cutoff == D(2024, 7, 3)
    # an offence on 20 June 2024 proven by the as-of date: an event on day 19
    row = _one([(1, D(2024, 6, 20), D(2024, 9, 1), 7.5, "fine")], index=D(2024, 6, 1))
    assert (row["days_to_reoffence"], row["reoffence_event"]) == (19, 1)
    # committed after the cut-off: not counted; censored on 3 July (32 days after 1 June)
    row = _one([(1, D(2024, 8, 1), D(2024, 9, 1), 7.5, "fine")], index=D(2024, 6, 1))
    assert (row["days_to_reoffence"], row["reoffence_event"]) == (32, 0)
    # committed before the cut-off but proven after the as-of date: not known yet
    row = _one([(1, D(2024, 6, 20), D(2025, 2, 1), 7.5, "fine")], index=D(2024, 6, 1))
    assert (row["days_to_reoffence"], row["reoffence_event"]) == (32, 0)
    # indexed after the cut-off: no observation time at all
    row = _one([], index=D(2024, 12, 1))
    assert row["days_to_reoffence"] is None and row["reoffence_event"] is None


def test_several_index_rows_keep_order_and_columns() -> None:
    offences = _offences([(7, D(2023, 3, 1), D(2023, 4, 1), 1.0, "fine")])
    index = pl.DataFrame(
        {
            "person_id": [7, 8, 7],
            "index_date": [D(2023, 1, 1), D(2023, 1, 1), D(2023, 6, 1)],
            "registration": ["a", "b", "c"],
        }
    )
    out = proven_outcomes(offences, index, as_of=AS_OF)
    assert out.columns == [*index.columns, *OUTCOME_COLUMNS]
    assert out["registration"].to_list() == ["a", "b", "c"]
    assert out["reoffended"].to_list() == [1, 0, 0]  # the 1 March offence precedes the 1 June index


def test_custom_rules() -> None:
    rules = OutcomeRules(follow_up_days=180, waiting_days=90)
    out = proven_outcomes(
        _offences([(1, D(2023, 6, 1), D(2023, 7, 1), 1.0, "fine")]),
        _index([(1, I)]),
        as_of=AS_OF,
        rules=rules,
    )
    row = out.row(0, named=True)
    assert row["final_on"] == I + dt.timedelta(days=270)
    assert row["reoffended"] == 1  # day 151 is within 180 days
    assert "180 days" in rules.describe() and "90-day waiting period" in rules.describe()
    with pytest.raises(ValueError, match="follow_up_days"):
        OutcomeRules(follow_up_days=0)


def test_integer_ids_of_different_widths_are_joined() -> None:
    offences = _offences([(1, D(2023, 3, 1), D(2023, 4, 1), 1.0, "fine")])
    index = _index([(1, I)]).with_columns(pl.col("person_id").cast(pl.Int32))
    out = proven_outcomes(offences, index, as_of=AS_OF)
    assert out.schema["person_id"] == pl.Int32 and out["reoffended"].to_list() == [1]


def test_optional_columns_and_text_dates() -> None:
    offences = pl.DataFrame(
        {"person_id": [1], "offence_date": ["2023-03-01"], "disposal_date": ["2023-04-01"]}
    )
    out = proven_outcomes(offences, _index([(1, I)]), as_of=AS_OF).row(0, named=True)
    assert out["reoffended"] == 1
    assert out["harm_days"] is None and out["custody"] is None  # not given, not invented


def test_summary_per_100_style_figures() -> None:
    offences = _offences(
        [
            (1, D(2023, 3, 1), D(2023, 4, 1), 1.0, "fine"),
            (1, D(2023, 5, 1), D(2023, 6, 1), 1.0, "fine"),
            (1, D(2023, 7, 1), D(2023, 8, 1), 1.0, "fine"),
        ]
    )
    index = _index([(1, I), (2, I), (3, D(2024, 12, 1))])
    s = summarise(proven_outcomes(offences, index, as_of=AS_OF))
    # two complete windows, one reoffender with three reoffences
    assert (s["complete"], s["incomplete"], s["reoffenders"]) == (2, 1, 1)
    assert s["rate"] == 0.5
    assert s["reoffences_per_person"] == 1.5
    assert s["reoffences_per_reoffender"] == 3.0


@pytest.mark.parametrize(
    ("offences", "index", "message"),
    [
        (
            pl.DataFrame({"person_id": [1], "offence_date": [I]}),
            _index([(1, I)]),
            "offences: missing column(s) disposal_date",
        ),
        (
            _offences([(1, D(2023, 3, 1), D(2023, 2, 1), 1.0, "fine")]),
            _index([(1, I)]),
            "offences, row 1, column 'disposal_date': is before the offence date",
        ),
        (
            _offences([]),
            pl.DataFrame(
                {"person_id": [1, 2], "index_date": [I, None]},
                schema={"person_id": pl.Int64, "index_date": pl.Date},
            ),
            "index, row 2, column 'index_date': is empty",
        ),
        (
            _offences([]),
            pl.DataFrame({"person_id": [1], "index_date": ["01/02/2023"]}),
            "index, row 1, column 'index_date': is not a date in YYYY-MM-DD form",
        ),
        (
            _offences([]),
            _index([(1, I)]).with_columns(pl.lit(1).alias("reoffended")),
            "would overwrite",
        ),
        (
            _offences([]),
            pl.DataFrame({"person_id": ["P1"], "index_date": [I]}),
            "the same ids are needed in both",
        ),
    ],
)
def test_bad_input_names_frame_row_and_column(
    offences: pl.DataFrame, index: pl.DataFrame, message: str
) -> None:
    with pytest.raises(OutcomeError) as caught:
        proven_outcomes(offences, index, as_of=AS_OF)
    assert message in str(caught.value)


# --- from the database ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_offences_with_harm_and_cost_of_the_current_tables(
    make_person: Any, offence_code: Any
) -> None:
    code = offence_code("028/01")
    assert (
        code.group_code not in HARM_TABLE["groups"] and code.group_code not in COST_TABLE["groups"]
    )
    person, other = make_person(), make_person()
    for who, committed, proven, disposal in (
        (person, D(2023, 3, 1), D(2023, 4, 1), "custody"),
        (person, D(2022, 3, 1), D(2022, 4, 1), "fine"),
        (other, D(2023, 3, 1), D(2023, 4, 1), "fine"),
        (person, D(2025, 3, 1), D(2025, 4, 1), "fine"),  # after the as-of date
    ):
        Offence.objects.create(
            person=who,
            offence_code=code,
            offence_date=committed,
            disposal_date=proven,
            disposal_type=disposal,
        )
    offences = load_offences([person.pk], as_of=AS_OF)
    assert offences.height == 2 and set(offences["person_id"]) == {person.pk}
    expected_harm = HARM_TABLE["categories"][code.category]["days"]
    expected_cost = COST_TABLE["categories"][code.category]["cost"]
    assert offences["harm_days"].to_list() == [expected_harm, expected_harm]
    assert offences["unit_cost"].to_list() == [expected_cost, expected_cost]
    assert set(offences["disposal_type"]) == {"custody", "fine"}
    out = proven_outcomes(offences, _index([(person.pk, I)]), as_of=AS_OF).row(0, named=True)
    assert (out["reoffences"], out["harm_days"], out["custody"]) == (1, expected_harm, 1)

    # A newer crime-harm table version in force becomes the current one.
    old = CrimeHarmTable.in_force(HARM_KEY, AS_OF)
    config = {**old.config, "categories": {**old.config["categories"]}}
    config["categories"][code.category] = {"days": 1000.0, "status": "U", "source": "test"}
    CrimeHarmTable.objects.create(
        key=HARM_KEY,
        version=old.version + 1,
        name=old.name,
        effective_from=D(2024, 1, 1),
        source="test",
        config=config,
    )
    assert current_tables(AS_OF)[0].version == old.version + 1
    assert current_tables(D(2023, 6, 1))[0].version == old.version
    assert load_offences([person.pk], as_of=AS_OF)["harm_days"].to_list() == [1000.0, 1000.0]
