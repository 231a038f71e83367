"""The simulated area reproduces published proven-reoffending figures (MoJ definition).

Targets: adult one-year proven reoffending 24-31% (published 27.3%); adults with 11+ previous
offences 42-54% (47-48%); adults released from custodial sentences under 12 months 52-65%
(59.2%); the most active 10% of offenders commit 50-65% of proven offences.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from openiom.simulation.calibration import (
    Calibration,
    calibrate,
    index_events,
    offence_concentration,
    reoffending_rate,
)
from openiom.simulation.generator import generate_all

AS_OF = dt.date(2025, 12, 31)


@pytest.mark.parametrize("seed", [1, 2])
def test_headline_figures_match_published_rates(seed: int) -> None:
    area = generate_all(people=80_000, seed=seed, as_of=AS_OF)
    result = calibrate(
        offences=area.offences, custody=area.custody, people=area.people, as_of=AS_OF
    )
    print(f"seed {seed}: {result}")
    # cohorts large enough for the bands to mean something
    assert result.adult_cohort > 3000
    assert result.adult_11_plus_cohort > 800
    assert result.short_custody_cohort > 200
    assert result.failures() == []


def _frames(
    offences: list[tuple[str, str, str, str]], custody: list[tuple[str, str, str, int, str]]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    d = dt.date.fromisoformat
    off = pl.DataFrame(
        [(p, d(o), t, d(x)) for p, o, t, x in offences],
        schema=["person_id", "offence_date", "disposal_type", "disposal_date"],
        orient="row",
    )
    cus = pl.DataFrame(
        [(p, "sentenced", d(r), n, d(x), "conditional release") for p, r, x, n, _ in custody],
        schema=[
            "person_id",
            "custody_type",
            "received_date",
            "sentence_length_days",
            "release_date",
            "release_type",
        ],
        orient="row",
    )
    people = pl.DataFrame(
        {"person_id": ["A", "B", "C", "D"], "date_of_birth": [d("1990-01-01")] * 4}
    )
    return off, cus, people


def test_index_events_follow_the_moj_definition() -> None:
    off, cus, people = _frames(
        [
            # A: fined 2022-03-01; reoffends 2022-09-01, convicted within 12+6 months -> counts
            ("A", "2021-12-01", "fine", "2022-03-01"),
            ("A", "2022-09-01", "fine", "2023-06-01"),
            # B: cautioned; next offence within 12 months but proven after 18 -> not counted
            ("B", "2022-01-10", "caution", "2022-02-01"),
            ("B", "2022-12-01", "fine", "2023-09-01"),
            # C: custody released 2022-05-01 (index = release); earlier offences are previous
            ("C", "2020-01-01", "fine", "2020-03-01"),
            ("C", "2021-10-01", "custody", "2022-01-01"),
            ("C", "2022-06-01", "fine", "2022-08-01"),
            # D: first disposal too late for a complete window on the as-of date
            ("D", "2024-01-01", "fine", "2024-12-01"),
        ],
        [("C", "2022-01-01", "2022-05-01", 240, "")],
    )
    events = index_events(
        offences=off,
        custody=cus,
        people=people,
        cohort_start=dt.date(2022, 1, 1),
        cohort_end=dt.date(2025, 1, 1),
        as_of=dt.date(2025, 1, 1),
    )
    by = {r["person_id"]: r for r in events.iter_rows(named=True)}
    assert set(by) == {"A", "B", "C"}
    assert by["A"]["reoffended"] and by["A"]["previous_offences"] == 0
    assert not by["B"]["reoffended"]
    assert by["C"]["index_kind"] == "release"
    assert by["C"]["index_date"] == dt.date(2022, 5, 1)
    assert by["C"]["previous_offences"] == 1
    assert by["C"]["custody_sentence_days"] == 240
    assert by["C"]["reoffended"] and by["C"]["days_to_first_reoffence"] == 31
    rate, size = reoffending_rate(events)
    assert size == 3 and rate == pytest.approx(2 / 3)


def test_offence_concentration_counts_offences_per_offender() -> None:
    off = pl.DataFrame({"person_id": ["A"] * 7 + [c for c in "BCDEFGHIJ"]})
    assert offence_concentration(off, 0.1) == pytest.approx(7 / 16)


def test_calibration_reports_values_outside_the_bands() -> None:
    result = Calibration(0.5, 10, 0.45, 10, 0.6, 10, 0.55)
    assert result.failures() == ["adult_rate=0.500 outside [0.24, 0.31]"]
