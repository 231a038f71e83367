"""Importing good extracts: examples, idempotency, linking, possible matches, XLSX."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.apps import apps
from openpyxl import Workbook

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.imports.models import BatchStatus, MatchStatus, PendingMatch
from openiom.imports.services import ExtractFile, import_extract, resolve_pending_match
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import (
    Address,
    CustodyEpisode,
    Person,
    PersonIdentifier,
    SupervisionPeriod,
)
from tests.imports.conftest import example_files, example_text, model_counts
from tests.imports.test_hostile import OFFENCES_HEADER, PEOPLE_HEADER, offence_row, people_row


def snapshot_db() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every openiom domain table (without the import bookkeeping)."""
    skip = {"imports.importbatch", "imports.importrowerror", "audit.auditevent"}
    return {
        m._meta.label_lower: sorted(map(tuple, m._default_manager.order_by("pk").values_list()))
        for m in apps.get_models()
        if m.__module__.startswith("openiom.") and m._meta.label_lower not in skip
    }


def csv_file(name: str, header: str, *rows: str) -> ExtractFile:
    return ExtractFile(name, ("\n".join([header, *rows]) + "\n").encode())


@pytest.mark.django_db
def test_examples_import_and_link(coordinator: Any, agency: Any) -> None:
    result = import_extract(actor=coordinator, files=example_files(), agency=agency)
    assert result.accepted, result.problems
    counts = result.batch.counts
    assert counts["people"]["created"] == 3
    assert counts["offences"]["created"] == 4
    daniel = Person.objects.get(source_system="pnc", source_id="P000001")
    assert daniel.first_names_norm == "DANIEL JAMES"
    assert daniel.recorded_by_agency == agency
    # Custody links by prison number, supervision by CRN (different source systems).
    assert CustodyEpisode.objects.filter(person=daniel).count() == 2
    assert SupervisionPeriod.objects.filter(person=daniel).count() == 1
    assert Offence.objects.filter(person=daniel).count() == 2
    assert Arrest.objects.count() == 2 and IntelligenceItem.objects.count() == 2
    assert Address.objects.get(person=daniel).postcode == "NG1 1AA"
    event = AuditEvent.objects.get(event_type="import.collected")
    assert event.details["batch"] == result.batch.pk
    assert event.details["counts"]["offences"]["created"] == 4
    assert result.batch.rows_done == result.batch.rows_total == 15


@pytest.mark.django_db
def test_reimport_changes_nothing(coordinator: Any, agency: Any) -> None:
    import_extract(actor=coordinator, files=example_files(), agency=agency)
    before = snapshot_db()
    second = import_extract(actor=coordinator, files=example_files(), agency=agency)
    assert second.accepted
    for name, c in second.batch.counts.items():
        assert c.get("created", 0) == 0 and c.get("updated", 0) == 0, name
    assert second.batch.counts["offences"]["unchanged"] == 4
    assert snapshot_db() == before  # updated_at included: nothing rewritten


@pytest.mark.django_db
def test_changed_row_is_updated(coordinator: Any, agency: Any) -> None:
    import_extract(actor=coordinator, files=example_files(), agency=agency)
    text = example_text("offences.csv").replace("Imprisonment 18 months", "Imprisonment 20 months")
    result = import_extract(
        actor=coordinator, files=[ExtractFile("offences.csv", text.encode())], agency=agency
    )
    assert result.batch.counts["offences"] == {
        "created": 0,
        "updated": 1,
        "unchanged": 3,
        "held": 0,
    }
    assert Offence.objects.get(source_id="O0000001").sentence == "Imprisonment 20 months"


@pytest.mark.django_db
def test_new_records_for_existing_people_merge(coordinator: Any, agency: Any) -> None:
    import_extract(actor=coordinator, files=example_files(), agency=agency)
    people_before = Person.objects.count()
    result = import_extract(
        actor=coordinator,
        files=[
            csv_file(
                "offences.csv",
                OFFENCES_HEADER,
                offence_row(offence_id="NEW1", person_id="P000002"),
                # Another system's record, linked by the person's PNC id.
                offence_row(source_system="court", offence_id="C1", person_id="2009/0000001a"),
            )
        ],
        agency=agency,
    )
    assert result.accepted, result.problems
    assert Person.objects.count() == people_before
    assert Offence.objects.get(source_id="NEW1").person.source_id == "P000002"
    assert Offence.objects.get(source_id="C1").person.source_id == "P000001"


@pytest.mark.django_db
def test_people_row_sharing_an_identifier_links(coordinator: Any, agency: Any) -> None:
    import_extract(actor=coordinator, files=example_files(), agency=agency)
    row = people_row(
        source_system="nomis",
        person_id="N1",
        first_names="Dan",
        surname="Harrow",
        date_of_birth="1991-04-12",
        pnc_id="",
        prison_number="A0001AA",
    )
    result = import_extract(
        actor=coordinator,
        files=[
            csv_file("people.csv", PEOPLE_HEADER, row),
            csv_file(
                "offences.csv",
                OFFENCES_HEADER,
                offence_row(source_system="nomis", offence_id="NO1", person_id="N1"),
            ),
        ],
        agency=agency,
    )
    assert result.accepted, result.problems
    assert result.batch.counts["people"]["linked"] == 1
    daniel = Person.objects.get(source_id="P000001")
    assert Person.objects.filter(surname="Harrow").count() == 1
    assert Offence.objects.get(source_id="NO1").person == daniel
    assert PersonIdentifier.objects.get(source_system="nomis", source_id="N1").person == daniel
    # And later batches can use the nomis id alone.
    again = import_extract(
        actor=coordinator,
        files=[
            csv_file(
                "offences.csv",
                OFFENCES_HEADER,
                offence_row(source_system="nomis", offence_id="NO2", person_id="N1"),
            )
        ],
        agency=agency,
    )
    assert again.accepted and Offence.objects.get(source_id="NO2").person == daniel


def _name_dob_batch() -> list[ExtractFile]:
    row = people_row(
        source_system="ndelius",
        person_id="D77",
        first_names="KERRY",
        surname="O'Neill",
        date_of_birth="30/09/1988",
        pnc_id="",
        crn="Z999999",
        hub="south",
    )
    return [
        csv_file("people.csv", PEOPLE_HEADER, row),
        csv_file(
            "offences.csv",
            OFFENCES_HEADER,
            offence_row(source_system="ndelius", offence_id="DO1", person_id="D77"),
        ),
    ]


@pytest.mark.django_db
def test_name_and_dob_only_match_is_queued_then_merged(
    coordinator: Any, agency: Any, actor: Any
) -> None:
    import_extract(actor=coordinator, files=example_files(), agency=agency)
    before = model_counts()
    result = import_extract(actor=coordinator, files=_name_dob_batch(), agency=agency)
    assert result.accepted, result.problems
    assert result.batch.counts["people"]["held"] == 1
    assert result.batch.counts["offences"]["held"] == 1
    after = model_counts()
    assert after["people.person"] == before["people.person"]  # no silent duplicate
    assert after["offending.offence"] == before["offending.offence"]
    match = PendingMatch.objects.get()
    kerry = Person.objects.get(source_id="P000002")
    assert match.candidate == kerry and match.held_counts == {"offences": 1}
    # Re-importing while it waits does not queue it twice.
    import_extract(actor=coordinator, files=_name_dob_batch(), agency=agency)
    assert PendingMatch.objects.count() == 1

    with pytest.raises(AccessDenied):
        resolve_pending_match(actor=actor("housing.worker"), match=match, decision="merge")
    person = resolve_pending_match(actor=coordinator, match=match, decision="merge")
    assert person == kerry
    kerry.refresh_from_db()
    assert kerry.crn == "X000002"  # existing identifiers are not overwritten
    assert Offence.objects.get(source_id="DO1").person == kerry
    match.refresh_from_db()
    assert match.status == MatchStatus.RESOLVED and match.resolved_person == kerry
    assert AuditEvent.objects.filter(event_type="import.match_resolved").count() == 1
    assert AuditEvent.objects.filter(event_type="person.merged", person_id=kerry.pk).exists()
    # After merging, the same extract links straight to Kerry.
    third = import_extract(actor=coordinator, files=_name_dob_batch(), agency=agency)
    assert third.batch.counts["people"]["linked"] == 1
    assert PendingMatch.objects.filter(status=MatchStatus.PENDING).count() == 0
    with pytest.raises(ValueError, match="already been resolved"):
        resolve_pending_match(actor=coordinator, match=match, decision="new")


@pytest.mark.django_db
def test_name_and_dob_match_resolved_as_new_person(coordinator: Any, agency: Any) -> None:
    import_extract(actor=coordinator, files=example_files(), agency=agency)
    import_extract(actor=coordinator, files=_name_dob_batch(), agency=agency)
    match = PendingMatch.objects.get()
    person = resolve_pending_match(actor=coordinator, match=match, decision="new")
    assert person.source_system == "ndelius" and person.source_id == "D77"
    assert person.date_of_birth == dt.date(1988, 9, 30)
    assert Person.objects.filter(surname_norm="ONEILL").count() == 2
    assert Offence.objects.get(source_id="DO1").person == person
    again = import_extract(actor=coordinator, files=_name_dob_batch(), agency=agency)
    assert again.batch.counts["people"]["unchanged"] == 1
    assert again.batch.counts["offences"]["unchanged"] == 1


def _xlsx(header: str, *rows: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header.split(","))
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.django_db
def test_xlsx_import(coordinator: Any, agency: Any) -> None:
    cells: list[Any] = people_row().split(",")
    cells[4] = dt.datetime(1990, 1, 2)  # a real spreadsheet date cell
    offence: list[Any] = offence_row().split(",")
    offence[9] = 365  # a number cell
    result = import_extract(
        actor=coordinator,
        files=[
            ExtractFile("people.xlsx", _xlsx(PEOPLE_HEADER, cells)),
            ExtractFile("extract.xlsx", _xlsx(OFFENCES_HEADER, offence), record_type="offences"),
        ],
        agency=agency,
    )
    assert result.accepted, result.problems
    person = Person.objects.get(source_id="P9")
    assert person.date_of_birth == dt.date(1990, 1, 2)
    assert Offence.objects.get(source_id="O9").sentence_length_days == 365


@pytest.mark.django_db
def test_xlsx_errors_name_the_row(coordinator: Any, agency: Any) -> None:
    cells: list[Any] = people_row(date_of_birth="1990-02-30").split(",")
    result = import_extract(
        actor=coordinator,
        files=[ExtractFile("people.xlsx", _xlsx(PEOPLE_HEADER, cells))],
        agency=agency,
    )
    assert result.batch.status == BatchStatus.REJECTED
    assert str(result.problems[0]) == (
        "people.xlsx: row 2, column date_of_birth: '1990-02-30' is not a real date"
    )


@pytest.mark.django_db
def test_housing_worker_cannot_import(actor: Any, agency: Any) -> None:
    before = model_counts()
    with pytest.raises(AccessDenied):
        import_extract(actor=actor("housing.worker"), files=example_files(), agency=agency)
    assert model_counts() == before
    denied = AuditEvent.objects.get(event_type="access.denied")
    assert denied.details["action"] == "import extract"


@pytest.mark.django_db
def test_dry_run_keeps_nothing(coordinator: Any, agency: Any) -> None:
    before = model_counts()
    result = import_extract(actor=coordinator, files=example_files(), agency=agency, dry_run=True)
    assert result.accepted and result.batch.counts["people"]["created"] == 3
    assert model_counts() == before
