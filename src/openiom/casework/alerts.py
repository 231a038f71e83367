"""Alerts and tasks for workers about registered people (issue #5 item 4).

`raise_alerts` is idempotent: each alert is keyed by (recipient, kind, subject_key), a unique
constraint, so running it twice, or again on a later day, never raises the same alert twice. The
subject key names the triggering event, including the date it is about where that date can move
(a review date, an action's due date): a new date is a new event, the same date never fires twice.

Each daily run first makes registration status follow the custody records
(`casework.custody.follow_custody`), so the day's alerts see today's status.

Tasks (`TASK_KINDS`) are alerts with a due date that the recipient marks done.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiom.access.policy import Action, CohortAction, can
from openiom.accounts.actor import actor_for_user
from openiom.accounts.models import Membership, Role
from openiom.casework.models import TASK_KINDS, Alert, AlertKind
from openiom.cohort.deregistration import suggest_exit
from openiom.cohort.models import (
    Reconsideration,
    ReconsiderationStatus,
    Registration,
    RegistrationStatus,
)
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode, YouthJusticeStatus
from openiom.plans.models import OPEN_ACTION_STATUSES, ManagementPlan, PlanAction

# Windows from issue #5 item 4: "release from custody within 28 days (configurable) with a
# day-of-release planning task"; "turning 18 within six months"; "RAG, plan and registration
# reviews due; overdue actions; de-registration and reconsideration reminders" (the issue names no
# window for these: two weeks' notice of a review, four weeks of a reconsideration meeting).
# Each can be changed per deployment with settings.OPENIOM_ALERT_WINDOWS, e.g.
# {"release_days": 21}; they should become dated, audited policy data like the cohort policies.
RELEASE_WINDOW_DAYS = 28
TURNING_18_WINDOW_MONTHS = 6
RAG_REVIEW_WINDOW_DAYS = 14
PLAN_REVIEW_WINDOW_DAYS = 14
RECONSIDERATION_WINDOW_DAYS = 28


@dataclass(frozen=True)
class Windows:
    release_days: int = RELEASE_WINDOW_DAYS
    turning_18_months: int = TURNING_18_WINDOW_MONTHS
    rag_review_days: int = RAG_REVIEW_WINDOW_DAYS
    plan_review_days: int = PLAN_REVIEW_WINDOW_DAYS
    reconsideration_days: int = RECONSIDERATION_WINDOW_DAYS


def windows() -> Windows:
    """The alert windows in force: the defaults above, overridden by settings."""
    overrides = getattr(settings, "OPENIOM_ALERT_WINDOWS", {})
    known = set(Windows.__dataclass_fields__)
    if set(overrides) - known or not all(isinstance(v, int) and v >= 0 for v in overrides.values()):
        raise ImproperlyConfigured(
            f"OPENIOM_ALERT_WINDOWS: use whole numbers (0 or more) for {sorted(known)}, "
            f"not {overrides!r}"
        )
    return Windows(**overrides)


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
    win = windows()
    releases = CustodyEpisode.objects.filter(
        person=person,
        release_date__isnull=True,
        expected_release_date__gte=on,
        expected_release_date__lte=on + dt.timedelta(days=win.release_days),
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
        found.append(
            {
                "kind": AlertKind.RELEASE_TASK,
                "subject_key": f"release-task:custody-episode-{episode.pk}",
                "message": f"Task: agree {person}'s day-of-release plan before {day:%d/%m/%Y} "
                "(gate pick-up, accommodation that night, first appointments, medication) and "
                "record it on the management plan.",
                "due_date": day,
            }
        )
    if person.youth_justice_status in YOS_STATUSES:
        birthday = eighteenth_birthday(person.date_of_birth)
        if on <= birthday <= add_months(on, win.turning_18_months):
            found.append(
                {
                    "kind": AlertKind.TURNING_18,
                    "subject_key": f"turns18:{birthday.isoformat()}",
                    "message": f"{person} turns 18 on {birthday:%d/%m/%Y}: plan the transition "
                    "from the youth offending service to adult services.",
                    "due_date": birthday,
                }
            )
    found += _review_and_exit_tasks(reg, on, win)
    return found


def _review_and_exit_tasks(reg: Registration, on: dt.date, win: Windows) -> list[dict[str, Any]]:
    person = reg.person
    found: list[dict[str, Any]] = []
    if reg.review_date <= on + dt.timedelta(days=win.rag_review_days):
        found.append(
            {
                "kind": AlertKind.RAG_REVIEW_DUE,
                "subject_key": f"rag-review:registration-{reg.pk}:{reg.review_date.isoformat()}",
                "message": f"{person}'s RAG and registration review is due on "
                f"{reg.review_date:%d/%m/%Y}: review the RAG status with the partners.",
                "due_date": reg.review_date,
            }
        )
    plan = ManagementPlan.objects.filter(registration=reg).first()
    review = plan.next_review_date if plan is not None else None
    if (
        plan is not None
        and review is not None
        and review <= on + dt.timedelta(days=win.plan_review_days)
    ):
        found.append(
            {
                "kind": AlertKind.PLAN_REVIEW_DUE,
                "subject_key": f"plan-review:plan-{plan.pk}:{review.isoformat()}",
                "message": f"{person}'s management plan is due for review on {review:%d/%m/%Y}.",
                "due_date": review,
            }
        )
    overdue = PlanAction.objects.filter(
        plan__registration=reg, status__in=OPEN_ACTION_STATUSES, due_date__lt=on
    ).select_related("owner_worker", "owner_agency")
    for action in overdue.order_by("due_date", "id"):
        found.append(
            {
                "kind": AlertKind.ACTION_OVERDUE,
                "subject_key": f"action:{action.pk}:{action.due_date.isoformat()}",
                # The action's named owner, else the lead worker (who chases the agency).
                "recipient": action.owner_worker or reg.lead_worker,
                "message": f"A {action.get_action_type_display().lower()} action for {person} "
                f"owned by {action.owner_agency} was due on {action.due_date:%d/%m/%Y} and is "
                f"still {action.get_status_display().lower()}: {action.description[:120]}",
                "due_date": action.due_date,
            }
        )
    if reg.planned_end_date <= on:
        found.append(
            {
                "kind": AlertKind.DEREGISTRATION_DUE,
                "subject_key": f"planned-end:registration-{reg.pk}:"
                f"{reg.planned_end_date.isoformat()}",
                "message": f"{person}'s planned registration period ended on "
                f"{reg.planned_end_date:%d/%m/%Y}: consider de-registration (with an exit "
                "plan) or record why the registration continues.",
                "due_date": reg.planned_end_date,
            }
        )
    suggestion = suggest_exit(reg, on)
    if suggestion.suggests_exit:
        reasons = "+".join(sorted(suggestion.suggested_reasons))
        found.append(
            {
                "kind": AlertKind.DEREGISTRATION_DUE,
                "subject_key": f"exit-suggested:registration-{reg.pk}:{reasons}"[:100],
                "message": f"The de-registration policy suggests ending {person}'s "
                f"registration: {suggestion.summary.removeprefix('Suggest de-registration: ')}.",
                "due_date": on,
            }
        )
    return found


def _core_coordinators() -> list[Any]:
    """Actors of the active IOM coordinators at police and probation (one per membership)."""
    memberships = (
        Membership.objects.filter(
            role=Role.COORDINATOR,
            is_active=True,
            agency__is_active=True,
            agency__agency_type__is_statutory_core=True,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("id")
    )
    return [actor_for_user(m.user, m.pk) for m in memberships]


def _reconsideration_alerts(on: dt.date, win: Windows) -> list[dict[str, Any]]:
    """Scheduled reconsiderations coming due, for the coordinators who run the referral and
    review meeting (the same ones cohort.selectors.reconsiderations_due lists them for)."""
    due = (
        Reconsideration.objects.filter(
            status=ReconsiderationStatus.SCHEDULED,
            due_date__lte=on + dt.timedelta(days=win.reconsideration_days),
        )
        .select_related("person", "registration")
        .order_by("due_date", "id")
    )
    found: list[dict[str, Any]] = []
    coordinators = _core_coordinators() if due.exists() else []
    for item in due:
        for coordinator in coordinators:
            if not can(coordinator, CohortAction.LIST_FOR_PANEL, item.person):
                continue
            found.append(
                {
                    "recipient": coordinator.user,
                    "person": item.person,
                    "registration": item.registration,
                    "kind": AlertKind.RECONSIDERATION_DUE,
                    "subject_key": f"reconsideration:{item.pk}:{item.due_date.isoformat()}",
                    "message": f"{item.person}'s case is due back at the referral and review "
                    f"meeting by {item.due_date:%d/%m/%Y}: {item.reason[:120]}",
                    "due_date": item.due_date,
                }
            )
    return found


def _raise(fields: dict[str, Any]) -> bool:
    with transaction.atomic():
        _, created = Alert.objects.get_or_create(
            recipient=fields.pop("recipient"),
            kind=fields.pop("kind"),
            subject_key=fields.pop("subject_key"),
            defaults=fields,
        )
    return created


def raise_alerts(*, on: dt.date, custody: bool = True) -> int:
    """Raise the alerts due on `on`; returns how many were new.

    With `custody` (the daily run), registration status first follows the custody records.
    """
    if custody:
        from openiom.casework.custody import follow_custody

        follow_custody(on=on)
    registrations = (
        Registration.objects.exclude(status=RegistrationStatus.DEREGISTERED)
        .select_related("person", "lead_worker", "cohort")
        .order_by("id")
    )
    win = windows()
    raised = 0
    for reg in registrations:
        for fields in _candidates(reg, on):
            fields.setdefault("recipient", reg.lead_worker)
            raised += _raise({"person": reg.person, "registration": reg, **fields})
    for fields in _reconsideration_alerts(on, win):
        raised += _raise(fields)
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


def mark_done(*, user: Any, alert_id: int) -> Alert | None:
    """Mark one of the user's own tasks done (and read); None when it is not theirs or not a
    task."""
    alert = Alert.objects.filter(recipient=user, pk=alert_id, kind__in=TASK_KINDS).first()
    if alert is not None and alert.done_at is None:
        now = timezone.now()
        alert.done_at = now
        alert.read_at = alert.read_at or now
        alert.save(update_fields=["done_at", "read_at"])
    return alert


def send_digest() -> int:
    """Email each recipient one digest of their unread alerts; returns how many emails were sent.

    Recipients without an email address are skipped (they still see the alerts page). Unread
    alerts appear in every digest until read, tasks until done; the email names no intelligence
    content.
    """
    from django.core.mail import send_mail

    # Unread alerts, and tasks still to do (read or not) until they are marked done.
    unread = Alert.objects.filter(
        Q(read_at__isnull=True) | Q(kind__in=TASK_KINDS, done_at__isnull=True)
    ).select_related("recipient")
    by_recipient: dict[Any, list[Alert]] = {}
    for alert in unread.order_by("recipient_id", "-created_at", "-id"):
        by_recipient.setdefault(alert.recipient, []).append(alert)
    sent = 0
    for user, items in by_recipient.items():
        if not user.email:
            continue
        lines = [
            f"- {a.get_kind_display()}"
            + (f" (task, due {a.due_date:%d/%m/%Y})" if a.is_task and a.due_date else "")
            + f": {a.message}"
            for a in items
        ]
        body = (
            f"You have {len(items)} alert{'' if len(items) == 1 else 's'} to read or do in "
            "openiom:\n\n"
            + "\n".join(lines)
            + "\n\nSign in to openiom and open Your alerts to mark them read or done.\n"
        )
        subject = f"openiom: {len(items)} alert{'' if len(items) == 1 else 's'} to read or do"
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return sent
