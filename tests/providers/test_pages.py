"""Provider referral pages: every persona on every page, the send form and the steps, without
JavaScript."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.providers.models import ProviderReferral
from tests.providers.conftest import agency
from tests.web.helpers import assert_csp_safe

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
# With an active referral to Harbour Housing: who sees the person's referrals and the referral.
VIEWERS = SENDERS | {"housing.worker"}
INBOX = SENDERS | {"housing.worker", "drug.worker", "vcs.mentor"}


def pages(referral) -> dict[str, str]:
    return {
        "person": reverse("providers:person", args=[referral.person_id]),
        "send": reverse("providers:send", args=[referral.registration_id]),
        "detail": reverse("providers:detail", args=[referral.pk]),
        "inbox": reverse("providers:inbox"),
    }


@pytest.mark.parametrize("username", ALL)
def test_every_persona_on_every_page(referral, client_for, username):
    client = client_for(username)
    expected = {
        "person": 200 if username in VIEWERS else 403,
        "send": 200 if username in SENDERS else 403,
        "detail": 200 if username in VIEWERS else 403,
        "inbox": 200 if username in INBOX else 403,
    }
    for name, url in pages(referral).items():
        response = client.get(url)
        assert response.status_code == expected[name], (name, response.status_code)
        body = assert_csp_safe(response)
        if response.status_code == 403:
            assert "Sofa surfing" not in body
    if username not in VIEWERS:
        assert AuditEvent.objects.filter(
            event_type="access.denied", actor_username=username
        ).exists()


def test_signed_out_users_are_sent_to_sign_in(referral):
    from django.test import Client

    for url in pages(referral).values():
        response = Client().get(url)
        assert response.status_code == 302 and "sign-in" in response["Location"]


def test_the_person_page_lists_referrals_and_offers_sending(referral, client_for):
    body = client_for("probation.om").get(pages(referral)["person"]).content.decode()
    assert f"Referral {referral.pk}" in body and "Harbour Housing Association" in body
    assert reverse("providers:send", args=[referral.registration_id]) in body
    housing = client_for("housing.worker").get(pages(referral)["person"]).content.decode()
    assert f"Referral {referral.pk}" in housing
    assert reverse("providers:send", args=[referral.registration_id]) not in housing


def test_the_inbox_lists_the_agencys_active_referrals(referral, client_for):
    body = client_for("housing.worker").get(reverse("providers:inbox")).content.decode()
    assert f"Referral {referral.pk}" in body and referral.person.full_name in body
    drug = client_for("drug.worker").get(reverse("providers:inbox")).content.decode()
    assert "There are no active referrals to your agency" in drug


GOOD = {
    "service_type": "mentoring",
    "receiving_agency": "",  # filled in by the test (an id)
    "receiving_worker": "",
    "reason": "Needs a mentor through the gate",
    "consent_given_on": "20/03/2026",
    "consent_recorded_how": "verbal",
    "legal_basis": "",
    "legal_basis_detail": "",
}


def test_sending_through_the_form(reg, client_for, personas):
    client = client_for("probation.om")
    url = reverse("providers:send", args=[reg.pk])
    form = client.get(url)
    assert form.status_code == 200
    body = assert_csp_safe(form)
    assert "Lawful basis for sharing" in body and "Crime and Disorder Act 1998 s115" in body
    data = {
        **GOOD,
        "receiving_agency": agency("second-chance-mentoring").pk,
        "receiving_worker": personas["vcs.mentor"].pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302
    referral = ProviderReferral.objects.get()
    assert response["Location"] == reverse("providers:detail", args=[referral.pk])
    assert referral.receiving_worker == personas["vcs.mentor"]
    assert referral.consent_recorded_how == "verbal"
    page = client.get(response["Location"]).content.decode()
    assert f"Referral {referral.pk} sent to Second Chance Mentoring" in page
    assert "Consent given on 20/03/2026" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"consent_given_on": "", "consent_recorded_how": ""},
            "legal_basis",
            "Record the person&#x27;s consent",
        ),
        ({"consent_given_on": "31/02/2026"}, "consent_given_on", "Enter the date consent"),
        ({"consent_recorded_how": ""}, "consent_recorded_how", "Say how the person"),
        ({"service_type": ""}, "service_type", "Select the service"),
        ({"reason": ""}, "reason", "Say why the person is referred"),
        ({"receiving_agency": ""}, "receiving_agency", "Select the agency"),
        (
            {"consent_given_on": "", "consent_recorded_how": "", "legal_basis": "other"},
            "legal_basis_detail",
            "Describe the legal basis",
        ),
        ({"receiving_worker": "drug"}, "receiving_worker", "is not a case worker at"),
    ],
)
def test_form_errors_are_shown_against_their_field(
    reg, client_for, personas, changes, field, message
):
    data = {**GOOD, "receiving_agency": agency("second-chance-mentoring").pk, **changes}
    if data["receiving_worker"] == "drug":
        data["receiving_worker"] = personas["drug.worker"].pk
    response = client_for("probation.om").post(reverse("providers:send", args=[reg.pk]), data)
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert "There is a problem" in body
    assert f'href="#id_{field}"' in body
    assert f'id="id_{field}-error"' in body
    assert message in body
    assert not ProviderReferral.objects.exists()


def test_a_partner_cannot_post_the_send_form(reg, client_for):
    data = {**GOOD, "receiving_agency": agency("harbour-housing").pk}
    response = client_for("housing.worker").post(reverse("providers:send", args=[reg.pk]), data)
    assert response.status_code == 403
    assert not ProviderReferral.objects.exists()


def _post(client, referral, action, reason=""):
    return client.post(
        reverse("providers:transition", args=[referral.pk]), {"action": action, "reason": reason}
    )


def test_the_referral_page_offers_each_side_its_steps(referral, client_for):
    housing = client_for("housing.worker").get(pages(referral)["detail"]).content.decode()
    assert "Accept the referral" in housing and "Decline the referral" in housing
    assert "Withdraw the referral" not in housing
    sender = client_for("probation.om").get(pages(referral)["detail"]).content.decode()
    assert "Withdraw the referral" in sender and "Accept the referral" not in sender
    assert "History" in sender and "Sofa surfing" in sender


def test_the_provider_works_the_referral_through_the_pages(referral, client_for):
    client = client_for("housing.worker")
    for action, state in [("accept", "accepted"), ("start", "in_progress")]:
        response = _post(client, referral, action)
        assert response.status_code == 302
        assert response["Location"] == pages(referral)["detail"]
        referral.refresh_from_db()
        assert referral.state == state
    page = client.get(pages(referral)["detail"]).content.decode()
    assert "Complete the referral" in page and "End the referral early" in page
    response = _post(client, referral, "complete", "Tenancy signed")
    assert response.status_code == 302
    assert response["Location"] == reverse("providers:inbox")  # the referral is gone for them
    referral.refresh_from_db()
    assert referral.state == "completed" and referral.closing_reason == "Tenancy signed"
    sender = client_for("probation.om").get(pages(referral)["detail"]).content.decode()
    assert "Completion note" in sender and "Tenancy signed" in sender


def test_a_missing_reason_is_a_field_error(referral, client_for):
    response = _post(client_for("housing.worker"), referral, "decline", "  ")
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert 'href="#reason-decline"' in body and 'id="reason-decline-error"' in body
    assert "Say why the referral is declined" in body
    referral.refresh_from_db()
    assert referral.state == "sent"


def test_an_invalid_step_is_a_clear_error(referral, client_for):
    response = _post(client_for("housing.worker"), referral, "start")
    assert response.status_code == 409
    assert "This referral is sent: only a referral that is accepted can be started" in (
        response.content.decode()
    )
    referral.refresh_from_db()
    assert referral.state == "sent"


def test_the_wrong_side_is_refused(referral, client_for):
    assert _post(client_for("probation.om"), referral, "accept").status_code == 403
    assert _post(client_for("housing.worker"), referral, "withdraw", "x").status_code == 403
    assert _post(client_for("drug.worker"), referral, "accept").status_code == 403
    referral.refresh_from_db()
    assert referral.state == "sent"


def test_an_unknown_step_or_referral_is_not_found(referral, client_for):
    client = client_for("housing.worker")
    assert _post(client, referral, "teleport").status_code == 404
    assert client.get(reverse("providers:detail", args=[999999])).status_code == 404


def test_the_sender_withdraws_through_the_page(referral, client_for):
    response = _post(client_for("coordinator"), referral, "withdraw", "Housed by family")
    assert response.status_code == 302
    assert response["Location"] == pages(referral)["detail"]
    referral.refresh_from_db()
    assert referral.state == "withdrawn" and referral.closing_reason == "Housed by family"
