"""Cohort definitions and policy versions: readable by all staff, published by coordinators."""

from __future__ import annotations

import pytest

from openiom.cohort.models import CohortDefinition, RagPolicy
from tests.cohort.conftest import events
from tests.cohort_api.helpers import field_error, post

RAG_VERSIONS = "/api/policies/rag/rag/versions"
NEW_RAG = {
    "name": "RAG suggestion rules (6-week window)",
    "config": {"window_days": 42},
    "source": "Board minute 2026/14 [V]",
    "change_note": "Reviews are six-weekly now",
    "effective_from": "2026-12-01",
}


class TestCohorts:
    def test_the_cohorts_in_force_with_their_rules_and_occupancy(self, as_persona, registration):
        response = as_persona("housing.worker").get("/api/cohorts")

        assert response.status_code == 200
        cohorts = {c["key"]: c for c in response.json()["results"]}
        assert set(cohorts) == {"fixed", "flex", "free"}
        fixed = cohorts["fixed"]
        assert fixed["version"] == 1 and fixed["registered"] == 1 and fixed["capacity"] is None
        assert fixed["rules"]["review_period_days"] == 28
        assert fixed["rules"]["eligibility"]["neighbourhood_crime"] is True

    def test_on_a_date_before_any_cohort(self, as_token, db):
        body = as_token("coordinator").get("/api/cohorts", {"on": "1999-01-01"}).json()
        assert body == {"on": "1999-01-01", "results": []}

    def test_a_bad_date_is_a_422(self, as_token, db):
        assert field_error(as_token("coordinator").get("/api/cohorts", {"on": "soon"}))[0] == "on"


class TestVersions:
    def test_every_version_newest_first(self, as_persona, db):
        response = as_persona("analyst").get("/api/policies/cohort/fixed/versions")
        assert response.status_code == 200
        body = response.json()
        assert (body["kind"], body["key"], body["in_force"]) == ("cohort", "fixed", 1)
        [v1] = body["results"]
        assert v1["version"] == 1 and v1["created_by"] is None
        assert v1["config"]["planned_registration_months"] == 12

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            ("/api/policies/cohort/platinum/versions", 404),
            ("/api/policies/scoring/rag/versions", 422),
            ("/api/policies/rag/no%20such/versions", 422),
            (f"/api/policies/cohort/{'k' * 65}/versions", 422),
        ],
    )
    def test_unknown_kinds_and_keys(self, as_token, db, path, status):
        response = as_token("coordinator").get(path)
        assert response.status_code == status
        if status == 404:
            assert response.json() == {"detail": "No cohort policy 'platinum'."}


class TestPublish:
    def test_a_coordinator_publishes_the_next_version(self, as_persona, db):
        response = post(as_persona("coordinator"), RAG_VERSIONS, NEW_RAG)

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["version"] == 2 and body["created_by"] == "coordinator"
        assert body["config"] == {"window_days": 42}
        assert RagPolicy.objects.get(version=1).config != body["config"]  # v1 untouched
        [published] = events("cohort.policy_published")
        assert published.summary == "Published rag policy rag v2"
        listed = as_persona("coordinator").get(RAG_VERSIONS).json()
        assert [v["version"] for v in listed["results"]] == [2, 1]

    def test_a_new_local_cohort_strand(self, as_token, db):
        body = {
            **NEW_RAG,
            "name": "Youth to adult transition strand",
            "config": {"description": "18-25s", "eligibility": {"min_age": 18, "max_age": 25}},
        }
        response = post(as_token("coordinator"), "/api/policies/cohort/transition/versions", body)
        assert response.status_code == 201
        assert CohortDefinition.objects.filter(key="transition").count() == 1

    @pytest.mark.parametrize("username", ["probation.om", "housing.worker", "analyst", "admin"])
    def test_only_coordinators_publish(self, as_token, db, username):
        response = post(as_token(username), RAG_VERSIONS, {**NEW_RAG, "config": {"bad": 1}})
        assert response.status_code == 403
        assert RagPolicy.objects.count() == 1
        [denied] = events("access.denied")
        assert denied.details["action"] == "edit cohort policy"

    @pytest.mark.parametrize(
        ("change", "field", "says"),
        [
            ({"config": {"window_days": 0}}, "config", "window_days: must be a whole number"),
            ({"config": {"colour": "red"}}, "config", "unknown setting(s) colour"),
            ({"config": {"window_days": 10**40}}, "config", "must be at most"),
            ({"config": {"red_rules": ["a\x00"]}}, "config", "NUL"),
            ({"config": []}, "config", ""),
            ({"config": {"description": [[[[[[[[[[[[]]]]]]]]]]]]}}, "config", "nested too deeply"),
            ({"config": "window_days=3"}, "config", ""),
            ({"effective_from": "2019-01-01"}, "effective_from", "before version 1's"),
            ({"effective_from": "2200-01-01"}, "effective_from", "between"),
            ({"name": ""}, "name", "Give the policy a name"),
            ({"source": " "}, "source", "Say where the values come from"),
            ({"change_note": None}, "change_note", ""),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field(self, as_token, db, change, field, says):
        response = post(as_token("coordinator"), RAG_VERSIONS, {**NEW_RAG, **change})
        got, message = field_error(response)
        assert got == field and says in message
        assert RagPolicy.objects.count() == 1

    def test_the_rag_policy_key_is_fixed(self, as_token, db):
        response = post(as_token("coordinator"), "/api/policies/rag/other/versions", NEW_RAG)
        assert field_error(response) == ("key", "key: the rag policy's key is 'rag'")

    def test_non_finite_numbers_are_refused(self, as_token, db):
        body = {
            **NEW_RAG,
            "name": "Scored",
            "config": {"eligibility": {"minimum_score": 1}},
        }
        raw = (
            '{"name": "Scored", "source": "s", "change_note": "c", "effective_from": '
            '"2026-12-01", "config": {"eligibility": {"minimum_score": 1e999}}}'
        )
        client = as_token("coordinator")
        response = client.post(
            "/api/policies/cohort/fixed/versions", raw, content_type="application/json"
        )
        assert field_error(response) == (
            "config",
            "config.eligibility.minimum_score: must be a finite number.",
        )
        ok = post(client, "/api/policies/cohort/fixed/versions", body)
        assert ok.status_code == 201
