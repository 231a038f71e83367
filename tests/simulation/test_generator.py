"""The generator: deterministic, plausible, and internally consistent."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from openiom.reference.loaders import offence_code_rows
from openiom.simulation.generator import Chunk, generate_all, pnc_check_letter

from .conftest import AS_OF


def test_same_seed_gives_identical_records(area: Chunk) -> None:
    again = generate_all(people=20_000, seed=11, as_of=AS_OF)
    for name, frame in area.frames().items():
        assert frame.equals(getattr(again, name)), name


def test_another_seed_or_date_gives_a_different_area() -> None:
    a = generate_all(people=2_000, seed=1, as_of=AS_OF)
    b = generate_all(people=2_000, seed=2, as_of=AS_OF)
    c = generate_all(people=2_000, seed=1, as_of=AS_OF - dt.timedelta(days=30))
    assert not a.people.equals(b.people)
    assert not a.offences.equals(c.offences)


def test_no_one_offends_while_in_custody(area: Chunk) -> None:
    custody = area.custody.with_columns(
        pl.col("release_date").fill_null(AS_OF + dt.timedelta(days=1))
    )
    assert custody.height > 1000
    inside = area.offences.join(custody, on="person_id").filter(
        (pl.col("offence_date") >= pl.col("received_date"))
        & (pl.col("offence_date") < pl.col("release_date"))
    )
    assert inside.height == 0
    # and the custody records are well formed
    assert (custody["release_date"] >= custody["received_date"]).all()


def test_records_run_up_to_the_as_of_date_and_end_at_death(area: Chunk) -> None:
    for name, col in [
        ("offences", "offence_date"),
        ("offences", "disposal_date"),
        ("arrests", "arrest_date"),
        ("custody", "received_date"),
        ("supervision", "start_date"),
        ("intelligence", "recorded_date"),
    ]:
        frame = getattr(area, name)
        assert frame[col].max() <= AS_OF, (name, col)
    dead = area.people.filter(pl.col("date_of_death").is_not_null())
    assert 0 < dead.height < area.people.height * 0.05
    late = area.offences.join(dead, on="person_id").filter(
        pl.col("offence_date") > pl.col("date_of_death")
    )
    assert late.height == 0
    assert (area.offences["disposal_date"] >= area.offences["offence_date"]).all()


def test_people_look_like_an_offending_population(area: Chunk) -> None:
    people = area.people
    male = (people["sex"] == "M").mean()
    assert 0.84 <= male <= 0.90
    statuses = set(people["current_status"].unique())
    assert statuses == {"community", "custody", "ual", "deceased"}
    assert people.filter(pl.col("youth_justice_status") == "transition").height > 0
    assert people.filter(pl.col("youth_justice_status") == "yos_order").height > 0
    assert people["hub"].unique().sort().to_list() == ["east", "north", "south", "west"]
    assert people["ethnicity_self_defined"].n_unique() >= 15
    assert people["person_id"].is_unique().all()
    # identifier formats, unique where present
    assert people["pnc_id"].str.contains(r"^\d{4}/\d{7}[A-Z]$").all()
    assert people["pnc_id"].is_unique().all()
    crn = people.filter(pl.col("crn") != "")["crn"]
    assert crn.str.contains(r"^[A-Z]\d{6}$").all() and crn.is_unique().all()
    prison = people.filter(pl.col("prison_number") != "")["prison_number"]
    assert prison.str.contains(r"^[A-Z]\d{4}[A-Z]{2}$").all() and prison.is_unique().all()
    in_custody = people.filter(pl.col("current_status") == "custody")["person_id"]
    open_custody = area.custody.filter(pl.col("release_date").is_null())["person_id"].unique()
    assert set(in_custody) == set(open_custody)


def test_pnc_check_letter() -> None:
    # 01/0123456 -> 10123456 mod 23 = 17 -> "R" (letters without I, O and S)
    assert pnc_check_letter(2001, 123456) == "ZABCDEFGHJKLMNPQRTUVWXY"[10123456 % 23]


def test_offence_codes_are_real_and_weighted(area: Chunk) -> None:
    weights = {r["code"]: r["ogrs3_weight"] for r in offence_code_rows()}
    used = set(area.offences["offence_code"].unique()) | set(area.arrests["offence_code"])
    assert used and all(weights.get(code) is not None for code in used)
    groups = {code[:3] for code in area.offences["offence_code"].unique()}
    assert {"046", "028", "049", "008", "105", "058", "092", "034", "053"} <= groups


@pytest.mark.parametrize(
    ("disposal", "minimum_share"),
    [("custody", 0.05), ("community_order", 0.05), ("fine", 0.05), ("caution", 0.02)],
)
def test_disposal_mix(area: Chunk, disposal: str, minimum_share: float) -> None:
    share = (area.offences["disposal_type"] == disposal).mean()
    assert share >= minimum_share


def test_supervision_follows_release_and_orders(area: Chunk) -> None:
    sup = area.supervision
    assert set(sup["supervision_type"].unique()) >= {"licence", "pss", "community_order", "sso"}
    licences = sup.filter(pl.col("supervision_type") == "licence")
    releases = area.custody.filter(
        (pl.col("custody_type") == "sentenced") & pl.col("release_date").is_not_null()
    ).select("person_id", pl.col("release_date").alias("start_date"))
    # every licence starts on a release date of the same person
    assert licences.join(releases, on=["person_id", "start_date"], how="anti").height == 0
    assert (sup.filter(pl.col("end_date").is_not_null())["end_reason"] != "").all()
