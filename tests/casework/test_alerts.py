"""Alerts and tasks fire exactly once per triggering event (issue #5 item 4 acceptance)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from openiom.casework.alerts import (
    PLAN_REVIEW_WINDOW_DAYS,
    RAG_REVIEW_WINDOW_DAYS,
    RECONSIDERATION_WINDOW_DAYS,
    RELEASE_WINDOW_DAYS,
    raise_alerts,
    windows,
)
from openiom.casework.models import TASK_KINDS, Alert, AlertKind
from openiom.cohort import services
from openiom.cohort.models import Reconsideration, Registration
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode
from openiom.plans.models import ManagementPlan, PlanAction
from tests.cohort.conftest import agency, reconsideration  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)
DAY = dt.timedelta(days=1)


@pytest.fixture
def quiet(registration: Registration) -> Registration:
    """The registration with its review and planned end far off, so only the test's event fires."""
    Registration.objects.filter(pk=registration.pk).update(
        review_date=dt.date(2027, 9, 1), planned_end_date=dt.date(2027, 12, 1)
    )
    registration.refresh_from_db()
    return registration


def kinds(user: Any = None) -> list[tuple[str, str]]:
    qs = Alert.objects.all() if user is None else Alert.objects.filter(recipient=user)
    return sorted(qs.values_list("kind", "subject_key"))


def run_twice_and_later(expected: int, on: dt.date = TODAY) -> None:
    assert raise_alerts(on=on) == expected
    assert raise_alerts(on=on) == 0
    assert raise_alerts(on=on + DAY) == 0
    assert Alert.objects.count() == expected


def intel(person: Any) -> IntelligenceItem:
    return IntelligenceItem.objects.create(
        person=person,
        recorded_date=TODAY,
        source_grade="1",
        intelligence_grade="B",
        handling_code="P",
        text="Seen with known handlers of stolen goods",
    )


def test_new_offence_and_arrest_fire_once(
    quiet: Registration, offence_code: Any, personas: dict[str, Any]
) -> None:
    person = quiet.person
    offence = Offence.objects.create(
        person=person,
        offence_code=offence_code("028/01"),
        offence_date=dt.date(2026, 11, 1),
        disposal_type="community_order",
        disposal_date=dt.date(2026, 11, 15),
    )
    arrest = Arrest.objects.create(person=person, arrest_date=TODAY, outcome="charged")
    run_twice_and_later(2)
    assert kinds(personas["probation.om"]) == [
        (AlertKind.NEW_ARREST, f"arrest:{arrest.pk}"),
        (AlertKind.NEW_OFFENCE, f"offence:{offence.pk}"),
    ]
    # The offence known before registration (the burglar fixture's) raised nothing.
    assert Offence.objects.filter(person=person).count() == 2


def test_intelligence_alerts_only_a_lead_worker_who_may_see_it(quiet: Registration) -> None:
    intel(quiet.person)  # probation offender manager: may not see police intelligence
    assert raise_alerts(on=TODAY) == 0
    assert not Alert.objects.exists()


def test_intelligence_alerts_a_police_lead_worker_once(
    listed_referral: Any, adopt: Any, personas: dict[str, Any]
) -> None:
    reg = adopt(
        listed_referral,
        lead_agency=agency("wessex-police"),
        lead_worker=personas["police.officer"],
    )
    Registration.objects.filter(pk=reg.pk).update(
        review_date=dt.date(2027, 9, 1), planned_end_date=dt.date(2027, 12, 1)
    )
    item = intel(reg.person)
    run_twice_and_later(1)
    assert kinds(personas["police.officer"]) == [
        (AlertKind.NEW_INTELLIGENCE, f"intelligence:{item.pk}")
    ]
    assert "handlers" not in Alert.objects.get().message  # says it exists, not what it says


def custody(person: Any, release: dt.date, released: dt.date | None = None) -> CustodyEpisode:
    return CustodyEpisode.objects.create(
        person=person,
        custody_type="sentenced",
        received_date=dt.date(2026, 6, 1),
        expected_release_date=release,
        release_date=released,
    )


def test_release_on_day_28_fires_once_with_a_day_of_release_task(quiet: Registration) -> None:
    inside = custody(quiet.person, TODAY + dt.timedelta(days=RELEASE_WINDOW_DAYS))
    run_twice_and_later(2)
    alert = Alert.objects.get(kind=AlertKind.RELEASE_DUE)
    assert alert.subject_key == f"release:custody-episode-{inside.pk}"
    assert alert.due_date == inside.expected_release_date
    assert "day of release" in alert.message.lower()
    task = Alert.objects.get(kind=AlertKind.RELEASE_TASK)
    assert task.is_task and not alert.is_task
    assert task.due_date == inside.expected_release_date
    assert "day-of-release plan" in task.message


def test_release_on_day_29_or_already_released_does_not_fire(quiet: Registration) -> None:
    custody(quiet.person, TODAY + dt.timedelta(days=RELEASE_WINDOW_DAYS + 1))
    custody(quiet.person, TODAY + dt.timedelta(days=3), released=TODAY)
    assert raise_alerts(on=TODAY) == 0
    # ... until the later one comes within the window (day 28), once.
    assert raise_alerts(on=TODAY + DAY) == 2
    assert raise_alerts(on=TODAY + 2 * DAY) == 0


def test_release_window_is_configurable(quiet: Registration, settings: Any) -> None:
    settings.OPENIOM_ALERT_WINDOWS = {"release_days": 7}
    assert windows().release_days == 7
    custody(quiet.person, TODAY + dt.timedelta(days=8))
    assert raise_alerts(on=TODAY) == 0
    assert raise_alerts(on=TODAY + DAY) == 2


def test_a_misconfigured_window_is_named(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.OPENIOM_ALERT_WINDOWS = {"release_dayz": 7}
    with pytest.raises(ImproperlyConfigured, match="release_days"):
        windows()


def youth(registration: Registration, birthday18: dt.date, status: str = "yos_order") -> None:
    person = registration.person
    person.date_of_birth = birthday18.replace(year=birthday18.year - 18)
    person.youth_justice_status = status
    person.save()


def test_turning_18_exactly_six_months_away_fires_once(quiet: Registration) -> None:
    youth(quiet, dt.date(2027, 5, 20))  # TODAY + six months: just inside
    run_twice_and_later(1)
    alert = Alert.objects.get()
    assert (alert.kind, alert.subject_key) == (AlertKind.TURNING_18, "turns18:2027-05-20")
    assert alert.due_date == dt.date(2027, 5, 20)


def test_turning_18_a_day_beyond_six_months_does_not_fire(quiet: Registration) -> None:
    youth(quiet, dt.date(2027, 5, 21))  # just outside
    assert raise_alerts(on=TODAY) == 0
    assert raise_alerts(on=TODAY + DAY) == 1


def test_turning_18_born_on_29_february(quiet: Registration) -> None:
    """Born 29 February 2008: 18 on 1 March 2026 (a common year); six months before that is
    1 September 2025, and 31 August 2025 is a day too early."""
    person = quiet.person
    person.date_of_birth = dt.date(2008, 2, 29)
    person.youth_justice_status = "yos_order"
    person.save()
    assert raise_alerts(on=dt.date(2025, 8, 31), custody=False) == 0
    assert raise_alerts(on=dt.date(2025, 9, 1), custody=False) == 1
    assert raise_alerts(on=dt.date(2025, 9, 2), custody=False) == 0
    alert = Alert.objects.get()
    assert alert.subject_key == "turns18:2026-03-01"


def test_turning_18_window_ending_on_29_february(quiet: Registration) -> None:
    """31 August 2027 + six months is 29 February 2028 (a leap year): an 18th birthday on
    28 February 2028 is inside, one on 1 March 2028 is not yet."""
    Registration.objects.filter(pk=quiet.pk).update(
        review_date=dt.date(2028, 6, 1), planned_end_date=dt.date(2028, 12, 1)
    )
    youth(quiet, dt.date(2028, 2, 28))
    assert raise_alerts(on=dt.date(2027, 8, 31), custody=False) == 1
    Alert.objects.all().delete()
    youth(quiet, dt.date(2028, 3, 1))
    assert raise_alerts(on=dt.date(2027, 8, 31), custody=False) == 0


def test_turning_18_not_for_someone_outside_the_youth_offending_service(
    quiet: Registration,
) -> None:
    youth(quiet, dt.date(2027, 1, 1), status="")
    assert raise_alerts(on=TODAY) == 0


def test_rag_review_due_fires_once_per_review_date(
    quiet: Registration, personas: dict[str, Any]
) -> None:
    review = TODAY + dt.timedelta(days=RAG_REVIEW_WINDOW_DAYS + 1)
    Registration.objects.filter(pk=quiet.pk).update(review_date=review)
    assert raise_alerts(on=TODAY) == 0  # a day outside the window
    run_twice_and_later(1, on=TODAY + DAY)
    task = Alert.objects.get()
    assert task.kind == AlertKind.RAG_REVIEW_DUE and task.is_task
    assert task.recipient == personas["probation.om"]
    assert task.due_date == review
    # Still due (or overdue) later: no repeat. A new review date is a new event.
    assert raise_alerts(on=review + DAY) == 0
    Registration.objects.filter(pk=quiet.pk).update(review_date=review + dt.timedelta(days=28))
    assert raise_alerts(on=review + dt.timedelta(days=20)) == 1


def plan_for(registration: Registration, user: Any, **fields: Any) -> ManagementPlan:
    return ManagementPlan.objects.create(
        registration=registration,
        person=registration.person,
        created_by=user,
        updated_by=user,
        **fields,
    )


def action_for(plan: ManagementPlan, owner_agency: str, due: dt.date, **fields: Any) -> PlanAction:
    return PlanAction.objects.create(
        plan=plan,
        person=plan.person,
        owner_agency=agency(owner_agency),
        action_type=fields.pop("action_type", "support"),
        description=fields.pop("description", "Find a tenancy"),
        due_date=due,
        created_by=plan.created_by,
        updated_by=plan.created_by,
        **fields,
    )


def test_plan_review_due_fires_once(quiet: Registration, personas: dict[str, Any]) -> None:
    review = TODAY + dt.timedelta(days=PLAN_REVIEW_WINDOW_DAYS)
    plan = plan_for(quiet, personas["probation.om"], next_review_date=review)
    run_twice_and_later(1)
    task = Alert.objects.get()
    assert task.kind == AlertKind.PLAN_REVIEW_DUE
    assert task.subject_key == f"plan-review:plan-{plan.pk}:{review.isoformat()}"
    assert task.recipient == personas["probation.om"]


def test_plan_review_a_day_outside_the_window_waits(
    quiet: Registration, personas: dict[str, Any]
) -> None:
    plan_for(
        quiet,
        personas["probation.om"],
        next_review_date=TODAY + dt.timedelta(days=PLAN_REVIEW_WINDOW_DAYS + 1),
    )
    assert raise_alerts(on=TODAY) == 0
    assert raise_alerts(on=TODAY + DAY) == 1


def test_overdue_actions_go_to_the_owner_else_the_lead_worker_once_per_due_date(
    quiet: Registration, personas: dict[str, Any]
) -> None:
    plan = plan_for(quiet, personas["probation.om"])
    owned = action_for(
        plan, "harbour-housing", TODAY - DAY, owner_worker=personas["housing.worker"]
    )
    unowned = action_for(plan, "turning-point-wessex", TODAY - 3 * DAY, status="in_progress")
    action_for(plan, "wessex-police", TODAY + DAY)  # due tomorrow: overdue the day after
    action_for(plan, "wessex-police", TODAY - DAY, status="done", completed_on=TODAY)
    run_twice_and_later(2)
    assert kinds(personas["housing.worker"]) == [
        (AlertKind.ACTION_OVERDUE, f"action:{owned.pk}:{(TODAY - DAY).isoformat()}")
    ]
    assert kinds(personas["probation.om"]) == [
        (AlertKind.ACTION_OVERDUE, f"action:{unowned.pk}:{(TODAY - 3 * DAY).isoformat()}")
    ]
    # The one due tomorrow is overdue the day after: once.
    assert raise_alerts(on=TODAY + 2 * DAY) == 1
    assert raise_alerts(on=TODAY + 3 * DAY) == 0
    # A new due date that passes again is a new event.
    PlanAction.objects.filter(pk=owned.pk).update(due_date=TODAY + 5 * DAY)
    assert raise_alerts(on=TODAY + 5 * DAY) == 0
    assert raise_alerts(on=TODAY + 6 * DAY) == 1


def test_planned_end_reached_reminds_once(quiet: Registration) -> None:
    Registration.objects.filter(pk=quiet.pk).update(planned_end_date=TODAY + DAY)
    assert raise_alerts(on=TODAY) == 0
    run_twice_and_later(1, on=TODAY + DAY)
    task = Alert.objects.get()
    assert task.kind == AlertKind.DEREGISTRATION_DUE
    assert "planned registration period ended" in task.message


def test_exit_suggested_by_the_policy_reminds_once(quiet: Registration) -> None:
    CustodyEpisode.objects.create(
        person=quiet.person,
        custody_type="sentenced",
        received_date=dt.date(2026, 9, 1),
        sentence_length_days=8 * 365,
        expected_release_date=dt.date(2030, 9, 1),
    )
    run_twice_and_later(1)
    task = Alert.objects.get()
    assert task.kind == AlertKind.DEREGISTRATION_DUE
    assert task.subject_key.startswith(f"exit-suggested:registration-{quiet.pk}:long_custody")
    assert "de-registration policy suggests" in task.message


def test_reconsideration_due_reminds_the_coordinators_once(
    reconsideration: Reconsideration,  # noqa: F811  (the imported fixture)
    personas: dict[str, Any],
) -> None:
    due = reconsideration.due_date
    assert raise_alerts(on=due - dt.timedelta(days=RECONSIDERATION_WINDOW_DAYS + 1)) == 0
    run_twice_and_later(1, on=due - dt.timedelta(days=RECONSIDERATION_WINDOW_DAYS))
    task = Alert.objects.get()
    assert task.kind == AlertKind.RECONSIDERATION_DUE
    assert task.recipient == personas["coordinator"]  # not the offender manager or police
    assert task.registration == reconsideration.registration
    assert task.due_date == due


def test_deregistered_people_get_no_alerts(
    registration: Registration, actor: Any, personas: dict[str, Any]
) -> None:
    services.deregister(
        actor=actor("coordinator"),
        registration=registration,
        reason="moved_away",
        on=dt.date(2026, 10, 1),
    )
    person = registration.person
    Arrest.objects.create(person=person, arrest_date=TODAY, outcome="charged")
    custody(person, TODAY + dt.timedelta(days=5))
    youth(registration, dt.date(2027, 1, 1))
    plan = plan_for(registration, personas["probation.om"], next_review_date=TODAY)
    action_for(plan, "harbour-housing", TODAY - 5 * DAY)
    assert raise_alerts(on=TODAY) == 0


def test_command_prints_how_many(quiet: Registration) -> None:
    Arrest.objects.create(person=quiet.person, arrest_date=TODAY, outcome="charged")
    out = StringIO()
    call_command("raise_alerts", "--on", TODAY.isoformat(), stdout=out)
    assert "Raised 1 alert for 20/11/2026" in out.getvalue()


def test_command_refuses_a_bad_date() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("raise_alerts", "--on", "20/11/2026")


def test_page_shows_only_own_alerts_and_marks_read(
    registration: Registration, client_for: Any, personas: dict[str, Any]
) -> None:
    person = registration.person
    mine = Alert.objects.create(
        recipient=personas["probation.om"],
        person=person,
        registration=registration,
        kind=AlertKind.NEW_ARREST,
        subject_key="arrest:1",
        message="Mine: arrested",
    )
    theirs = Alert.objects.create(
        recipient=personas["police.officer"],
        person=person,
        kind=AlertKind.NEW_ARREST,
        subject_key="arrest:1",
        message="Someone else's alert",
    )
    client = client_for("probation.om")
    url = reverse("casework:alerts")
    page = client.get(url)
    assert page.status_code == 200
    assert "Mine: arrested" in page.content.decode()
    assert "Someone else" not in page.content.decode()
    assert "Mark as read" in page.content.decode()

    assert client.post(url, {"alert": theirs.pk}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post(url, {"alert": "nonsense"}).status_code == 404

    response = client.post(url, {"alert": mine.pk})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "Mark as read" not in client.get(url).content.decode()


def test_tasks_are_marked_done_by_their_recipient_only(
    registration: Registration, client_for: Any, personas: dict[str, Any]
) -> None:
    task = Alert.objects.create(
        recipient=personas["probation.om"],
        person=registration.person,
        registration=registration,
        kind=AlertKind.RAG_REVIEW_DUE,
        subject_key="rag-review:x",
        message="Review the RAG status",
        due_date=TODAY,
    )
    alert = Alert.objects.create(
        recipient=personas["probation.om"],
        person=registration.person,
        kind=AlertKind.NEW_ARREST,
        subject_key="arrest:9",
        message="Arrested",
    )
    url = reverse("casework:alerts")
    other = client_for("coordinator")
    assert other.post(url, {"alert": task.pk, "done": "1"}).status_code == 404
    client = client_for("probation.om")
    page = client.get(url).content.decode()
    assert "Tasks to do" in page and "Mark as done" in page
    # An alert that is not a task cannot be "done".
    assert client.post(url, {"alert": alert.pk, "done": "1"}).status_code == 404
    assert client.post(url, {"alert": task.pk, "done": "1"}).status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None and task.read_at is not None
    page = client.get(url).content.decode()
    assert "Mark as done" not in page
    assert "You have no tasks to do." in page
    assert AlertKind.RAG_REVIEW_DUE in TASK_KINDS


def test_digest_includes_unread_alerts_and_tasks_not_done(
    quiet: Registration, personas: dict[str, Any], mailoutbox: Any
) -> None:
    om = personas["probation.om"]
    om.email = "om@example.org"
    om.save()
    person = quiet.person
    Arrest.objects.create(person=person, arrest_date=TODAY, outcome="charged")
    custody(person, TODAY + dt.timedelta(days=10))
    plan = plan_for(quiet, om, next_review_date=TODAY)
    action_for(plan, "probation-wessex", TODAY - DAY, description="Book the accredited course")
    # arrest, release due, release task, plan review, overdue action
    assert raise_alerts(on=TODAY) == 5
    now = dt.datetime.now(dt.UTC)
    Alert.objects.filter(kind=AlertKind.NEW_ARREST).update(read_at=now)
    Alert.objects.filter(kind=AlertKind.RELEASE_TASK).update(read_at=now)  # read, not done
    Alert.objects.filter(kind=AlertKind.PLAN_REVIEW_DUE).update(read_at=now, done_at=now)
    out = StringIO()
    call_command("send_alert_digest", stdout=out)
    assert "Sent 1 alert digest." in out.getvalue()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["om@example.org"]
    assert "3 alerts to read or do" in email.subject
    assert "due for release" in email.body
    assert "Plan the day of release (task, due" in email.body
    assert "Plan action overdue (task, due 19/11/2026)" in email.body
    assert "arrested" not in email.body
    assert "Plan review due" not in email.body
