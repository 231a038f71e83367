"""Evaluation API: list, get, create (area data and uploaded table), re-run, dashboard data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from openiom.accounts.services import issue_token
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus
from openiom.partnership.models import Partnership
from tests.evaluation.test_report import sample_result
from tests.evaluation.test_services import csv_bytes, small_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(actor: Any) -> Any:
    def make(username: str) -> Client:
        _token, plaintext = issue_token(actor=actor(username), name="test")
        return Client(headers={"Authorization": f"Bearer {plaintext}"})

    return make


@pytest.fixture
def immediate(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def done(personas: Any) -> Evaluation:
    evaluation = Evaluation.objects.create(
        partnership=Partnership.objects.get(),
        requested_by=personas["analyst"],
        title="Fixed cohort 2024",
        kind=EvaluationKind.TABLE,
        config={"spec": {}},
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=EvaluationStatus.DONE,
        result=sample_result(),
        finished_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )
    evaluation.refresh_from_db()
    return evaluation


def test_list_and_get(api_for: Any, done: Evaluation) -> None:
    client = api_for("analyst")
    listed = client.get("/api/evaluation/evaluations").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == done.pk
    assert (
        listed["items"][0]["status"] == "done"
        and listed["items"][0]["url"] == f"/evaluation/{done.pk}/"
    )
    detail = client.get(f"/api/evaluation/evaluations/{done.pk}").json()
    assert detail["headline"] == done.headline
    assert detail["result"]["estimates"][0]["treated"] == pytest.approx(0.42)
    assert client.get("/api/evaluation/evaluations", {"status": "done"}).json()["count"] == 1
    assert client.get("/api/evaluation/evaluations", {"status": "queued"}).json()["count"] == 0
    assert client.get("/api/evaluation/evaluations", {"status": "nonsense"}).status_code == 422
    assert client.get("/api/evaluation/evaluations/999999").status_code == 404


def test_partners_are_refused(api_for: Any, done: Evaluation) -> None:
    client = api_for("housing.worker")
    assert client.get("/api/evaluation/evaluations").status_code == 403
    assert client.get(f"/api/evaluation/evaluations/{done.pk}").status_code == 403
    # ... but see the board dashboard (counts only).
    board = client.get("/api/evaluation/dashboard", {"months": 3}).json()
    assert len(board["month_ends"]) == 3 and board["latest_evaluation"]["id"] == done.pk
    assert "not impact" in board["tracking_notice"]


def test_upload_a_table_runs_and_reruns(api_for: Any, immediate: None) -> None:
    client = api_for("analyst")
    response = client.post(
        "/api/evaluation/evaluations/table",
        {
            "file": SimpleUploadedFile("people.csv", csv_bytes(small_table())),
            "title": "Mentoring",
            "treatment": "treated",
            "outcome": "reoffended",
            "covariates": "age,male,previous",
            "time": "days",
            "event": "event",
        },
    )
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["status"] == "done" and created["result"]["spec"]["time"] == "days"
    again = client.post(f"/api/evaluation/evaluations/{created['id']}/rerun")
    assert again.status_code == 202
    assert again.json()["rerun_of"] == created["id"]
    assert again.json()["result"] == created["result"]


def test_upload_errors_name_the_field(api_for: Any) -> None:
    client = api_for("analyst")
    base = {
        "title": "T",
        "treatment": "treated",
        "outcome": "reoffended",
        "covariates": "age,priors",
    }
    response = client.post(
        "/api/evaluation/evaluations/table",
        {**base, "file": SimpleUploadedFile("people.csv", csv_bytes(small_table()))},
    )
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "columns"] and "'priors'" in detail["msg"]
    response = client.post(
        "/api/evaluation/evaluations/table",
        {
            **base,
            "covariates": "age",
            "time": "days",
            "file": SimpleUploadedFile("p.csv", b"a\n1\n"),
        },
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "event"]


def test_create_from_area_data_is_queued(api_for: Any, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    client = api_for("coordinator")
    payload = {
        "title": "Fixed 2024",
        "cohorts": ["fixed"],
        "registered_from": "2024-01-01",
        "registered_to": "2024-12-31",
        "as_of": "2026-09-01",
        "covariates": ["age", "sex"],
        "matching": {"ratio": 1, "caliper_sd": None},
    }
    response = client.post("/api/evaluation/evaluations", payload, content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["kind"] == "database"
    assert body["config"]["spec"]["matching"]["caliper_sd"] is None
    bad = client.post(
        "/api/evaluation/evaluations",
        {**payload, "covariates": ["shoe_size"]},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "shoe_size" in bad.json()["detail"][0]["msg"]
    future = client.post(
        "/api/evaluation/evaluations",
        {**payload, "as_of": "2999-01-01"},
        content_type="application/json",
    )
    assert future.status_code == 422 and future.json()["detail"][0]["loc"] == ["body", "as_of"]
    assert (
        api_for("police.officer")
        .post("/api/evaluation/evaluations", payload, content_type="application/json")
        .status_code
        == 403
    )
