"""The engine: each component follows its formula, flags and eligibility apply, ranks are stable."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import polars as pl
import pytest

from openiom.scoring import defaults, engine, ogrs3
from tests.scoring.helpers import AS_OF, days_ago, frames

HARM, COSTS = defaults.HARM_TABLE, defaults.COST_TABLE


def _score(
    inputs: engine.ScoringInputs, config: dict[str, Any] | None = None, **kw: Any
) -> pl.DataFrame:
    return engine.score(
        inputs, config or defaults.policy_config("fixed"), AS_OF, harm=HARM, costs=COSTS, **kw
    )


def _row(out: pl.DataFrame, pid: int) -> dict[str, Any]:
    return out.filter(pl.col("person_id") == pid).row(0, named=True)


def test_recency_halves_at_the_half_life() -> None:
    config = defaults.policy_config("free")
    rec = config["components"]["recency"]
    half = rec["half_life_days"]
    out = _score(
        frames(
            [{"person_id": 1}, {"person_id": 2}],
            arrests=[
                {"person_id": 1, "arrest_date": days_ago(0)},
                {"person_id": 2, "arrest_date": days_ago(half)},
            ],
        ),
        config,
    )
    assert _row(out, 1)["pts_recency"] == pytest.approx(rec["weight"])
    assert _row(out, 2)["pts_recency"] == pytest.approx(rec["weight"] / 2)
    assert f"last arrest {half} days ago" in _row(out, 2)["breakdown"]


def test_frequency_counts_windows_and_caps() -> None:
    config = defaults.policy_config("free")
    w12 = config["components"]["frequency"]["windows"][0]
    many = int(w12["cap"] // w12["offence_points"]) + 5
    offences = [{"person_id": 1, "offence_date": days_ago(10 + i)} for i in range(3)]
    offences += [{"person_id": 2, "offence_date": days_ago(10 + i)} for i in range(many)]
    offences += [{"person_id": 1, "offence_date": days_ago(500)}]  # outside 12 months
    out = _score(frames([{"person_id": 1}, {"person_id": 2}], offences), config)
    assert _row(out, 1)["off_12m"] == 3
    assert _row(out, 1)["off_36m"] == 4
    assert _row(out, 1)["pts_frequency_12m"] == pytest.approx(3 * w12["offence_points"])
    assert _row(out, 2)["pts_frequency_12m"] == pytest.approx(w12["cap"])
    assert "3 offences in the last 12 months" in _row(out, 1)["breakdown"]


def test_harm_and_cost_use_the_tables() -> None:
    config = defaults.policy_config("free")
    out = _score(
        frames(
            [{"person_id": 1}],
            [
                {"person_id": 1, "offence_code": "046/00", "offence_date": days_ago(30)},
                {"person_id": 1, "offence_code": "034/01", "offence_date": days_ago(30)},
            ],
        ),
        config,
    )
    row = _row(out, 1)
    expected = HARM["groups"]["046"]["days"] + HARM["groups"]["034"]["days"]
    assert row["harm_sum"] == pytest.approx(expected)
    harm_c = config["components"]["harm"]
    assert row["pts_harm"] == pytest.approx(min(harm_c["cap"], expected * harm_c["points_per_day"]))
    theft = COSTS["categories"]["Theft (non-motor)"]["cost"]
    robbery = COSTS["categories"]["Robbery"]["cost"]
    assert row["cost_sum"] == pytest.approx(theft + robbery)


def test_risk_is_ogrs3_from_sanction_history() -> None:
    # Male born 2004-06-01: first sanction at 16, current (latest) at 19, scored at 20 (as_of).
    dob = dt.date(2004, 6, 1)
    offences = [
        {
            "person_id": 1,
            "offence_code": "105/01",
            "offence_date": dt.date(2020, 7, 1),
            "disposal_date": dt.date(2020, 8, 1),
        },
        {
            "person_id": 1,
            "offence_code": "105/01",
            "offence_date": dt.date(2023, 7, 1),
            "disposal_date": dt.date(2023, 8, 1),
        },
        {
            "person_id": 1,
            "offence_code": "105/01",
            "offence_date": dt.date(2023, 7, 1),
            "disposal_date": dt.date(2023, 8, 1),
        },  # same occasion: one sanction
        {
            "person_id": 1,
            "offence_code": "105/01",
            "offence_date": dt.date(2024, 12, 1),
            "disposal_date": dt.date(2025, 3, 1),
        },  # not yet sanctioned on as_of
    ]
    out = _score(frames([{"person_id": 1, "date_of_birth": dob}], offences))
    row = _row(out, 1)
    codes = engine.reference_codes().filter(pl.col("offence_code") == "105/01").row(0, named=True)
    expected = ogrs3.ogrs3(
        sanctions=2,
        age_at_current_conviction=19,
        age_at_first_sanction=16,
        age_at_start=20,
        sex="M",
        offence_weight=ogrs3.offence_weight(
            ogrs3_weight=codes["ogrs3_weight"], category=codes["category"]
        ),
    )
    assert row["sanctions"] == 2
    assert row["ogrs3_2yr"] == pytest.approx(expected.two_year)
    assert row["ogrs3_band"] == expected.band


def test_flags_and_eligibility() -> None:
    recent = [{"person_id": p, "offence_date": days_ago(20)} for p in range(1, 7)]
    inputs = frames(
        [
            {"person_id": 1},
            {"person_id": 2},
            {"person_id": 3, "date_of_death": days_ago(5)},
            {"person_id": 4, "hub": "elsewhere"},
            {"person_id": 5},
            {"person_id": 6, "date_of_birth": dt.date(2010, 1, 1)},
        ],
        recent,
        custody=[
            {
                "person_id": 5,
                "received_date": days_ago(10),
                "expected_release_date": AS_OF + dt.timedelta(days=800),
            }
        ],
    )
    config = defaults.policy_config("fixed")
    config["flags"]["area_hubs"] = ["north", "south"]
    out = _score(inputs, config, registered={2})
    flags = {r["person_id"]: r["flags"] for r in out.iter_rows(named=True)}
    assert flags == {
        1: "",
        2: "already_registered",
        3: "deceased",
        4: "out_of_area",
        5: "long_custody",
        6: "",
    }
    eligible = {r["person_id"]: r["eligible"] for r in out.iter_rows(named=True)}
    assert eligible == {1: True, 2: False, 3: False, 4: False, 5: False, 6: False}  # 6 is under 18


def test_fixed_needs_neighbourhood_crime_free_does_not() -> None:
    inputs = frames(
        [{"person_id": 1}],
        [{"person_id": 1, "offence_code": "105/01", "offence_date": days_ago(20)}],
    )
    assert not _row(_score(inputs, defaults.policy_config("fixed")), 1)["eligible"]
    assert _row(_score(inputs, defaults.policy_config("free")), 1)["eligible"]


def test_rank_is_deterministic_with_ties_broken_by_person_id() -> None:
    people = [{"person_id": p} for p in (5, 3, 9, 1)]
    offences = [{"person_id": p, "offence_date": days_ago(40)} for p in (5, 3, 9, 1)]
    out = _score(frames(people, offences))
    assert out["total"].n_unique() == 1
    assert out["person_id"].to_list() == [1, 3, 5, 9]
    assert out["rank"].to_list() == [1, 2, 3, 4]


def test_breakdown_is_ordered_by_contribution_and_sums_to_total() -> None:
    offences = [
        {"person_id": 1, "offence_code": "034/01", "offence_date": days_ago(3 + i)}
        for i in range(6)
    ]
    intel = [
        {
            "person_id": 1,
            "recorded_date": days_ago(10),
            "source_grade": "1",
            "intelligence_grade": "A",
        }
    ]
    config = defaults.policy_config("fixed")
    out = _score(frames([{"person_id": 1}], offences, intelligence=intel), config)
    row = _row(out, 1)
    parts = row["breakdown"].split("; ")
    points = [float(p.rsplit("(+", 1)[1].rstrip(")")) for p in parts]
    assert points == sorted(points, reverse=True)
    names = engine.component_names(config)
    assert row["total"] == pytest.approx(sum(row[f"pts_{n}"] for n in names))
    assert len(parts) == sum(1 for n in names if row[f"pts_{n}"] > 0)


def test_missing_columns_are_reported() -> None:
    inputs = frames([{"person_id": 1}])
    inputs.people = inputs.people.drop("sex")
    with pytest.raises(engine.ScoringInputError, match="people: missing column"):
        _score(inputs)


def test_unknown_offence_code_still_counts() -> None:
    out = _score(
        frames(
            [{"person_id": 1}],
            [{"person_id": 1, "offence_code": "999/99", "offence_date": days_ago(1)}],
        )
    )
    assert _row(out, 1)["off_12m"] == 1


def test_local_priority_only_counts_listed_categories() -> None:
    config = defaults.policy_config("flex")
    lp = config["components"]["local_priority"]
    offences = [
        {"person_id": 1, "offence_code": "105/01", "offence_date": days_ago(5)},
        {"person_id": 1, "offence_code": "046/00", "offence_date": days_ago(5)},
    ]
    row = _row(_score(frames([{"person_id": 1}], offences), config), 1)
    assert row["lp_n"] == 1
    assert row["pts_local_priority"] == pytest.approx(lp["points_per_offence"])


def test_fingerprint_ignores_row_order_but_not_content() -> None:
    people = [{"person_id": 1}, {"person_id": 2}]
    offences = [
        {"person_id": 1, "offence_date": days_ago(5)},
        {"person_id": 2, "offence_date": days_ago(9)},
    ]
    a = engine.fingerprint(frames(people, offences))
    b = engine.fingerprint(frames(people[::-1], offences[::-1]))
    changed = copy.deepcopy(offences)
    changed[0]["offence_date"] = days_ago(6)
    assert a == b
    assert a != engine.fingerprint(frames(people, changed))


def test_files_loader_reads_csv_and_parquet(tmp_path: Any) -> None:
    inputs = frames(
        [{"person_id": 1}, {"person_id": 2}],
        [{"person_id": 1, "offence_date": days_ago(5), "disposal_date": days_ago(2)}],
        arrests=[{"person_id": 2, "arrest_date": days_ago(3)}],
    )
    csv_dir, pq_dir = tmp_path / "csv", tmp_path / "pq"
    csv_dir.mkdir()
    pq_dir.mkdir()
    for name in ("people", "offences", "arrests", "intelligence", "custody"):
        frame: pl.DataFrame = getattr(inputs, name)
        frame.write_csv(csv_dir / f"{name}.csv", date_format="%Y-%m-%d")
        frame.write_parquet(pq_dir / f"{name}.parquet")
    direct = _score(inputs)
    from_csv = _score(engine.load_frames_from_files(csv_dir))
    from_pq = _score(engine.load_frames_from_files(pq_dir))
    assert from_csv["total"].to_list() == direct["total"].to_list()
    assert from_pq["total"].to_list() == direct["total"].to_list()
    (csv_dir / "arrests.csv").unlink()
    with pytest.raises(engine.ScoringInputError, match="no arrests"):
        engine.load_frames_from_files(csv_dir)


def test_months_before_clamps_to_month_end() -> None:
    assert engine.months_before(dt.date(2025, 3, 31), 1) == dt.date(2025, 2, 28)
    assert engine.months_before(dt.date(2025, 1, 15), 12) == dt.date(2024, 1, 15)
