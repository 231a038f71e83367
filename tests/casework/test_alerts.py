"""Alerts fire exactly once per triggering event (issue #5 item 4 acceptance)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from openiom.casework.alerts import RELEASE_WINDOW_DAYS, raise_alerts
from openiom.casework.models import Alert, AlertKind
from openiom.cohort import services
from openiom.cohort.models import Registration
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode
from tests.cohort.conftest import agency

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)


def kinds(user: Any = None) -> list[tuple[str, str]]:
    qs = Alert.objects.all() if user is None else Alert.objects.filter(recipient=user)
    return sorted(qs.values_list("kind", "subject_key"))


def run_twice_and_later(expected: int) -> None:
    assert raise_alerts(on=TODAY) == expected
    assert raise_alerts(on=TODAY) == 0
    assert raise_alerts(on=TODAY + dt.timedelta(days=1)) == 0
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
    registration: Registration, offence_code: Any, personas: dict[str, Any]
) -> None:
    person = registration.person
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


def test_intelligence_alerts_only_a_lead_worker_who_may_see_it(
    registration: Registration,
) -> None:
    intel(registration.person)  # probation offender manager: may not see police intelligence
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


def test_release_window_boundaries(registration: Registration) -> None:
    inside = custody(registration.person, TODAY + dt.timedelta(days=RELEASE_WINDOW_DAYS))
    run_twice_and_later(1)
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.RELEASE_DUE
    assert alert.subject_key == f"release:custody-episode-{inside.pk}"
    assert alert.due_date == inside.expected_release_date
    assert "day of release" in alert.message.lower()


def test_release_29_days_away_or_already_released_does_not_fire(
    registration: Registration,
) -> None:
    custody(registration.person, TODAY + dt.timedelta(days=RELEASE_WINDOW_DAYS + 1))
    custody(registration.person, TODAY + dt.timedelta(days=3), released=TODAY)
    assert raise_alerts(on=TODAY) == 0
    # ... until the later one comes within the window, once.
    assert raise_alerts(on=TODAY + dt.timedelta(days=1)) == 1
    assert raise_alerts(on=TODAY + dt.timedelta(days=2)) == 0


def youth(registration: Registration, birthday18: dt.date, status: str = "yos_order") -> None:
    person = registration.person
    person.date_of_birth = birthday18.replace(year=birthday18.year - 18)
    person.youth_justice_status = status
    person.save()


def test_turning_18_exactly_six_months_away_fires_once(registration: Registration) -> None:
    youth(registration, dt.date(2027, 5, 20))  # TODAY + six months
    run_twice_and_later(1)
    alert = Alert.objects.get()
    assert (alert.kind, alert.subject_key) == (AlertKind.TURNING_18, "turns18:2027-05-20")
    assert alert.due_date == dt.date(2027, 5, 20)


def test_turning_18_a_day_beyond_six_months_does_not_fire(registration: Registration) -> None:
    youth(registration, dt.date(2027, 5, 21))
    assert raise_alerts(on=TODAY) == 0
    assert raise_alerts(on=TODAY + dt.timedelta(days=1)) == 1


def test_turning_18_not_for_someone_outside_the_youth_offending_service(
    registration: Registration,
) -> None:
    youth(registration, dt.date(2027, 1, 1), status="")
    assert raise_alerts(on=TODAY) == 0


def test_deregistered_people_get_no_alerts(
    registration: Registration, actor: Any, offence_code: Any
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
    assert raise_alerts(on=TODAY) == 0


def test_command_prints_how_many(registration: Registration) -> None:
    Arrest.objects.create(person=registration.person, arrest_date=TODAY, outcome="charged")
    out = StringIO()
    call_command("raise_alerts", "--on", TODAY.isoformat(), stdout=out)
    assert "Raised 1 alert for 20/11/2026" in out.getvalue()


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


def test_digest_sends_each_recipient_one_email_of_unread_alerts(
    registration: Registration, personas: dict[str, Any], mailoutbox: Any
) -> None:
    om = personas["probation.om"]
    om.email = "om@example.org"
    om.save()
    person = registration.person
    Arrest.objects.create(person=person, arrest_date=TODAY, outcome="charged")
    custody(person, TODAY + dt.timedelta(days=10))
    assert raise_alerts(on=TODAY) == 2
    Alert.objects.filter(kind=AlertKind.NEW_ARREST).update(read_at=dt.datetime.now(dt.UTC))
    out = StringIO()
    call_command("send_alert_digest", stdout=out)
    assert "Sent 1 alert digest." in out.getvalue()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["om@example.org"]
    assert "1 unread alert" in email.subject
    assert "due for release" in email.body
    assert "arrested" not in email.body
