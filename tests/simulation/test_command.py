"""manage.py simulate: database load, import files with the agreed columns, manifest and refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openiom.offending.models import IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode, Involvement, Person, SupervisionPeriod
from openiom.simulation.models import SimulationRun
from openiom.simulation.outputs import IMPORT_FILES

EXPECTED_COLUMNS = {
    "people.csv": "source_system,person_id,first_names,surname,date_of_birth,sex,ethnicity_officer_defined,ethnicity_self_defined,pnc_id,crn,prison_number,hub,current_status,status_since,date_of_death,youth_justice_status,youth_justice_team,address_line_1,address_town,address_postcode",
    "offences.csv": "source_system,offence_id,person_id,offence_code,offence_date,description,disposal_type,disposal_date,sentence,sentence_length_days,court",
    "arrests.csv": "source_system,arrest_id,person_id,arrest_date,offence_code,description,outcome",
    "custody.csv": "source_system,custody_id,person_id,custody_type,establishment,received_date,sentence_length_days,expected_release_date,release_date,release_type",
    "supervision.csv": "source_system,supervision_id,person_id,supervision_type,start_date,expected_end_date,end_date,end_reason",
    "intelligence.csv": "source_system,intelligence_id,person_id,recorded_date,source_grade,intelligence_grade,handling_code,handling_conditions,text",
}


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def test_files_only_have_exactly_the_agreed_columns(var_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    call_command(
        "simulate", people=300, seed=5, as_of="2024-06-30", out=out, no_db=True, stdout=None
    )
    assert {p.name for p in out.glob("*.csv")} == set(EXPECTED_COLUMNS)
    for name, header in EXPECTED_COLUMNS.items():
        with (out / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert ",".join(rows[0]) == header, name
        assert IMPORT_FILES[name.removesuffix(".csv")] == header.split(",")
        width = {len(r) for r in rows[1:]}
        assert width == {len(rows[0])}, name
    people = list(csv.DictReader((out / "people.csv").open(encoding="utf-8")))
    assert len(people) == 300
    assert people[0]["person_id"] == "P0000000" and people[0]["source_system"] == "pnc"
    offences = list(csv.DictReader((out / "offences.csv").open(encoding="utf-8")))
    assert all(len(o["offence_date"]) == 10 for o in offences)
    keys = {p["person_id"] for p in people}
    assert {o["person_id"] for o in offences} <= keys
    manifest = json.loads((var_dir / "simulations" / "5-300" / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["as_of"] == "2024-06-30"
    assert manifest["counts"]["offences"] == len(offences)
    assert not manifest["wrote_database"]


@pytest.mark.django_db
def test_database_load_matches_the_files(var_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    call_command(
        "simulate", people=1500, seed=7, as_of="2024-06-30", out=out, no_scheme=True, stdout=None
    )
    run = SimulationRun.objects.get()
    assert run.people == 1500 and run.wrote_database
    assert Person.objects.count() == 1500
    manifest = json.loads((var_dir / "simulations" / "7-1500" / "manifest.json").read_text())
    assert run.counts == manifest["database_counts"]
    assert Offence.objects.count() == manifest["counts"]["offences"]
    # source ids match the files, so importing the same files later finds the same records
    with (out / "offences.csv").open(encoding="utf-8") as handle:
        file_ids = {row["offence_id"] for row in csv.DictReader(handle)}
    assert set(Offence.objects.values_list("source_id", flat=True)) == file_ids
    person = Person.objects.exclude(surname="").first()
    assert person is not None and person.surname_norm == person.surname.upper().replace("'", "")
    # agencies own what they record
    assert not Offence.objects.exclude(recorded_by_agency__code="wessex-police").exists()
    assert not CustodyEpisode.objects.exclude(recorded_by_agency__code="hmp-wessex").exists()
    assert not SupervisionPeriod.objects.exclude(
        recorded_by_agency__code="probation-wessex"
    ).exists()
    assert IntelligenceItem.objects.exists()
    # partner agencies have caseloads of active people
    for code in ("harbour-housing", "turning-point-wessex", "second-chance-mentoring"):
        assert Involvement.objects.filter(agency__code=code, worker=None).count() >= 10


@pytest.mark.django_db
def test_refuses_a_second_load_and_if_empty_skips(var_dir: Path) -> None:
    call_command("simulate", people=50, seed=1, as_of="2024-06-30", no_scheme=True, stdout=None)
    with pytest.raises(CommandError, match="already holds people"):
        call_command("simulate", people=50, seed=2, as_of="2024-06-30", no_scheme=True, stdout=None)
    call_command(
        "simulate",
        people=50,
        seed=2,
        as_of="2024-06-30",
        if_empty=True,
        no_scheme=True,
        stdout=None,
    )
    assert Person.objects.count() == 50
    assert SimulationRun.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"people": 10, "seed": 1, "no_db": True}, "needs --out"),
        ({"people": 0, "seed": 1}, "at least 1"),
        ({"people": 10, "seed": 1, "as_of": "31/12/2024"}, "YYYY-MM-DD"),
    ],
)
def test_bad_options_give_clear_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("simulate", stdout=None, **options)
