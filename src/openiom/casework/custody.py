"""Custody and community (issue #5 item 6): registration status follows the custody records.

`follow_custody(on=...)` runs daily inside `raise_alerts` (and on its own as `manage.py
follow_custody`), before the alerts, so the day's alerts see today's status:

- a current registration whose status is *active* and whose person has a custody episode
  covering the day (received on or before it, not released by it) becomes *in custody*;
- a registration *in custody* whose person has no covering episode and was released (an episode
  ended on or before the day, since the status began) becomes *active* again.

Suspended registrations are left alone (someone decided that on purpose), and so is an in-custody
status with no release recorded. The plan continues through the gate: nothing here touches the
management plan, its actions or the agencies' involvements (only the status and its history).
Status changes go through `cohort.services.record_custody_status` (audited, actor "system").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from openiom.cohort.models import Registration, RegistrationStatus
from openiom.cohort.services import record_custody_status
from openiom.people.models import CustodyEpisode

SYSTEM_USERNAME = "openiom-system"


def system_user() -> Any:
    """The account the status history names for changes the system makes (cannot sign in)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "openiom", "last_name": "(system)", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def covering(on: dt.date) -> Q:
    """Custody episodes covering the day: received by it and not released by it."""
    return Q(received_date__lte=on) & (Q(release_date__isnull=True) | Q(release_date__gt=on))


def _source(episode: CustodyEpisode) -> str:
    where = f" at {episode.establishment}" if episode.establishment else ""
    system = episode.source_system or "openiom"
    return f"{system}{where}"


@dataclass
class CustodyRun:
    on: dt.date
    into_custody: list[int] = field(default_factory=list)  # registration ids
    released: list[int] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return len(self.into_custody) + len(self.released)


def follow_custody(*, on: dt.date) -> CustodyRun:
    """Move current registrations into and out of custody as the custody records say."""
    run = CustodyRun(on=on)
    current = Registration.objects.filter(
        status__in=[RegistrationStatus.ACTIVE, RegistrationStatus.IN_CUSTODY]
    ).order_by("id")
    inside = set(
        CustodyEpisode.objects.filter(covering(on)).values_list("person_id", flat=True).distinct()
    )
    recorded_by = None
    for reg in current.select_related("person"):
        if reg.status == RegistrationStatus.ACTIVE and reg.person_id in inside:
            episode = (
                CustodyEpisode.objects.filter(covering(on), person_id=reg.person_id)
                .order_by("-received_date", "-id")
                .first()
            )
            assert episode is not None
            recorded_by = recorded_by or system_user()
            note = (
                f"Custody episode from {_source(episode)}: {episode.custody_type} from "
                f"{episode.received_date:%d/%m/%Y}"
                + (
                    f", expected release {episode.expected_release_date:%d/%m/%Y}"
                    if episode.expected_release_date
                    else ""
                )
                + ". The plan continues through the gate."
            )
            day = max(episode.received_date, reg.status_since)
            if record_custody_status(
                registration=reg,
                status=RegistrationStatus.IN_CUSTODY,
                on=day,
                note=note,
                recorded_by=recorded_by,
            ):
                run.into_custody.append(reg.pk)
        elif reg.status == RegistrationStatus.IN_CUSTODY and reg.person_id not in inside:
            episode = (
                CustodyEpisode.objects.filter(
                    person_id=reg.person_id,
                    release_date__isnull=False,
                    release_date__lte=on,
                    release_date__gte=reg.status_since,
                )
                .order_by("-release_date", "-id")
                .first()
            )
            if episode is None:
                continue  # set in custody by hand with no release recorded: leave it
            assert episode.release_date is not None
            recorded_by = recorded_by or system_user()
            note = (
                f"Custody episode from {_source(episode)}: released on "
                f"{episode.release_date:%d/%m/%Y}"
                + (f" ({episode.release_type})" if episode.release_type else "")
                + ". Back in the community."
            )
            if record_custody_status(
                registration=reg,
                status=RegistrationStatus.ACTIVE,
                on=episode.release_date,
                note=note,
                recorded_by=recorded_by,
            ):
                run.released.append(reg.pk)
    return run
