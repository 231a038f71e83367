"""Hostile and broken extracts: each gives a specific error naming row and column, and nothing
is written (every model's row count is unchanged)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings

from openiom.audit.models import AuditEvent
from openiom.imports.models import BatchStatus, ImportRowError
from openiom.imports.services import ExtractFile, import_extract
from tests.imports.conftest import example_files, example_text, model_counts

PEOPLE_HEADER = example_text("people.csv").splitlines()[0]
OFFENCES_HEADER = example_text("offences.csv").splitlines()[0]


def people_row(**overrides: str) -> str:
    values = {
        "source_system": "pnc",
        "person_id": "P9",
        "first_names": "Sam",
        "surname": "Example",
        "date_of_birth": "1990-01-02",
        "sex": "M",
        "ethnicity_officer_defined": "IC1",
        "ethnicity_self_defined": "W1",
        "pnc_id": "2010/0000009Z",
        "crn": "",
        "prison_number": "",
        "hub": "north",
        "current_status": "community",
        "status_since": "",
        "date_of_death": "",
        "youth_justice_status": "",
        "youth_justice_team": "",
        "address_line_1": "",
        "address_town": "",
        "address_postcode": "",
    }
    values.update(overrides)
    return ",".join(values[c] for c in PEOPLE_HEADER.split(","))


def offence_row(**overrides: str) -> str:
    values = {
        "source_system": "pnc",
        "offence_id": "O9",
        "person_id": "P9",
        "offence_code": "028/01",
        "offence_date": "2020-01-01",
        "description": "Burglary",
        "disposal_type": "custody",
        "disposal_date": "2020-03-01",
        "sentence": "",
        "sentence_length_days": "365",
        "court": "",
    }
    values.update(overrides)
    return ",".join(values[c] for c in OFFENCES_HEADER.split(","))


def run(coordinator: Any, agency: Any, *files: tuple[str, bytes]) -> Any:
    before = model_counts()
    result = import_extract(
        actor=coordinator, files=[ExtractFile(name, data) for name, data in files], agency=agency
    )
    assert result.batch.status == BatchStatus.REJECTED
    assert model_counts() == before
    assert result.problems
    assert ImportRowError.objects.filter(batch=result.batch).count() == len(result.problems)
    assert AuditEvent.objects.filter(event_type="import.rejected").exists()
    return result


def messages(result: Any) -> list[str]:
    return [str(p) for p in result.problems]


def people_file(*rows: str, header: str = PEOPLE_HEADER) -> tuple[str, bytes]:
    return ("people.csv", ("\n".join([header, *rows]) + "\n").encode())


@pytest.mark.django_db
class TestHostileImports:
    def test_impossible_date(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, people_file(people_row(date_of_birth="31/02/1990")))
        assert messages(r) == [
            "people.csv: row 2, column date_of_birth: '31/02/1990' is not a real date"
        ]

    def test_error_on_row_14_names_the_row(self, coordinator: Any, agency: Any) -> None:
        rows = [people_row(person_id=f"P{i}", pnc_id=f"2010/{i:07d}Z") for i in range(12)]
        rows.append(people_row(person_id="BAD", pnc_id="", date_of_birth="31/02/1990"))
        r = run(coordinator, agency, people_file(*rows))
        assert r.problems[0].row == 14
        assert "row 14, column date_of_birth: '31/02/1990' is not a real date" in messages(r)[0]

    def test_not_a_date(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, people_file(people_row(date_of_birth="yesterday")))
        assert "is not a date (use YYYY-MM-DD or DD/MM/YYYY)" in messages(r)[0]

    def test_future_birth_date(self, coordinator: Any, agency: Any) -> None:
        future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        r = run(coordinator, agency, people_file(people_row(date_of_birth=future)))
        assert r.problems[0].column == "date_of_birth"
        assert "is in the future" in r.problems[0].message

    def test_disposal_before_offence(self, coordinator: Any, agency: Any) -> None:
        r = run(
            coordinator,
            agency,
            people_file(people_row()),
            (
                "offences.csv",
                f"{OFFENCES_HEADER}\n{offence_row(disposal_date='2019-12-01')}\n".encode(),
            ),
        )
        assert r.problems[0].row == 2
        assert r.problems[0].column == "disposal_date"
        assert "is before offence_date '2020-01-01'" in r.problems[0].message

    def test_release_before_reception(self, coordinator: Any, agency: Any) -> None:
        header = "source_system,custody_id,person_id,custody_type,establishment,received_date,sentence_length_days,expected_release_date,release_date,release_type"
        row = "pnc,C1,P9,sentenced,HMP X,2020-05-01,100,2020-08-01,2020-04-01,licence"
        r = run(
            coordinator,
            agency,
            people_file(people_row()),
            ("custody.csv", f"{header}\n{row}\n".encode()),
        )
        assert r.problems[0].column == "release_date"
        assert "release cannot be before reception" in r.problems[0].message

    def test_unknown_offence_code_and_hub(self, coordinator: Any, agency: Any) -> None:
        r = run(
            coordinator,
            agency,
            people_file(people_row(hub="atlantis")),
            ("offences.csv", f"{OFFENCES_HEADER}\n{offence_row(offence_code='999/99')}\n".encode()),
        )
        text = "\n".join(messages(r))
        assert "people.csv: row 2, column hub: 'atlantis' is not a known hub code" in text
        assert (
            "offences.csv: row 2, column offence_code: '999/99' is not a known Home Office offence code"
            in text
        )

    def test_wrong_types_and_choices(self, coordinator: Any, agency: Any) -> None:
        r = run(
            coordinator,
            agency,
            people_file(people_row(sex="X")),
            (
                "offences.csv",
                f"{OFFENCES_HEADER}\n{offence_row(sentence_length_days='12.5', disposal_type='flogging')}\n".encode(),
            ),
        )
        text = "\n".join(messages(r))
        assert "column sex: 'X' is not an allowed value; use one of: M, F, U" in text
        assert "column sentence_length_days: '12.5' is not a whole number" in text
        assert "column disposal_type: 'flogging' is not an allowed value" in text

    def test_missing_extra_and_duplicated_columns(self, coordinator: Any, agency: Any) -> None:
        header = PEOPLE_HEADER.replace(",sex,", ",gender,") + ",surname"
        r = run(coordinator, agency, people_file(people_row() + ",x", header=header))
        text = "\n".join(messages(r))
        assert "column 'surname' appears twice" in text
        assert "missing column(s): sex" in text
        assert "unexpected column 'gender'" in text
        assert all(p.row == 1 for p in r.problems)

    def test_ragged_rows(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, people_file(people_row() + ",extra"))
        assert r.problems[0].row == 2
        assert "has 21 cells but the header has 20" in r.problems[0].message

    def test_duplicate_ids_within_file(self, coordinator: Any, agency: Any) -> None:
        r = run(
            coordinator,
            agency,
            people_file(people_row(), people_row(pnc_id="2010/0000010Z")),
        )
        assert "row 3, column person_id: 'P9' is a duplicate" in messages(r)[0]
        assert "on row 2" in messages(r)[0]

    def test_not_utf8(self, coordinator: Any, agency: Any) -> None:
        data = (PEOPLE_HEADER + "\n" + people_row(surname="Müller") + "\n").encode("cp1252")
        r = run(coordinator, agency, ("people.csv", data))
        assert "not valid UTF-8" in r.problems[0].message
        assert "line 2" in r.problems[0].message

    def test_utf8_bom_is_accepted(self, coordinator: Any, agency: Any) -> None:
        data = ("\ufeff" + PEOPLE_HEADER + "\n" + people_row(surname="Müller") + "\n").encode()
        result = import_extract(
            actor=coordinator, files=[ExtractFile("people.csv", data)], agency=agency
        )
        assert result.accepted, result.problems

    def test_binary_and_utf16(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, ("people.csv", b"\x00\x01\x02\x89PNG\x00"))
        assert "binary data" in r.problems[0].message
        r = run(coordinator, agency, ("people.csv", (PEOPLE_HEADER + "\n").encode("utf-16")))
        assert "UTF-16" in r.problems[0].message

    def test_enormous_field(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, people_file(people_row(surname="X" * 5000)))
        assert r.problems[0].column == "surname"
        assert "is 5000 characters long; the most allowed is 100" in r.problems[0].message
        assert len(ImportRowError.objects.get(batch=r.batch).value) <= 200

    def test_enormous_upload(self, coordinator: Any, agency: Any) -> None:
        with override_settings(IMPORT_MAX_UPLOAD_BYTES=100):
            r = run(coordinator, agency, people_file(people_row()))
        assert "the most allowed is 100" in r.problems[0].message

    def test_empty_file(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, ("people.csv", b""))
        assert r.problems[0].message == "the file is empty"
        r = run(coordinator, agency, ("people.csv", b"  \n\n"))
        assert r.problems[0].message == "the file is empty"

    def test_unknown_file_name(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, ("stuff.csv", b"a,b\n1,2\n"))
        assert "cannot tell what this file holds" in r.problems[0].message

    def test_record_for_unknown_person(self, coordinator: Any, agency: Any) -> None:
        r = run(
            coordinator,
            agency,
            ("offences.csv", f"{OFFENCES_HEADER}\n{offence_row(person_id='NOBODY')}\n".encode()),
        )
        assert r.problems[0].column == "person_id"
        assert "'NOBODY' matches no person" in r.problems[0].message

    def test_one_bad_file_rejects_the_whole_batch(self, coordinator: Any, agency: Any) -> None:
        files = [(f.name, f.data) for f in example_files() if f.name != "offences.csv"]
        files.append(
            (
                "offences.csv",
                f"{OFFENCES_HEADER}\n{offence_row(offence_date='2020-13-01')}\n".encode(),
            )
        )
        r = run(coordinator, agency, *files)
        assert messages(r) == [
            "offences.csv: row 2, column offence_date: '2020-13-01' is not a real date"
        ]

    def test_not_an_xlsx(self, coordinator: Any, agency: Any) -> None:
        r = run(coordinator, agency, ("people.xlsx", b"PK\x03\x04 not really a zip"))
        assert "not a readable XLSX workbook" in r.problems[0].message

    def test_formula_text_is_stored_as_given(self, coordinator: Any, agency: Any) -> None:
        from openiom.people.models import Person

        row = people_row(first_names='"=HYPERLINK(""http://evil.example"",""x"")"', surname="@SUM")
        result = import_extract(
            actor=coordinator, files=[ExtractFile(*people_file(row))], agency=agency
        )
        assert result.accepted, result.problems
        person = Person.objects.get(source_id="P9")
        assert person.first_names == '=HYPERLINK("http://evil.example","x")'
        assert person.surname == "@SUM"
