"""Alerts for lead workers about their registered people (issue #5 item 4, first slice).

`raise_alerts` is idempotent: each alert is keyed by (recipient, kind, subject_key), a unique
constraint, so running it twice, or again on a later day, never raises the same alert twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiom.access.policy import Action, can
from openiom.accounts.actor import actor_for_user
from openiom.casework.models import Alert, AlertKind
from openiom.cohort.models import Registration, RegistrationStatus
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode, YouthJusticeStatus

# Windows from issue #5 item 4 ("release from custody within 28 days (configurable)"; "turning 18
# within six months"). Constants for now; they should become dated, audited policy data like the
# cohort and de-registration policies.
RELEASE_WINDOW_DAYS = 28
TURNING_18_WINDOW_MONTHS = 6

YOS_STATUSES = {YouthJusticeStatus.YOS_ORDER, YouthJusticeStatus.YOS_VOLUNTARY}


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def eighteenth_birthday(date_of_birth: dt.date) -> dt.date:
    """18th birthday; someone born on 29 February turns 18 on 1 March in a common year."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + 18)
    except ValueError:
        return dt.date(date_of_birth.year + 18, 3, 1)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _candidates(reg: Registration, on: dt.date) -> list[dict[str, Any]]:
    person = reg.person
    # Records imported before the registration was recorded were known to the panel; alert on
    # what arrives after (and not before the registration starts).
    since = max(_start_of(reg.start_date), reg.created_at)
    found: list[dict[str, Any]] = []
    for offence in Offence.objects.filter(person=person, created_at__gte=since):
        found.append(
            {
                "kind": AlertKind.NEW_OFFENCE,
                "subject_key": f"offence:{offence.pk}",
                "message": f"New offence recorded for {person}: committed "
                f"{offence.offence_date:%d/%m/%Y}, disposal {offence.get_disposal_type_display()}.",
            }
        )
    for arrest in Arrest.objects.filter(person=person, created_at__gte=since):
        found.append(
            {
                "kind": AlertKind.NEW_ARREST,
                "subject_key": f"arrest:{arrest.pk}",
                "message": f"{person} was arrested on {arrest.arrest_date:%d/%m/%Y} "
                f"({arrest.get_outcome_display()}).",
            }
        )
    intelligence = IntelligenceItem.objects.filter(person=person, created_at__gte=since)
    # The alert says only that intelligence exists, and only to those who may read it.
    if intelligence.exists() and can(
        actor_for_user(reg.lead_worker), Action.VIEW_INTELLIGENCE, person
    ):
        for item in intelligence:
            found.append(
                {
                    "kind": AlertKind.NEW_INTELLIGENCE,
                    "subject_key": f"intelligence:{item.pk}",
                    "message": f"New intelligence recorded on {item.recorded_date:%d/%m/%Y} "
                    f"about {person}.",
                }
            )
    releases = CustodyEpisode.objects.filter(
        person=person,
        release_date__isnull=True,
        expected_release_date__gte=on,
        expected_release_date__lte=on + dt.timedelta(days=RELEASE_WINDOW_DAYS),
    )
    for episode in releases:
        day = episode.expected_release_date
        assert day is not None
        found.append(
            {
                "kind": AlertKind.RELEASE_DUE,
                "subject_key": f"release:custody-episode-{episode.pk}",
                "message": f"{person} is due for release on {day:%d/%m/%Y}. Plan the day of "
                "release: who meets them at the gate, accommodation that night, first "
                "appointments and any medication or treatment.",
                "due_date": day,
            }
        )
    if person.youth_justice_status in YOS_STATUSES:
        birthday = eighteenth_birthday(person.date_of_birth)
        if on <= birthday <= add_months(on, TURNING_18_WINDOW_MONTHS):
            found.append(
                {
                    "kind": AlertKind.TURNING_18,
                    "subject_key": f"turns18:{birthday.isoformat()}",
                    "message": f"{person} turns 18 on {birthday:%d/%m/%Y}: plan the transition "
                    "from the youth offending service to adult services.",
                    "due_date": birthday,
                }
            )
    return found


def raise_alerts(*, on: dt.date) -> int:
    """Raise the alerts due on `on` for current registrations; returns how many were new."""
    registrations = (
        Registration.objects.exclude(status=RegistrationStatus.DEREGISTERED)
        .select_related("person", "lead_worker")
        .order_by("id")
    )
    raised = 0
    for reg in registrations:
        for fields in _candidates(reg, on):
            with transaction.atomic():
                _, created = Alert.objects.get_or_create(
                    recipient=reg.lead_worker,
                    kind=fields.pop("kind"),
                    subject_key=fields.pop("subject_key"),
                    defaults={"person": reg.person, "registration": reg, **fields},
                )
            raised += created
    return raised


def alerts_for(user: Any) -> list[Alert]:
    """The user's own alerts, newest first (unread and read)."""
    return list(
        Alert.objects.filter(recipient=user).select_related("person").order_by("-created_at", "-id")
    )


def mark_read(*, user: Any, alert_id: int) -> Alert | None:
    """Mark one of the user's own alerts read; None when it is not theirs (or does not exist)."""
    alert = Alert.objects.filter(recipient=user, pk=alert_id).first()
    if alert is not None and alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return alert


def send_digest() -> int:
    """Email each recipient one digest of their unread alerts; returns how many emails were sent.

    Recipients without an email address are skipped (they still see the alerts page). Unread
    alerts appear in every digest until read; the email names no intelligence content.
    """
    from django.conf import settings
    from django.core.mail import send_mail

    unread = Alert.objects.filter(read_at__isnull=True).select_related("recipient")
    by_recipient: dict[Any, list[Alert]] = {}
    for alert in unread.order_by("recipient_id", "-created_at", "-id"):
        by_recipient.setdefault(alert.recipient, []).append(alert)
    sent = 0
    for user, items in by_recipient.items():
        if not user.email:
            continue
        lines = [f"- {a.get_kind_display()}: {a.message}" for a in items]
        body = (
            f"You have {len(items)} unread alert{'' if len(items) == 1 else 's'} in openiom:\n\n"
            + "\n".join(lines)
            + "\n\nSign in to openiom and open Your alerts to mark them read.\n"
        )
        subject = f"openiom: {len(items)} unread alert{'' if len(items) == 1 else 's'}"
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return sent
