"""Small hand-built inputs for engine tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from openiom.scoring import engine

AS_OF = dt.date(2025, 1, 1)


def frames(
    people: list[dict[str, Any]],
    offences: list[dict[str, Any]] = (),  # type: ignore[assignment]
    arrests: list[dict[str, Any]] = (),  # type: ignore[assignment]
    intelligence: list[dict[str, Any]] = (),  # type: ignore[assignment]
    custody: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> engine.ScoringInputs:
    def person(p: dict[str, Any]) -> dict[str, Any]:
        return {
            "sex": "M",
            "hub": "north",
            "current_status": "community",
            "date_of_death": None,
            "date_of_birth": dt.date(1995, 6, 1),
        } | p

    return engine.ScoringInputs(
        people=pl.DataFrame(
            [person(p) for p in people],
            schema={
                "person_id": pl.Int64,
                "date_of_birth": pl.Date,
                "sex": pl.String,
                "hub": pl.String,
                "current_status": pl.String,
                "date_of_death": pl.Date,
            },
        ),
        offences=pl.DataFrame(
            [{"offence_code": "028/01", "disposal_date": None} | o for o in offences],
            schema={
                "person_id": pl.Int64,
                "offence_code": pl.String,
                "offence_date": pl.Date,
                "disposal_date": pl.Date,
            },
        ),
        arrests=pl.DataFrame(list(arrests), schema={"person_id": pl.Int64, "arrest_date": pl.Date}),
        intelligence=pl.DataFrame(
            list(intelligence),
            schema={
                "person_id": pl.Int64,
                "recorded_date": pl.Date,
                "source_grade": pl.String,
                "intelligence_grade": pl.String,
            },
        ),
        custody=pl.DataFrame(
            [
                {"sentence_length_days": None, "expected_release_date": None, "release_date": None}
                | c
                for c in custody
            ],
            schema={
                "person_id": pl.Int64,
                "received_date": pl.Date,
                "sentence_length_days": pl.Int64,
                "expected_release_date": pl.Date,
                "release_date": pl.Date,
            },
        ),
        codes=engine.reference_codes(),
    )


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)
