"""/api/provider-referrals: the same policy, services, validation and audit as the pages."""

from __future__ import annotations

import pytest

from openiom.audit.models import AuditEvent
from openiom.providers.models import ProviderReferral

pytestmark = pytest.mark.django_db

ALL = [
    "police.officer",
    "probation.om",
    "coordinator",
    "housing.worker",
    "drug.worker",
    "vcs.mentor",
    "analyst",
    "dpo",
    "admin",
]
SENDERS = {"police.officer", "probation.om", "coordinator"}
VIEWERS = SENDERS | {"housing.worker"}
INBOX = VIEWERS | {"drug.worker", "vcs.mentor"}
BASE = "/api/provider-referrals"


def body(reg, **changes):
    data = {
        "registration_id": reg.pk,
        "service_type": "drug_alcohol",
        "receiving_agency": "turning-point-wessex",
        "reason": "Heroin use since release; wants a script",
        "legal_basis": "cda_1998_s115",
        "legal_basis_detail": "Reducing reoffending; the person refused to sign",
    }
    data.update(changes)
    return data


def test_send_list_get_and_step(reg, as_persona):
    sender = as_persona("probation.om")
    response = sender.post(BASE, body(reg), content_type="application/json")
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["state"] == "sent" and sent["receiving_agency"] == "turning-point-wessex"
    assert sent["sent_by"] == "probation.om" and sent["legal_basis"] == "cda_1998_s115"
    assert [h["to_state"] for h in sent["history"]] == ["sent"]
    referral = ProviderReferral.objects.get(pk=sent["id"])
    assert referral.involvement.agency.code == "turning-point-wessex"

    drug = as_persona("drug.worker")
    assert [r["id"] for r in drug.get(f"{BASE}/inbox").json()] == [sent["id"]]
    assert [r["id"] for r in drug.get(f"{BASE}/people/{reg.person_id}").json()] == [sent["id"]]
    assert drug.get(f"{BASE}/{sent['id']}").status_code == 200
    for action in ["accept", "start"]:
        stepped = drug.post(
            f"{BASE}/{sent['id']}/transitions", {"action": action}, content_type="application/json"
        )
        assert stepped.status_code == 200, stepped.content
    assert stepped.json()["state"] == "in_progress"
    done = drug.post(
        f"{BASE}/{sent['id']}/transitions",
        {"action": "end_early", "reason": "Moved to another area"},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert done.json()["state"] == "ended_early"
    assert [h["to_state"] for h in done.json()["history"]] == [
        "sent",
        "accepted",
        "in_progress",
        "ended_early",
    ]
    # Closed: the provider's access ends at once.
    assert drug.get(f"{BASE}/{sent['id']}").status_code == 403
    assert drug.get(f"{BASE}/people/{reg.person_id}").status_code == 403
    assert drug.get(f"/api/people/{reg.person_id}").status_code == 403
    assert drug.get(f"{BASE}/inbox").json() == []
    assert sender.get(f"{BASE}/{sent['id']}").json()["state"] == "ended_early"


@pytest.mark.parametrize("username", ALL)
def test_every_persona_on_every_endpoint(referral, as_token, username):
    client = as_token(username)
    reads = {
        f"{BASE}/people/{referral.person_id}": username in VIEWERS,
        f"{BASE}/{referral.pk}": username in VIEWERS,
        f"{BASE}/inbox": username in INBOX,
    }
    for url, allowed in reads.items():
        assert client.get(url).status_code == (200 if allowed else 403), url
    sent = client.post(
        BASE,
        body(referral.registration, receiving_agency="second-chance-mentoring"),
        content_type="application/json",
    )
    assert sent.status_code == (201 if username in SENDERS else 403), sent.content
    accepted = client.post(
        f"{BASE}/{referral.pk}/transitions", {"action": "accept"}, content_type="application/json"
    )
    assert accepted.status_code == (200 if username == "housing.worker" else 403)
    if username not in VIEWERS:
        assert AuditEvent.objects.filter(
            event_type="access.denied", actor_username=username
        ).exists()


def test_without_credentials_401(referral):
    from django.test import Client

    assert Client().get(f"{BASE}/{referral.pk}").status_code == 401
    assert Client().post(BASE, {}, content_type="application/json").status_code == 401


def test_no_lawful_basis_is_a_422_on_the_field(reg, as_persona):
    response = as_persona("probation.om").post(
        BASE, body(reg, legal_basis="", legal_basis_detail=""), content_type="application/json"
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "legal_basis"]
    assert "record the person's consent" in error["msg"]
    assert not ProviderReferral.objects.exists()


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"receiving_agency": "nowhere"}, "receiving_agency"),
        ({"receiving_worker": "nobody"}, "receiving_worker"),
        ({"receiving_worker": "housing.worker"}, "receiving_worker"),
        ({"reason": ""}, "reason"),
        ({"consent_given_on": "2026-03-20"}, "consent_recorded_how"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(reg, as_token, changes, loc):
    response = as_token("probation.om").post(
        BASE, body(reg, **changes), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert [e["loc"] for e in response.json()["detail"]] == [["body", loc]]
    assert not ProviderReferral.objects.exists()


def test_schema_errors_are_422(reg, as_token):
    client = as_token("probation.om")
    assert (
        client.post(BASE, body(reg, service_type="spa"), content_type="application/json")
    ).status_code == 422
    assert (
        client.post(BASE, body(reg, legal_basis="magna"), content_type="application/json")
    ).status_code == 422


def test_unknown_records_are_404(reg, referral, as_token):
    client = as_token("probation.om")
    assert client.get(f"{BASE}/999999").status_code == 404
    assert client.get(f"{BASE}/people/999999").status_code == 404
    assert (
        client.post(BASE, body(reg, registration_id=999999), content_type="application/json")
    ).status_code == 404
    assert (
        client.post(
            f"{BASE}/999999/transitions", {"action": "accept"}, content_type="application/json"
        )
    ).status_code == 404


def test_invalid_step_is_409_and_missing_reason_422(referral, as_token):
    client = as_token("housing.worker")
    started = client.post(
        f"{BASE}/{referral.pk}/transitions", {"action": "start"}, content_type="application/json"
    )
    assert started.status_code == 409
    assert "only a referral that is accepted can be started" in started.json()["detail"]
    declined = client.post(
        f"{BASE}/{referral.pk}/transitions",
        {"action": "decline", "reason": ""},
        content_type="application/json",
    )
    assert declined.status_code == 422
    assert declined.json()["detail"][0]["loc"] == ["body", "reason"]
    unknown = client.post(
        f"{BASE}/{referral.pk}/transitions",
        {"action": "teleport"},
        content_type="application/json",
    )
    assert unknown.status_code == 422
    referral.refresh_from_db()
    assert referral.state == "sent"
