"""Scoring API: runs, candidates with breakdowns, explanations, enqueueing and rule sets."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from openiom.accounts.services import issue_token
from openiom.audit.models import AuditEvent
from openiom.scoring.models import CandidateScore, ScoringRun
from tests.scoring_web.conftest import FREE


@pytest.fixture
def api_for(actor: Any) -> Any:
    def make(username: str) -> Client:
        _token, plaintext = issue_token(actor=actor(username), name="test")
        return Client(headers={"Authorization": f"Bearer {plaintext}"})

    return make


def test_runs_and_progress(api_for: Any, run: ScoringRun) -> None:
    client = api_for("analyst")
    listed = client.get("/api/scoring/runs").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == run.pk
    detail = client.get(f"/api/scoring/runs/{run.pk}").json()
    assert detail["status"] == "finished" and detail["progress"] == 100
    assert detail["input_fingerprint"] == run.input_fingerprint
    assert detail["policy"]["key"] == FREE
    assert client.get("/api/scoring/runs", {"strand": "fixed"}).json()["count"] == 0
    assert client.get("/api/scoring/runs", {"strand": "wobbly"}).status_code == 422
    assert client.get("/api/scoring/runs/999999").status_code == 404


def test_candidates_paginated_filtered_and_audited(api_for: Any, run: ScoringRun) -> None:
    client = api_for("coordinator")
    page = client.get(f"/api/scoring/runs/{run.pk}/candidates", {"limit": 2, "offset": 1}).json()
    stored = list(CandidateScore.objects.filter(run=run).order_by("rank"))
    assert page["count"] == len(stored)
    assert [c["rank"] for c in page["results"]] == [2, 3]
    assert page["results"][0]["breakdown"] == stored[1].breakdown
    assert page["results"][0]["components"] == stored[1].components
    assert "indicator only" in page["notice"]
    custody = client.get(f"/api/scoring/runs/{run.pk}/candidates", {"flag": "long_custody"}).json()
    assert [c["flags"] for c in custody["results"]] == [["long_custody"]]
    by_total = client.get(f"/api/scoring/runs/{run.pk}/candidates", {"sort": "total"}).json()
    totals = [c["total"] for c in by_total["results"]]
    assert totals == sorted(totals)
    assert client.get(f"/api/scoring/runs/{run.pk}/candidates", {"sort": "x"}).status_code == 422
    assert client.get(f"/api/scoring/runs/{run.pk}/candidates", {"flag": "x"}).status_code == 422
    events = AuditEvent.objects.filter(event_type="scoring.candidates_consulted")
    assert events.count() == 3
    assert events.order_by("id").first().details["person_ids"] == [c.person_id for c in stored[1:3]]


def test_explanation(api_for: Any, run: ScoringRun) -> None:
    c = CandidateScore.objects.get(run=run, rank=2)
    body = api_for("analyst").get(f"/api/scoring/runs/{run.pk}/candidates/{c.person_id}").json()
    assert body["breakdown"] == c.breakdown
    assert body["components"] == c.components
    assert body["policy"]["version"] == run.policy.version
    assert body["input_fingerprint"] == run.input_fingerprint
    assert (
        AuditEvent.objects.get(event_type="scoring.explanation_consulted").person_id == c.person_id
    )
    missing = api_for("analyst").get(f"/api/scoring/runs/{run.pk}/candidates/999999")
    assert missing.status_code == 404


def test_enqueue_runs_with_the_immediate_backend(
    api_for: Any, area: Any, immediate_tasks: None
) -> None:
    client = api_for("coordinator")
    response = client.post(
        "/api/scoring/runs",
        {"policy_key": FREE, "as_of": "2025-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    run = ScoringRun.objects.get(pk=response.json()["id"])
    assert run.status == "finished" and run.candidates_stored > 0
    bad = client.post(
        "/api/scoring/runs",
        {"policy_key": "nope", "as_of": "2025-01-01"},
        content_type="application/json",
    )
    assert bad.status_code == 422


@pytest.mark.parametrize("username", ["police.officer", "housing.worker", "dpo"])
def test_refused(api_for: Any, run: ScoringRun, username: str) -> None:
    client = api_for(username)
    person_id = run.candidates.first().person_id
    for method, url in [
        ("get", "/api/scoring/runs"),
        ("get", f"/api/scoring/runs/{run.pk}"),
        ("get", f"/api/scoring/runs/{run.pk}/candidates"),
        ("get", f"/api/scoring/runs/{run.pk}/candidates/{person_id}"),
        ("post", "/api/scoring/runs"),
    ]:
        if method == "post":
            response = client.post(
                url, {"policy_key": FREE, "as_of": "2025-01-01"}, content_type="application/json"
            )
        else:
            response = client.get(url)
        assert response.status_code == 403, url
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 5
    assert not AuditEvent.objects.filter(event_type="scoring.candidates_consulted").exists()


def test_rule_sets(api_for: Any, db: Any) -> None:
    client = api_for("probation.om")
    everything = client.get("/api/scoring/policies").json()
    assert {r["kind"] for r in everything} == {"policy", "harm", "cost"}
    assert all(
        "U" in r["status_tags"] or r["status_tags"] for r in everything if r["kind"] == "policy"
    )
    versions = client.get(f"/api/scoring/policies/policy/{FREE}").json()
    assert versions[0]["config"]["strand"] == "free"
    one = client.get("/api/scoring/policies/harm/crime-harm-index/1").json()
    assert one["config"]["groups"]["034"]["days"] == 365.0
    assert client.get("/api/scoring/policies/harm/crime-harm-index/9").status_code == 404
    assert client.get("/api/scoring/policies/nope/x").status_code == 404
