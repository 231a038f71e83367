"""Evaluation pages: list, forms with specific errors, progress, report, downloads, re-run, and
the board dashboard; access for each persona; strict CSP on every page."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from openiom.audit.models import AuditEvent
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus
from openiom.partnership.models import Partnership
from tests.evaluation.test_report import sample_result
from tests.evaluation.test_services import csv_bytes, small_table
from tests.web.helpers import assert_csp_safe, html

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def client_for(personas: dict[str, Any]) -> Any:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(personas[username])
        return client

    return make


@pytest.fixture
def immediate(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


@pytest.fixture
def done(personas: Any) -> Evaluation:
    """A finished evaluation holding the hand-made result of test_report."""
    evaluation = Evaluation.objects.create(
        partnership=Partnership.objects.get(),
        requested_by=personas["analyst"],
        title="Fixed cohort 2024",
        kind=EvaluationKind.TABLE,
        config={"spec": {}},
        software={"openiom": "0.1.0"},
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=EvaluationStatus.DONE,
        result=sample_result(),
        data_fingerprint="f" * 64,
        finished_at=dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC),
    )
    evaluation.refresh_from_db()
    return evaluation


def _upload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Mentoring referrals 2024",
        "label": "People mentored",
        "file": SimpleUploadedFile("people.csv", csv_bytes(small_table()), content_type="text/csv"),
        "treatment": "treated",
        "outcome": "reoffended",
        "frequency": "reoffences",
        "time": "days",
        "event": "event",
        "harm": "",
        "covariates": "age, male, previous",
        "ratio": "1",
        "replace": "no",
        "caliper": "0.2",
        "exact": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "username,status",
    [
        ("analyst", 200),
        ("coordinator", 200),
        ("police.officer", 200),
        ("housing.worker", 403),
        ("admin", 403),
    ],
)
def test_who_sees_the_evaluation_list(client_for: Any, username: str, status: int) -> None:
    response = client_for(username).get("/evaluation/")
    assert response.status_code == status


def test_list_links_the_evaluations_and_offers_a_new_one(client_for: Any, done: Evaluation) -> None:
    response = client_for("analyst").get("/evaluation/")
    body = assert_csp_safe(response)
    assert f'href="/evaluation/{done.pk}/"' in body and "Fixed cohort 2024" in body
    assert "Start a new evaluation" in body
    # An IOM member who may read but not run sees no start button.
    body = html(client_for("police.officer").get("/evaluation/"))
    assert "Start a new evaluation" not in body and "Fixed cohort 2024" in body
    assert client_for("police.officer").get("/evaluation/new/").status_code == 403


def test_upload_form_errors_are_specific(client_for: Any) -> None:
    client = client_for("analyst")
    response = client.post("/evaluation/new/table/", {"ratio": "0", "replace": "no"})
    assert response.status_code == 400
    body = assert_csp_safe(response)
    for message in (
        "Enter a title for the evaluation",
        "Select a CSV or Parquet file",
        "Enter the name of the treatment column",
        "Enter the name of the outcome column",
        "Enter the covariate columns to match on, separated by commas",
        "Comparison people per person must be 1 or more",
    ):
        assert message in body, message
    assert 'href="#id_title"' in body  # the error summary links to the field

    response = client.post("/evaluation/new/table/", _upload(time="days", event=""))
    assert "Enter both a time-to-reoffence column and an event column, or neither" in html(response)
    response = client.post("/evaluation/new/table/", _upload(covariates="age, reoffended"))
    assert "The outcome column &#x27;reoffended&#x27; cannot also be a covariate" in html(response)


def test_upload_naming_a_missing_column_is_an_error_on_that_field(client_for: Any) -> None:
    response = client_for("analyst").post(
        "/evaluation/new/table/", _upload(covariates="age, priors")
    )
    assert response.status_code == 400
    body = html(response)
    assert "The table has no column called &#x27;priors&#x27;" in body
    assert 'id="id_covariates-error"' in body
    assert not Evaluation.objects.exists()


def test_upload_runs_and_shows_the_report(client_for: Any, immediate: None) -> None:
    client = client_for("analyst")
    response = client.post("/evaluation/new/table/", _upload())
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evaluation/{evaluation.pk}/"
    assert evaluation.status == EvaluationStatus.DONE, evaluation.error
    response = client.get(response["Location"])
    body = assert_csp_safe(response)
    assert evaluation.result is not None and evaluation.result["headline"].split(":")[0] in body
    assert "Summary per 100 people" in body and "Assumptions and caveats" in body
    assert "Data fingerprint" in body and evaluation.data_fingerprint in body
    assert 'role="img"' in body and "Run this evaluation again" in body


def test_progress_page_refreshes_until_finished(client_for: Any, personas: Any) -> None:
    evaluation = Evaluation.objects.create(
        partnership=Partnership.objects.get(),
        requested_by=personas["analyst"],
        title="Waiting",
        kind=EvaluationKind.TABLE,
        config={},
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=EvaluationStatus.RUNNING, progress_stage="matching", progress_fraction=0.4
    )
    client = client_for("coordinator")
    response = client.get(f"/evaluation/{evaluation.pk}/")
    body = assert_csp_safe(response)
    assert response["Refresh"] == "5"
    assert "40% complete: matching" in body and "Stop refreshing" in body
    response = client.get(f"/evaluation/{evaluation.pk}/?refresh=off")
    assert not response.has_header("Refresh") and "Check progress again" in html(response)
    # Nothing to download yet.
    assert client.get(f"/evaluation/{evaluation.pk}/report.pdf").status_code == 404


def test_failed_page_says_why(client_for: Any, personas: Any) -> None:
    evaluation = Evaluation.objects.create(
        partnership=Partnership.objects.get(),
        requested_by=personas["analyst"],
        title="Broken",
        kind=EvaluationKind.TABLE,
        config={},
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=EvaluationStatus.FAILED, error="Row 9, column 'treated': must be 0 or 1 (found 2)"
    )
    body = assert_csp_safe(client_for("analyst").get(f"/evaluation/{evaluation.pk}/"))
    assert "The evaluation could not be completed" in body
    assert "Row 9, column &#x27;treated&#x27;: must be 0 or 1 (found 2)" in body


def test_downloads_are_audited(client_for: Any, done: Evaluation) -> None:
    client = client_for("analyst")
    response = client.get(f"/evaluation/{done.pk}/report.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert (
        f'filename="evaluation-{done.pk}-fixed-cohort-2024.pdf"' in response["Content-Disposition"]
    )
    response = client.get(f"/evaluation/{done.pk}/report.html")
    assert response.content.decode().startswith("<!DOCTYPE html>")
    response = client.get(f"/evaluation/{done.pk}/result.json")
    assert response.json()["result"]["headline"] == done.headline
    for slug in (
        "balance",
        "estimates",
        "attrition",
        "survival",
        "pairs",
        "profile",
        "propensity",
        "sensitivity",
    ):
        response = client.get(f"/evaluation/{done.pk}/csv/{slug}.csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), slug
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert len(rows) > 1, slug
    assert client.get(f"/evaluation/{done.pk}/csv/nothing.csv").status_code == 404
    downloads = AuditEvent.objects.filter(
        event_type="evaluation.downloaded", object_id=str(done.pk)
    )
    assert downloads.count() == 3 + 8
    assert downloads.filter(category="disclosure").count() == 11


def test_detail_lists_every_csv_download(client_for: Any, done: Evaluation) -> None:
    body = html(client_for("analyst").get(f"/evaluation/{done.pk}/"))
    for slug in ("balance", "estimates", "attrition", "survival", "pairs"):
        assert f'href="/evaluation/{done.pk}/csv/{slug}.csv"' in body


def test_rerun_button_queues_a_new_evaluation(client_for: Any, immediate: None) -> None:
    client = client_for("analyst")
    client.post("/evaluation/new/table/", _upload())
    first = Evaluation.objects.get()
    response = client.post(f"/evaluation/{first.pk}/rerun/")
    again = Evaluation.objects.exclude(pk=first.pk).get()
    assert response["Location"] == f"/evaluation/{again.pk}/"
    assert again.rerun_of_id == first.pk and again.status == EvaluationStatus.DONE
    assert again.result == first.result
    assert client.get(f"/evaluation/{first.pk}/rerun/").status_code == 405
    assert client_for("police.officer").post(f"/evaluation/{first.pk}/rerun/").status_code == 403


def test_database_form_errors_are_specific(client_for: Any) -> None:
    client = client_for("coordinator")
    body = assert_csp_safe(client.get("/evaluation/new/area/"))
    assert 'value="ogrs3_2yr" checked' in body  # the default covariates are ticked
    response = client.post(
        "/evaluation/new/area/",
        {
            "title": "Fixed 2026",
            "registered_from": "1/6/2026",
            "registered_to": "1/1/2026",
            "as_of": "31/13/2026",
            "covariates": ["age"],
            "exact": ["sex"],
            "ratio": "1",
            "replace": "no",
            "caliper": "",
        },
    )
    assert response.status_code == 400
    body = html(response)
    assert "The date to measure outcomes up to must be a real date, like 1/4/2024" in body
    assert "The last registration date must be the same as or after the first" in body
    assert (
        "Exact-matching characteristics must also be selected as characteristics to match on: sex"
        in body
    )
    response = client.post(
        "/evaluation/new/area/",
        {
            "title": "Too recent",
            "registered_from": "1/1/2026",
            "registered_to": "1/6/2026",
            "as_of": "1/9/2026",
            "covariates": ["age"],
            "ratio": "1",
            "replace": "no",
        },
    )
    # 1 September 2026 − 365 days = 1 September 2025; − 182 days (184 days from 1 March to
    # 1 September, less 2) = 3 March 2025.
    assert "The last registration date must be 3/3/2025 or earlier" in html(response)


def test_database_form_queues_an_evaluation(client_for: Any, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    response = client_for("coordinator").post(
        "/evaluation/new/area/",
        {
            "title": "Fixed 2024",
            "cohorts": ["fixed"],
            "registered_from": "1/1/2024",
            "registered_to": "31/12/2024",
            "lead_agency": "probation-wessex",
            "as_of": "1/9/2026",
            "covariates": ["age", "sex", "offences_last_year"],
            "exact": ["sex"],
            "ratio": "2",
            "replace": "yes",
            "caliper": "0.25",
        },
    )
    evaluation = Evaluation.objects.get()
    assert response["Location"] == f"/evaluation/{evaluation.pk}/"
    config = evaluation.config
    assert (
        config["selection"]["cohorts"] == ["fixed"]
        and config["selection"]["lead_agency"] == "probation-wessex"
    )
    assert (
        config["selection"]["registered_from"] == "2024-01-01" and config["as_of"] == "2026-09-01"
    )
    assert config["spec"]["covariates"] == ["age", "sex", "offences_last_year"]
    assert config["spec"]["matching"] == {
        **config["spec"]["matching"],
        "ratio": 2,
        "replace": True,
        "caliper_sd": 0.25,
        "exact": ["sex"],
    }
    assert (
        config["spec"]["treatment"] == "treated" and config["spec"]["time"] == "days_to_reoffence"
    )


@pytest.mark.parametrize("username", ["housing.worker", "analyst", "police.officer"])
def test_every_member_sees_the_board_dashboard(
    client_for: Any, done: Evaluation, username: str
) -> None:
    response = client_for(username).get("/evaluation/dashboard/")
    body = assert_csp_safe(response)
    assert "Board dashboard" in body and "tracking, not impact" in body
    assert "regression to the mean" in body
    assert done.headline[:40] in body


def test_nav_shows_evaluation_or_the_dashboard(client_for: Any) -> None:
    assert 'href="/evaluation/"' in html(client_for("analyst").get("/"))
    body = html(client_for("housing.worker").get("/"))
    assert 'href="/evaluation/dashboard/"' in body and 'href="/evaluation/"' not in body
