"""The upload pages (Django test client), the management command, and csv_safety."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.core.csv_safety import safe_cell, safe_row
from openiom.imports.models import BatchStatus, ImportBatch, MatchStatus, PendingMatch
from openiom.offending.models import Offence
from openiom.people.models import Person
from tests.imports.conftest import EXAMPLES, example_files, example_text, model_counts
from tests.imports.test_hostile import PEOPLE_HEADER, people_row
from tests.imports.test_import import _name_dob_batch


@pytest.fixture
def client_as(client: Any, personas: dict[str, Any]) -> Any:
    def login(username: str) -> Any:
        client.force_login(personas[username])
        return client

    return login


def _uploads() -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f.name, f.data, content_type="text/csv") for f in example_files()]


@pytest.mark.django_db
def test_upload_flow(client_as: Any, agency: Any) -> None:
    client = client_as("coordinator")
    page = client.get(reverse("imports:upload"))
    assert page.status_code == 200
    assert b'class="govuk-file-upload' in page.content
    assert b'<label class="govuk-label govuk-label--m" for="id_extract_files">' in page.content
    response = client.post(
        reverse("imports:upload"),
        {"extract_files": _uploads(), "record_type": "", "agency": agency.pk},
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:batch_detail", args=[batch.pk])
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert batch.status == BatchStatus.COMPLETED
    assert b"govuk-panel--confirmation" in detail.content
    assert b'http-equiv="refresh"' not in detail.content  # finished: no refresh
    assert Offence.objects.count() == 4
    listing = client.get(reverse("imports:batch_list"))
    assert f"Import {batch.pk}".encode() in listing.content


@pytest.mark.django_db
def test_upload_without_files_shows_linked_error(client_as: Any, agency: Any) -> None:
    response = client_as("analyst").post(reverse("imports:upload"), {"agency": agency.pk})
    assert response.status_code == 400
    assert b"govuk-error-summary" in response.content
    assert b'href="#id_extract_files"' in response.content
    assert b"Choose at least one file to import" in response.content


@pytest.mark.django_db
def test_rejected_upload_error_report_and_csv(client_as: Any, agency: Any) -> None:
    client = client_as("coordinator")
    bad = (
        PEOPLE_HEADER
        + "\n"
        + people_row(surname="=HYPERLINK(1)", date_of_birth="31/02/1990")
        + "\n"
    ).encode()
    before = model_counts()
    response = client.post(
        reverse("imports:upload"),
        {"extract_files": [SimpleUploadedFile("people.csv", bad)], "agency": agency.pk},
    )
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.REJECTED
    assert model_counts() == before
    detail = client.get(response["Location"])
    assert b"Nothing was imported" in detail.content
    assert (
        b"row 2, column date_of_birth: &#x27;31/02/1990&#x27; is not a real date" in detail.content
    )
    errors = client.get(reverse("imports:batch_errors", args=[batch.pk]))
    assert errors.status_code == 200 and b"is not a real date" in errors.content
    download = client.get(reverse("imports:batch_errors_csv", args=[batch.pk]))
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["file", "row", "column", "value", "message"]
    assert rows[1][:3] == ["people.csv", "2", "date_of_birth"]


@pytest.mark.django_db
def test_housing_worker_gets_403(client_as: Any) -> None:
    client = client_as("housing.worker")
    assert client.get(reverse("imports:upload")).status_code == 403
    assert client.post(reverse("imports:upload"), {}).status_code == 403
    assert client.get(reverse("imports:match_list")).status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 3


@pytest.mark.django_db
def test_match_queue_pages(client_as: Any, coordinator: Any, agency: Any) -> None:
    from openiom.imports.services import import_extract

    import_extract(actor=coordinator, files=example_files(), agency=agency)
    import_extract(actor=coordinator, files=_name_dob_batch(), agency=agency)
    match = PendingMatch.objects.get()
    client = client_as("coordinator")
    listing = client.get(reverse("imports:match_list"))
    assert b"KERRY O&#x27;Neill" in listing.content
    url = reverse("imports:match_detail", args=[match.pk])
    page = client.get(url)
    assert b'<legend class="govuk-fieldset__legend' in page.content
    missing = client.post(url, {})
    assert missing.status_code == 400 and b'href="#id_decision_0"' in missing.content
    done = client.post(url, {"decision": "new"})
    assert done.status_code == 302
    match.refresh_from_db()
    assert match.status == MatchStatus.RESOLVED and match.decision == "new"
    assert Person.objects.filter(source_id="D77").exists()
    again = client.post(url, {"decision": "merge"})
    assert again.status_code == 200 and b"This was decided by coordinator" in again.content


@pytest.mark.django_db
def test_command_imports_examples(personas: Any, capsys: Any) -> None:
    call_command("import_extract", str(EXAMPLES), user="analyst", agency="wessex-police")
    out = capsys.readouterr().out
    assert "Imported: 17 created" in out  # 15 rows + 2 addresses
    assert Person.objects.count() == 3
    call_command("import_extract", str(EXAMPLES), user="analyst", agency="wessex-police")
    assert "0 created, 0 updated, 17 unchanged" in capsys.readouterr().out


@pytest.mark.django_db
def test_command_rejects_with_nonzero_exit(personas: Any, tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "people.csv").write_text(
        example_text("people.csv").replace("1991-04-12", "1991-02-30"), encoding="utf-8"
    )
    with pytest.raises(CommandError, match="Nothing was imported: 1 error found"):
        call_command("import_extract", str(tmp_path), user="analyst", agency="wessex-police")
    assert "row 2, column date_of_birth: '1991-02-30' is not a real date" in capsys.readouterr().err
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_command_dry_run_and_permissions(personas: Any, capsys: Any) -> None:
    call_command(
        "import_extract", str(EXAMPLES), user="analyst", agency="wessex-police", dry_run=True
    )
    assert "Dry run (nothing kept)" in capsys.readouterr().out
    assert Person.objects.count() == 0 and ImportBatch.objects.count() == 0
    from openiom.access.services import AccessDenied

    with pytest.raises(AccessDenied):
        call_command("import_extract", str(EXAMPLES), user="housing.worker", agency="wessex-police")
    with pytest.raises(CommandError, match="no user"):
        call_command("import_extract", str(EXAMPLES), user="nobody", agency="wessex-police")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 1234", "'+44 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, "-5"),
        (3.5, "3.5"),
    ],
)
def test_safe_cell(value: Any, expected: str) -> None:
    assert safe_cell(value) == expected


def test_safe_row() -> None:
    assert safe_row(["=1", 2, None]) == ["'=1", "2", ""]
