"""Registration status follows custody; the plan continues through the gate (issue #5 item 6)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from openiom.audit.models import AuditEvent
from openiom.casework.alerts import raise_alerts
from openiom.casework.custody import SYSTEM_USERNAME, follow_custody
from openiom.cohort import services
from openiom.cohort.models import Registration, RegistrationStatusChange
from openiom.people.models import CustodyEpisode, Involvement
from openiom.plans.models import ManagementPlan, PlanAction
from tests.cohort.conftest import agency

pytestmark = pytest.mark.django_db

RECEIVED = dt.date(2026, 6, 1)


def episode(person: Any, **fields: Any) -> CustodyEpisode:
    values: dict[str, Any] = {
        "custody_type": "remand",
        "received_date": RECEIVED,
        "establishment": "HMP Wessex",
        "source_system": "nomis",
        "source_id": f"C{CustodyEpisode.objects.count() + 1}",
    }
    values.update(fields)
    return CustodyEpisode.objects.create(person=person, **values)


def status_of(registration: Registration) -> str:
    registration.refresh_from_db()
    return registration.status


def test_active_goes_into_custody_once_with_a_system_audit_event(
    registration: Registration,
) -> None:
    episode(registration.person, expected_release_date=dt.date(2026, 12, 1))
    assert follow_custody(on=dt.date(2026, 5, 31)).changed == 0  # not received yet
    run = follow_custody(on=RECEIVED)
    assert run.into_custody == [registration.pk]
    assert follow_custody(on=RECEIVED).changed == 0
    assert follow_custody(on=RECEIVED + dt.timedelta(days=1)).changed == 0
    registration.refresh_from_db()
    assert registration.status == "in_custody"
    assert registration.status_since == RECEIVED
    change = RegistrationStatusChange.objects.get(registration=registration, to_status="in_custody")
    assert change.from_status == "active"
    assert change.changed_on == RECEIVED
    assert change.note.startswith(
        "Custody episode from nomis at HMP Wessex: remand from 01/06/2026"
    )
    assert change.changed_by.get_username() == SYSTEM_USERNAME
    assert not change.changed_by.is_active and not change.changed_by.has_usable_password()
    event = AuditEvent.objects.get(event_type="registration.status_changed")
    assert event.actor is None
    assert event.actor_username == "system"
    assert event.person_id == registration.person_id
    assert event.after["status"] == "in_custody"


def test_released_goes_back_to_active_on_the_release_date(registration: Registration) -> None:
    spell = episode(registration.person)
    follow_custody(on=dt.date(2026, 7, 1))
    assert status_of(registration) == "in_custody"
    released = dt.date(2026, 8, 14)
    CustodyEpisode.objects.filter(pk=spell.pk).update(release_date=released, release_type="bail")
    assert follow_custody(on=dt.date(2026, 8, 13)).changed == 0  # still inside that day
    run = follow_custody(on=dt.date(2026, 8, 20))
    assert run.released == [registration.pk]
    registration.refresh_from_db()
    assert (registration.status, registration.status_since) == ("active", released)
    change = RegistrationStatusChange.objects.filter(registration=registration).last()
    assert change is not None
    assert "released on 14/08/2026 (bail)" in change.note
    assert follow_custody(on=dt.date(2026, 8, 21)).changed == 0


def test_the_plan_and_involvements_continue_through_the_gate(
    registration: Registration, personas: dict[str, Any], involve: Any
) -> None:
    om = personas["probation.om"]
    plan = ManagementPlan.objects.create(
        registration=registration,
        person=registration.person,
        status="agreed",
        next_review_date=dt.date(2026, 12, 1),
        created_by=om,
        updated_by=om,
    )
    action = PlanAction.objects.create(
        plan=plan,
        person=registration.person,
        owner_agency=agency("harbour-housing"),
        owner_worker=personas["housing.worker"],
        action_type="support",
        description="Keep the tenancy open while on remand",
        due_date=dt.date(2026, 12, 1),
        created_by=om,
        updated_by=om,
    )
    involve(registration.person, "drug.worker")
    open_before = set(
        Involvement.objects.filter(person=registration.person, end_date__isnull=True).values_list(
            "pk", flat=True
        )
    )
    assert open_before
    spell = episode(registration.person)
    follow_custody(on=dt.date(2026, 7, 1))
    assert status_of(registration) == "in_custody"
    CustodyEpisode.objects.filter(pk=spell.pk).update(release_date=dt.date(2026, 9, 1))
    follow_custody(on=dt.date(2026, 9, 2))
    assert status_of(registration) == "active"
    plan.refresh_from_db()
    action.refresh_from_db()
    assert plan.status == "agreed" and plan.next_review_date == dt.date(2026, 12, 1)
    assert action.status == "planned" and action.completed_on is None
    open_after = set(
        Involvement.objects.filter(person=registration.person, end_date__isnull=True).values_list(
            "pk", flat=True
        )
    )
    assert open_after == open_before
    assert registration.end_date is None


def test_suspended_and_hand_set_custody_are_left_alone(
    registration: Registration, actor: Any
) -> None:
    services.change_registration_status(
        actor=actor("coordinator"),
        registration=registration,
        status="suspended",
        note="Moved to a residential rehab out of area for 3 months",
        on=dt.date(2026, 5, 1),
    )
    episode(registration.person)
    assert follow_custody(on=dt.date(2026, 7, 1)).changed == 0
    assert status_of(registration) == "suspended"
    services.change_registration_status(
        actor=actor("coordinator"),
        registration=registration,
        status="in_custody",
        note="Recalled (told by the prison by phone)",
        on=dt.date(2026, 7, 2),
    )
    CustodyEpisode.objects.all().delete()
    # In custody by hand and no release recorded: nothing to follow.
    assert follow_custody(on=dt.date(2026, 8, 1)).changed == 0
    assert status_of(registration) == "in_custody"


def test_a_release_before_the_status_began_does_not_end_custody(
    registration: Registration, actor: Any
) -> None:
    episode(registration.person, release_date=dt.date(2026, 4, 1))
    services.change_registration_status(
        actor=actor("coordinator"),
        registration=registration,
        status="in_custody",
        note="Remanded (court result)",
        on=dt.date(2026, 5, 1),
    )
    assert follow_custody(on=dt.date(2026, 6, 1)).changed == 0
    assert status_of(registration) == "in_custody"


def test_deregistered_registrations_are_left_alone(registration: Registration, actor: Any) -> None:
    services.deregister(
        actor=actor("coordinator"),
        registration=registration,
        reason="moved_away",
        on=dt.date(2026, 5, 1),
    )
    episode(registration.person)
    assert follow_custody(on=dt.date(2026, 7, 1)).changed == 0
    assert status_of(registration) == "deregistered"


def test_daily_run_follows_custody_before_raising_alerts(registration: Registration) -> None:
    episode(registration.person)
    raise_alerts(on=dt.date(2026, 7, 1))
    assert status_of(registration) == "in_custody"


def test_command(registration: Registration) -> None:
    episode(registration.person)
    out = StringIO()
    call_command("follow_custody", "--on", "2026-07-01", stdout=out)
    assert "1 into custody, 0 released, on 01/07/2026." in out.getvalue()
    assert status_of(registration) == "in_custody"
