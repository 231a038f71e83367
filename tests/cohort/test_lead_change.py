"""Changing the lead worker (and lead agency) within a registration: service, history, page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from openiom.access.services import AccessDenied
from openiom.cohort import services
from openiom.cohort.models import LeadWorkerChange, Notification, Registration
from openiom.cohort.services import CohortError
from openiom.people.models import Involvement
from tests.cohort.conftest import PANEL_DAY, agency, events

HANDOVER = PANEL_DAY + dt.timedelta(days=30)


def test_coordinator_hands_the_case_to_a_police_officer(
    registration: Registration, actor: Any, personas: dict[str, Any]
) -> None:
    priya = personas["police.officer"]
    assert not Involvement.objects.filter(
        person=registration.person, agency__code="wessex-police"
    ).exists()
    first_involvement = registration.lead_involvement
    change = services.change_lead_worker(
        actor=actor("coordinator"),
        registration=registration,
        worker=priya,
        agency=agency("wessex-police"),
        reason="Licence ended; police take the lead",
        on=HANDOVER,
    )
    reg = Registration.objects.get(pk=registration.pk)
    assert (reg.lead_worker, reg.lead_agency.code) == (priya, "wessex-police")
    assert change.from_worker == personas["probation.om"]
    assert (change.from_agency.code, change.to_agency.code) == ("probation-wessex", "wessex-police")
    assert change.changed_on == HANDOVER and change.agency_changed
    assert change.changed_by == personas["coordinator"]
    # the new lead agency now works with the person, from the handover; probation's continues
    police = Involvement.objects.get(person=reg.person, agency__code="wessex-police")
    assert (police.start_date, police.end_date, police.worker) == (HANDOVER, None, priya)
    assert reg.lead_involvement == police
    assert first_involvement is not None
    first_involvement.refresh_from_db()
    assert first_involvement.end_date is None
    [event] = events("registration.lead_changed", person_id=reg.person_id)
    assert event.before["lead_worker_id"] == personas["probation.om"].pk
    assert event.after["lead_worker_id"] == priya.pk
    assert event.summary == f"{reg.person}'s lead worker is now Priya Shah (Wessex Police)"
    assert events("involvement.started", person_id=reg.person_id)[-1].object_id == str(police.pk)
    assert Notification.objects.filter(user=priya, text__contains="lead worker").exists()
    # de-registration ends the new lead agency's involvement
    services.deregister(
        actor=actor("coordinator"),
        registration=reg,
        reason="moved_away",
        on=HANDOVER + dt.timedelta(days=10),
    )
    police.refresh_from_db()
    assert police.end_date == HANDOVER + dt.timedelta(days=10)


def test_same_agency_change_adds_no_involvement(
    registration: Registration, actor: Any, personas: dict[str, Any]
) -> None:
    from django.contrib.auth import get_user_model

    from openiom.accounts.models import Membership, Role

    colleague = get_user_model().objects.create_user(
        username="om2", first_name="Olu", last_name="Ade"
    )
    Membership.objects.create(
        user=colleague, agency=agency("probation-wessex"), role=Role.OFFENDER_MANAGER
    )
    before = Involvement.objects.count()
    change = services.change_lead_worker(
        actor=actor("coordinator"),
        registration=registration,
        worker=colleague,
        agency=agency("probation-wessex"),
        reason="Owen left the team",
        on=HANDOVER,
    )
    assert not change.agency_changed
    assert Involvement.objects.count() == before
    registration.refresh_from_db()
    assert registration.lead_worker == colleague


@pytest.mark.parametrize(
    "persona", ["police.officer", "probation.om", "housing.worker", "drug.worker", "analyst", "dpo"]
)
def test_only_core_coordinators_change_the_lead(
    registration: Registration, actor: Any, personas: dict[str, Any], persona: str
) -> None:
    with pytest.raises(AccessDenied):
        services.change_lead_worker(
            actor=actor(persona),
            registration=registration,
            worker=personas["police.officer"],
            agency=agency("wessex-police"),
            reason="Because",
            on=HANDOVER,
        )
    assert not LeadWorkerChange.objects.exists()
    registration.refresh_from_db()
    assert registration.lead_worker == personas["probation.om"]
    assert events("access.denied", person_id=registration.person_id)


def test_bad_changes_are_refused_and_nothing_is_written(
    registration: Registration, actor: Any, personas: dict[str, Any]
) -> None:
    coordinator = actor("coordinator")
    base: dict[str, Any] = {
        "actor": coordinator,
        "registration": registration,
        "worker": personas["police.officer"],
        "agency": agency("wessex-police"),
        "reason": "Handover",
        "on": HANDOVER,
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"agency": agency("probation-wessex")}, "does not work for"),
        ({"worker": personas["probation.om"], "agency": agency("probation-wessex")}, "already"),
        ({"reason": "  "}, "say why"),
        ({"on": PANEL_DAY - dt.timedelta(days=1)}, "before the registration started"),
        ({"on": dt.date.today() + dt.timedelta(days=3)}, "in the future"),
    ]
    for override, message in cases:
        with pytest.raises(CohortError, match=message):
            services.change_lead_worker(**{**base, **override})
    assert not LeadWorkerChange.objects.exists()
    services.change_lead_worker(**base)
    # a later change cannot be dated before the last one
    with pytest.raises(CohortError, match="last changed"):
        services.change_lead_worker(
            **{
                **base,
                "worker": personas["probation.om"],
                "agency": agency("probation-wessex"),
                "on": HANDOVER - dt.timedelta(days=1),
            }
        )
    assert LeadWorkerChange.objects.count() == 1
    # ended registrations cannot change
    services.deregister(
        actor=coordinator, registration=registration, reason="moved_away", on=HANDOVER
    )
    with pytest.raises(CohortError, match="ended"):
        services.change_lead_worker(
            **{**base, "worker": personas["probation.om"], "agency": agency("probation-wessex")}
        )


def test_history_rows_are_append_only(
    registration: Registration, actor: Any, personas: dict[str, Any]
) -> None:
    change = services.change_lead_worker(
        actor=actor("coordinator"),
        registration=registration,
        worker=personas["police.officer"],
        agency=agency("wessex-police"),
        reason="Handover",
        on=HANDOVER,
    )
    change.reason = "edited"
    with pytest.raises(PermissionError):
        change.save()
    with pytest.raises(PermissionError):
        LeadWorkerChange.objects.all().delete()


def test_the_page_changes_the_lead_and_shows_the_history(
    registration: Registration, client_for: Any, personas: dict[str, Any]
) -> None:
    coordinator = client_for("coordinator")
    url = reverse("cohort:change_lead", args=[registration.pk])
    page = coordinator.get(reverse("cohort:registration", args=[registration.pk]))
    assert url in page.content.decode()
    form = coordinator.get(url)
    assert form.status_code == 200
    police = f"{agency('wessex-police').pk}:{personas['police.officer'].pk}"
    assert f'value="{police}"' in form.content.decode()
    # errors: every field says what is wrong, nothing is written
    bad = coordinator.post(url, {"lead": "", "reason": "", "on": "31/02/2026"})
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "Select the new lead worker" in text
    assert "Enter why the lead worker is changing" in text
    assert "must be a real date" in text
    assert "govuk-error-summary" in text
    same = f"{agency('probation-wessex').pk}:{personas['probation.om'].pk}"
    again = coordinator.post(
        url, {"lead": same, "reason": "x", "on": HANDOVER.strftime("%d/%m/%Y")}
    )
    assert again.status_code == 400 and "already the lead worker" in again.content.decode()
    assert not LeadWorkerChange.objects.exists()
    done = coordinator.post(
        url, {"lead": police, "reason": "Police take the lead", "on": HANDOVER.strftime("%d/%m/%Y")}
    )
    assert done.status_code == 302
    page = coordinator.get(reverse("cohort:registration", args=[registration.pk]))
    text = page.content.decode()
    assert "Lead worker changes, most recent first" in text
    assert "Police take the lead" in text and "(new lead agency)" in text


@pytest.mark.parametrize("persona", ["police.officer", "probation.om", "housing.worker", "analyst"])
def test_the_page_is_refused_to_others(
    registration: Registration, client_for: Any, persona: str
) -> None:
    url = reverse("cohort:change_lead", args=[registration.pk])
    assert client_for(persona).get(url).status_code == 403
    page = client_for("probation.om").get(reverse("cohort:registration", args=[registration.pk]))
    assert url not in page.content.decode()
