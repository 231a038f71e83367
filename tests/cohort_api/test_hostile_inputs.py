"""Hostile and malformed input never causes a 500: every endpoint answers 4xx with a JSON detail."""

from __future__ import annotations

import pytest
from django.test import Client

from openiom.audit.models import AuditEvent
from openiom.cohort.models import PanelDecision, Referral, Registration

HUGE = str(2**64)

POSTS = [
    "/api/referrals",
    "/api/referrals/{referral}/submit",
    "/api/referrals/{referral}/list-for-panel",
    "/api/referrals/{referral}/withdraw",
    "/api/referrals/{referral}/re-refer",
    "/api/referrals/{referral}/decision",
    "/api/registrations/{registration}/status",
    "/api/registrations/{registration}/rag",
    "/api/registrations/{registration}/exit-plan",
    "/api/registrations/{registration}/deregister",
    "/api/policies/cohort/fixed/versions",
]
GETS = [
    "/api/referrals",
    "/api/referrals/{referral}",
    "/api/registrations",
    "/api/registrations/{registration}",
    "/api/registrations/{registration}/rag-suggestion",
    "/api/registrations/{registration}/exit-suggestion",
    "/api/people/{person}/iom",
    "/api/cohorts",
    "/api/policies/cohort/fixed/versions",
]
BODIES = [
    "not json",
    "[]",
    "null",
    "",
    '"a string"',
    "123",
    '{"person_id": 1e999, "reason": null}',
    '{"decision": {"$gt": ""}, "decided_on": [2026, 3, 2], "agencies_present": [[], {}]}',
    '{"status": "red\\u0000", "on": "2026-13-45", "reported": {"appointments_kept": 1e400}}',
    '{"reason": "' + "x" * 20_000 + '", "plan": 5, "panel_date": 1e300}',
    '{"name": "n", "source": "s", "change_note": "c", "effective_from": "2026-12-01", '
    '"config": {"capacity": 99999999999999999999999999}}',
]


def urls(template_list, registration):
    ids = {
        "referral": registration.referral_id,
        "registration": registration.pk,
        "person": registration.person_id,
    }
    return [t.format(**ids) for t in template_list]


@pytest.mark.parametrize("body", BODIES)
def test_malformed_bodies_are_refused_with_a_detail(as_token, registration, body):
    client = as_token("coordinator")
    before = (Referral.objects.count(), PanelDecision.objects.count(), Registration.objects.count())
    for url in urls(POSTS, registration):
        response = client.post(url, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (url, response.status_code, response.content)
        assert "detail" in response.json()
    after = (Referral.objects.count(), PanelDecision.objects.count(), Registration.objects.count())
    assert after == before


@pytest.mark.parametrize(
    "params",
    [
        {"on": "0001-01-01"},
        {"on": "9999-12-31"},
        {"on": HUGE},
        {"state": "x" * 5000},
        {"cohort": "\x00"},
        {"rag": "\x00"},
        {"hub": "%00"},
        {"appointments_kept": HUGE},
        {"stable_accommodation": "maybe"},
    ],
)
def test_malformed_query_parameters_are_refused(as_token, registration, params):
    client = as_token("coordinator")
    for url in urls(GETS, registration):
        response = client.get(url, params)
        assert response.status_code in {200, 400, 403, 404, 422}, (url, response.content)
        assert response.json()


@pytest.mark.parametrize("bad", ["0", "-5", HUGE, "1e3", "abc", "%00", "99999999999"])
def test_malformed_and_unknown_ids(as_token, db, bad):
    client = as_token("coordinator")
    for template in [*GETS, *POSTS]:
        if "{" not in template:
            continue
        url = template.format(referral=bad, registration=bad, person=bad)
        response = (
            client.post(url, {}, content_type="application/json")
            if template in POSTS
            else client.get(url)
        )
        assert response.status_code in {404, 422}, (url, response.status_code)


def test_without_credentials_every_endpoint_is_a_401(registration):
    client = Client(enforce_csrf_checks=True)
    for url in urls(GETS, registration):
        assert client.get(url).status_code == 401, url
    for url in urls(POSTS, registration):
        assert client.post(url, {}, content_type="application/json").status_code == 401, url
    assert not AuditEvent.objects.filter(event_type__endswith="consulted").exists()


def test_a_session_without_the_csrf_token_cannot_write(as_session, registration):
    client = as_session("coordinator", enforce_csrf_checks=True)
    response = client.post(
        f"/api/registrations/{registration.pk}/status",
        {"status": "suspended", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code in {401, 403}
    assert Registration.objects.get(pk=registration.pk).status == "active"
