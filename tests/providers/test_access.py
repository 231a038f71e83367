"""The receiving agency sees the person's basics and its referral only while the referral is
active; closing it ends that access at once (pages, API, search). Never intelligence or
offending."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from openiom.access.policy import Action, ProviderReferralAction, can, people_visible_to
from openiom.audit.models import AuditEvent
from openiom.people.models import Involvement
from openiom.people.selectors import search_people
from openiom.providers import selectors
from tests.web.conftest import add_history
from tests.web.helpers import assert_csp_safe

pytestmark = pytest.mark.django_db

CLOSE = {
    # state: (steps before, closing step, by)
    "completed": (["accept", "start"], "complete", "housing.worker"),
    "declined": ([], "decline", "housing.worker"),
    "ended_early (provider)": (["accept"], "end_early", "housing.worker"),
    "ended_early (sender)": (["accept", "start"], "end_early", "probation.om"),
    "withdrawn": ([], "withdraw", "probation.om"),
    "withdrawn after acceptance": (["accept"], "withdraw", "coordinator"),
}


def _close(referral, step, how: str):
    before, closing, by = CLOSE[how]
    for action in before:
        referral = step(referral, action)
    return step(referral, closing, by=by, reason="Closing note")


def _urls(referral) -> dict[str, str]:
    p = referral.person_id
    return {
        "person page": reverse("people:detail", args=[p]),
        "referrals page": reverse("providers:person", args=[p]),
        "referral page": reverse("providers:detail", args=[referral.pk]),
        "person API": f"/api/people/{p}",
        "referrals API": f"/api/provider-referrals/people/{p}",
        "referral API": f"/api/provider-referrals/{referral.pk}",
    }


def test_the_receiving_worker_sees_the_basics_and_the_referral_while_active(
    referral, actor, client_for, as_token, offence_code
):
    add_history(referral.person, offence_code)
    housing = actor("housing.worker")
    assert can(housing, Action.VIEW_PERSON, referral.person)
    assert referral.person in people_visible_to(housing)
    assert search_people(actor=housing, query=referral.person.surname) == [referral.person]
    client = client_for("housing.worker")
    api = as_token("housing.worker")
    for name, url in _urls(referral).items():
        response = (api if "API" in name else client).get(url)
        assert response.status_code == 200, (name, response.content[:300])
    page = client.get(reverse("people:detail", args=[referral.person_id]))
    body = assert_csp_safe(page)
    assert "SECRETINTEL" not in body and "ntelligence" not in body
    assert 'id="offending"' not in body and "Burglary" not in body
    assert [r.pk for r in selectors.agency_inbox(actor=housing)] == [referral.pk]


@pytest.mark.parametrize("username", ["housing.worker", "drug.worker", "vcs.mentor"])
def test_providers_never_see_intelligence_or_offending(send, actor, username, offence_code):
    agencies = {
        "housing.worker": ("harbour-housing", "housing"),
        "drug.worker": ("turning-point-wessex", "drug_alcohol"),
        "vcs.mentor": ("second-chance-mentoring", "mentoring"),
    }
    to, service = agencies[username]
    referral = send(to=to, service_type=service)
    add_history(referral.person, offence_code)
    provider = actor(username)
    assert can(provider, Action.VIEW_PERSON, referral.person)
    assert not can(provider, Action.VIEW_INTELLIGENCE, referral.person)
    assert not can(provider, Action.VIEW_OFFENDING, referral.person)
    api = f"/api/people/{referral.person_id}"
    from django.test import Client

    client = Client()
    client.force_login(provider.user)
    assert client.get(f"{api}/intelligence").status_code == 403
    assert client.get(f"{api}/offences").status_code == 403
    body = client.get(api).json()
    assert "offences" not in body and "arrests" not in body
    assert "SECRETINTEL" not in str(body)


@pytest.mark.parametrize("how", list(CLOSE))
def test_closing_the_referral_ends_the_providers_access_at_once(
    referral, step, actor, client_for, as_token, how
):
    closed = _close(referral, step, how)
    today = timezone.localdate()
    inv = Involvement.objects.get(pk=closed.involvement_id)
    assert inv.end_date == today - dt.timedelta(days=1)  # no access for the rest of today
    assert AuditEvent.objects.filter(event_type="involvement.ended", object_id=str(inv.pk)).exists()
    housing = actor("housing.worker")
    person = closed.person
    assert not can(housing, Action.VIEW_PERSON, person)
    assert not can(housing, ProviderReferralAction.VIEW, person)
    assert person not in people_visible_to(housing)
    assert search_people(actor=housing, query=person.surname) == []
    client = client_for("housing.worker")
    api = as_token("housing.worker")
    for name, url in _urls(closed).items():
        response = (api if "API" in name else client).get(url)
        assert response.status_code == 403, (name, response.status_code)
    searched = client.get(reverse("people:search"), {"q": person.surname})
    assert searched.status_code == 200 and person.surname.upper() not in searched.content.decode()
    assert api.get("/api/people", {"q": person.surname}).json()["count"] == 0
    inbox = client.get(reverse("providers:inbox"))
    assert inbox.status_code == 200 and f"Referral {closed.pk}" not in inbox.content.decode()
    assert api.get("/api/provider-referrals/inbox").json() == []
    # The sending side still sees the closed referral.
    assert client_for("probation.om").get(_urls(closed)["referral page"]).status_code == 200


def test_a_named_worker_loses_access_too(send, step, personas, client_for):
    referral = send(receiving_worker=personas["housing.worker"])
    client = client_for("housing.worker")
    assert client.get(reverse("people:detail", args=[referral.person_id])).status_code == 200
    step(referral, "decline", reason="Not eligible")
    assert client.get(reverse("people:detail", args=[referral.person_id])).status_code == 403


def test_closing_does_not_end_an_involvement_the_referral_did_not_open(
    referral, step, involve, actor, client_for
):
    own = involve(referral.person, "housing.worker")  # housing already works with him
    closed = step(referral, "decline", reason="Already housed by us")
    own.refresh_from_db()
    assert own.end_date is None
    housing = actor("housing.worker")
    assert can(housing, Action.VIEW_PERSON, closed.person)  # through its own work
    client = client_for("housing.worker")
    assert client.get(reverse("people:detail", args=[closed.person_id])).status_code == 200
    # ...but the closed referral has vanished for it.
    assert selectors.referrals_visible(housing, closed.person).count() == 0
    assert client.get(reverse("providers:detail", args=[closed.pk])).status_code == 403
    listed = client.get(reverse("providers:person", args=[closed.person_id]))
    assert listed.status_code == 200 and f"Referral {closed.pk}" not in listed.content.decode()
    denied = AuditEvent.objects.filter(event_type="access.denied").latest("id")
    assert "visible to the sending side only" in denied.details["reason"]


def test_a_hand_ended_involvement_is_left_alone(referral, step):
    Involvement.objects.filter(pk=referral.involvement_id).update(end_date=dt.date(2020, 1, 1))
    step(referral, "withdraw", by="probation.om", reason="No longer needed")
    assert Involvement.objects.get(pk=referral.involvement_id).end_date == dt.date(2020, 1, 1)
    assert not AuditEvent.objects.filter(event_type="involvement.ended").exists()


def test_a_receiving_agency_sees_only_its_own_active_referrals(send, actor, step):
    housing_ref = send()
    drug_ref = send(to="turning-point-wessex", service_type="drug_alcohol")
    person = housing_ref.person
    assert [r.pk for r in selectors.referrals_visible(actor("housing.worker"), person)] == [
        housing_ref.pk
    ]
    assert [r.pk for r in selectors.referrals_visible(actor("drug.worker"), person)] == [
        drug_ref.pk
    ]
    for sender in ["probation.om", "coordinator", "police.officer"]:
        seen = {r.pk for r in selectors.referrals_visible(actor(sender), person)}
        assert seen == {housing_ref.pk, drug_ref.pk}, sender
    step(drug_ref, "decline", by="drug.worker", reason="No capacity")
    assert [r.pk for r in selectors.referrals_visible(actor("housing.worker"), person)] == [
        housing_ref.pk
    ]


def test_reads_are_audited(referral, actor):
    housing = actor("housing.worker")
    selectors.person_referrals(actor=housing, person=referral.person)
    selectors.get_referral(actor=housing, referral_id=referral.pk)
    selectors.agency_inbox(actor=housing)
    types = set(
        AuditEvent.objects.filter(actor_username="housing.worker").values_list(
            "event_type", flat=True
        )
    )
    assert {
        "provider_referral.list_consulted",
        "provider_referral.consulted",
        "provider_referral.inbox_consulted",
    } <= types
