"""Large uploads are imported by a background task (django-tasks); the batch page follows it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from openiom.audit.models import AuditEvent
from openiom.imports import services
from openiom.imports.models import BatchStatus, ImportBatch
from openiom.imports.services import fail_stalled_batches, run_stored_batch
from openiom.offending.models import Offence
from openiom.people.models import Person
from tests.imports.conftest import example_files, model_counts

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def media(tmp_path: Path) -> Any:
    with override_settings(MEDIA_ROOT=tmp_path, IMPORT_SYNC_MAX_BYTES=0):
        yield tmp_path


@pytest.fixture
def client_as(client: Any, personas: dict[str, Any]) -> Any:
    def login(username: str) -> Any:
        client.force_login(personas[username])
        return client

    return login


def _post(client: Any, agency: Any) -> Any:
    uploads = [SimpleUploadedFile(f.name, f.data, content_type="text/csv") for f in example_files()]
    return client.post(
        reverse("imports:upload"),
        {"extract_files": uploads, "record_type": "", "agency": agency.pk},
    )


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_upload_is_queued_and_the_task_imports_it(client_as: Any, agency: Any, media: Path) -> None:
    client = client_as("coordinator")
    with override_settings(TASKS=IMMEDIATE):
        response = _post(client, agency)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:batch_detail", args=[batch.pk])
    assert batch.status == BatchStatus.COMPLETED, batch.message
    assert batch.task_id  # ran as a task, not in the request
    assert batch.rows_done == batch.rows_total > 0
    assert batch.heartbeat_at is not None and batch.started_at is not None
    assert batch.counts["offences"]["created"] == Offence.objects.count() == 4
    assert _stored_files(media) == []  # the stored upload is deleted once imported
    page = client.get(response["Location"])
    assert b"govuk-panel--confirmation" in page.content
    assert b'http-equiv="refresh"' not in page.content


@pytest.mark.django_db
def test_queued_batch_waits_shows_progress_page_then_runs(
    client_as: Any, agency: Any, media: Path
) -> None:
    client = client_as("coordinator")
    with override_settings(TASKS=DUMMY):  # nothing runs the task yet: it stays queued
        response = _post(client, agency)
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.PENDING
    assert len(_stored_files(media)) == len(example_files())
    page = client.get(response["Location"])
    assert b'<meta http-equiv="refresh" content="5">' in page.content
    assert b"Waiting to start" in page.content
    assert b"No background worker has started" not in page.content
    assert Person.objects.count() == 0
    # Long queued: the page says no worker has taken it.
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )
    page = client.get(response["Location"])
    assert b"No background worker has started this import" in page.content

    assert run_stored_batch(batch_id=batch.pk) == BatchStatus.COMPLETED
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED
    assert Offence.objects.count() == 4
    assert _stored_files(media) == []
    # A repeated task leaves a finished batch alone.
    assert run_stored_batch(batch_id=batch.pk) == BatchStatus.COMPLETED
    assert Offence.objects.count() == 4


@pytest.mark.django_db
def test_running_batch_page_shows_rows_and_refreshes(
    client_as: Any, agency: Any, coordinator: Any
) -> None:
    batch = ImportBatch.objects.create(
        agency=agency,
        created_by=coordinator.user,
        status=BatchStatus.IMPORTING,
        rows_total=1000,
        rows_done=250,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    page = client_as("coordinator").get(reverse("imports:batch_detail", args=[batch.pk]))
    assert b"Importing: 250 of 1000 rows (25%)" in page.content
    assert b'http-equiv="refresh"' in page.content
    assert b"seems to have stalled" not in page.content


@pytest.mark.django_db
def test_failure_in_the_task_marks_the_batch_failed(
    client_as: Any, agency: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "_write_all", broken)
    before = model_counts()
    client = client_as("coordinator")
    with override_settings(TASKS=IMMEDIATE):
        response = _post(client, agency)
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.FAILED
    assert batch.finished_at is not None
    assert "Nothing was imported" in batch.message
    assert "RuntimeError: disk on fire" in batch.message
    assert model_counts() == before  # all or nothing
    assert _stored_files(media) == []
    failed = AuditEvent.objects.get(event_type="import.failed")
    assert failed.actor_username == "coordinator" and failed.details["batch_id"] == batch.pk
    page = client.get(response["Location"])
    assert b"The import failed" in page.content
    assert b"disk on fire" in page.content
    assert b'http-equiv="refresh"' not in page.content


@pytest.mark.django_db
def test_missing_stored_file_fails_with_a_clear_message(
    client_as: Any, agency: Any, media: Path
) -> None:
    with override_settings(TASKS=DUMMY):
        _post(client_as("coordinator"), agency)
    batch = ImportBatch.objects.get()
    for p in _stored_files(media):
        p.unlink()
    assert run_stored_batch(batch_id=batch.pk) == BatchStatus.FAILED
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert "is no longer stored" in batch.message
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_stalled_batch_is_shown_and_later_failed(
    client_as: Any, agency: Any, coordinator: Any
) -> None:
    long_ago = timezone.now() - dt.timedelta(hours=2)
    batch = ImportBatch.objects.create(
        agency=agency,
        created_by=coordinator.user,
        status=BatchStatus.IMPORTING,
        rows_total=10,
        rows_done=3,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    fresh = ImportBatch.objects.create(
        agency=agency,
        created_by=coordinator.user,
        status=BatchStatus.IMPORTING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    client = client_as("coordinator")
    page = client.get(reverse("imports:batch_detail", args=[batch.pk]))
    assert b"seems to have stalled" in page.content
    assert fail_stalled_batches() == 1
    batch.refresh_from_db()
    fresh.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert "stopped without finishing" in batch.message
    assert fresh.status == BatchStatus.IMPORTING


@pytest.mark.django_db
def test_small_uploads_are_imported_in_the_request(client_as: Any, agency: Any) -> None:
    with override_settings(TASKS=DUMMY, IMPORT_SYNC_MAX_BYTES=10_000_000):
        _post(client_as("coordinator"), agency)
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.COMPLETED
    assert batch.task_id == ""


@pytest.mark.django_db
def test_uploader_losing_permission_fails_the_batch(
    client_as: Any, agency: Any, media: Path, personas: dict[str, Any]
) -> None:
    with override_settings(TASKS=DUMMY):
        _post(client_as("coordinator"), agency)
    batch = ImportBatch.objects.get()
    housing = personas["housing.worker"]
    ImportBatch.objects.filter(pk=batch.pk).update(created_by=housing)
    assert run_stored_batch(batch_id=batch.pk) == BatchStatus.FAILED
    batch.refresh_from_db()
    assert "no longer allowed" in batch.message
    assert Person.objects.count() == 0
