"""The referral and review meeting's outcome on a reconsideration (after 5+ years' custody).

The service (each outcome, refusals, the state rule, dates, nothing half-written) and the page
(the case, the form, its errors).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from openiom.access.services import AccessDenied
from openiom.cohort import selectors, services
from openiom.cohort.models import (
    Reconsideration,
    Referral,
    ReferralState,
    ReferralStateChange,
)
from openiom.cohort.services import CohortError, InvalidTransition
from tests.cohort.conftest import SENTENCED_DAY, cohort, events
from tests.web.helpers import assert_csp_safe, html

MEETING_DAY = dt.date(2026, 10, 5)  # after SENTENCED_DAY, before today


def close(actor: Any, item: Reconsideration, outcome: str, **kwargs: Any) -> Reconsideration:
    return services.record_reconsideration_outcome(
        actor=actor("coordinator"),
        reconsideration=item,
        outcome=outcome,
        considered_on=kwargs.pop("considered_on", MEETING_DAY),
        note=kwargs.pop("note", "Release plans reviewed with the prison offender manager"),
        **kwargs,
    )


def unchanged(item: Reconsideration) -> None:
    """Still scheduled, with no outcome, and nothing recorded about it."""
    item.refresh_from_db()
    assert item.status == "scheduled"
    assert (item.outcome, item.considered_on, item.outcome_note) == ("", None, "")
    assert item.closed_by_id is None and item.closed_at is None and item.referral_id is None
    assert events("reconsideration.recorded") == []


# --- Service ---------------------------------------------------------------------------------


def test_the_scheduled_reconsideration_starts_without_an_outcome(reconsideration):
    assert reconsideration.due_date == dt.date(2029, 9, 1)
    unchanged(reconsideration)


def test_no_further_action_closes_it_as_considered_and_is_audited(reconsideration, actor):
    done = close(actor, reconsideration, "no_further_action", note="Not suitable: MAPPA manages")

    done.refresh_from_db()
    assert (done.status, done.outcome) == ("considered", "no_further_action")
    assert done.considered_on == MEETING_DAY
    assert done.outcome_note == "Not suitable: MAPPA manages"
    assert done.closed_by.get_username() == "coordinator"
    assert done.closed_at is not None
    assert done.referral_id is None
    [event] = events("reconsideration.recorded")
    assert event.actor_username == "coordinator"
    assert event.person_id == reconsideration.person_id
    assert event.summary == f"Reconsideration of {reconsideration.person}: no further action"
    assert event.before["status"] == "scheduled" and event.before["outcome"] == ""
    assert event.after["status"] == "considered"
    assert event.after["considered_on"] == "2026-10-05"
    assert event.details == {"referral": None}
    # No longer due at the meeting.
    due = selectors.reconsiderations_due(actor=actor("coordinator"), by=dt.date(2030, 1, 1))
    assert due == []


def test_cancelled_closes_it_as_cancelled(reconsideration, actor):
    done = close(actor, reconsideration, "cancelled", note="Sentence reduced on appeal")
    done.refresh_from_db()
    assert (done.status, done.outcome, done.referral_id) == ("cancelled", "cancelled", None)
    [event] = events("reconsideration.recorded")
    assert event.summary.endswith(": cancelled")


def test_re_referral_makes_a_submitted_referral_linked_both_ways(reconsideration, actor):
    done = close(actor, reconsideration, "re_referred", note="Release in 2030: panel to consider")

    done.refresh_from_db()
    assert (done.status, done.outcome) == ("considered", "re_referred")
    referral = Referral.objects.get(pk=done.referral_id)
    assert referral.reconsideration == done
    assert referral.person_id == reconsideration.person_id
    assert referral.state == ReferralState.SUBMITTED and referral.submitted_at is not None
    assert referral.referred_by.get_username() == "coordinator"
    assert referral.referring_agency.code == actor("coordinator").membership.agency.code
    assert referral.reason == (
        f"Re-referred by the referral and review meeting on 2026-10-05 (reconsideration "
        f"{done.pk}): Release in 2030: panel to consider"
    )
    assert "ended on 2026-09-10 (Long custodial sentence imposed)" in referral.evidence
    assert "expected release 2030-09-01" in referral.new_information
    assert referral.proposed_cohort == cohort("fixed", MEETING_DAY)
    assert [c.to_state for c in ReferralStateChange.objects.filter(referral=referral)] == [
        "draft",
        "submitted",
    ]
    # The referral went through create_referral's path, audited, in one story.
    assert [
        (e.event_type, e.actor_username)
        for e in events("referral.created") + events("referral.submitted")
        if e.object_id == str(referral.pk)
    ] == [("referral.created", "coordinator"), ("referral.submitted", "coordinator")]
    [event] = events("reconsideration.recorded")
    assert event.details == {"referral": referral.pk}
    assert event.after["referral_id"] == referral.pk
    # It is in the coordinator's queue, waiting to be listed for the selection panel.
    assert referral in selectors.referral_queue(actor=actor("coordinator"))


@pytest.mark.parametrize("username", ["housing.worker", "probation.om", "police.officer"])
def test_only_a_coordinator_records_the_outcome_and_refusals_are_audited(
    reconsideration, actor, username
):
    with pytest.raises(AccessDenied, match="IOM coordinators"):
        services.record_reconsideration_outcome(
            actor=actor(username),
            reconsideration=reconsideration,
            outcome="re_referred",
            considered_on=MEETING_DAY,
            note="We think so",
        )
    [denied] = events("access.denied")
    assert denied.actor_username == username
    assert denied.details["action"] == "record panel decision"
    assert denied.person_id == reconsideration.person_id
    unchanged(reconsideration)
    assert not Referral.objects.filter(state=ReferralState.SUBMITTED).exists()


def test_closing_twice_is_refused(reconsideration, actor):
    close(actor, reconsideration, "no_further_action")
    with pytest.raises(InvalidTransition) as raised:
        close(actor, reconsideration, "re_referred")
    assert str(raised.value) == (
        f"Cannot record an outcome for reconsideration {reconsideration.pk}: it was already "
        "considered on 2026-10-05 (no further action). Only a scheduled reconsideration can be "
        "closed."
    )
    assert len(events("reconsideration.recorded")) == 1
    assert not Referral.objects.filter(state=ReferralState.SUBMITTED).exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"outcome": "adjourned"},
            "outcome: 'adjourned' is not a reconsideration outcome; choose re_referred, "
            "no_further_action or cancelled",
        ),
        (
            {"considered_on": "2026-10-05"},
            "considered_on: give the date the referral and review meeting considered the case",
        ),
        (
            {"considered_on": timezone.localdate() + dt.timedelta(days=1)},
            "is in the future; record the outcome once the meeting has decided",
        ),
        (
            {"considered_on": SENTENCED_DAY - dt.timedelta(days=1)},
            "considered_on: 2026-09-09 is before the registration ended (2026-09-10)",
        ),
        ({"note": "   "}, "note: say what the meeting decided and why"),
    ],
)
def test_bad_input_is_refused_with_a_specific_message(reconsideration, actor, kwargs, message):
    args: dict[str, Any] = {
        "outcome": "re_referred",
        "considered_on": MEETING_DAY,
        "note": "Panel to consider",
    }
    args.update(kwargs)
    with pytest.raises(CohortError) as raised:
        services.record_reconsideration_outcome(
            actor=actor("coordinator"), reconsideration=reconsideration, **args
        )
    assert message in str(raised.value)
    unchanged(reconsideration)
    assert not Referral.objects.filter(state=ReferralState.SUBMITTED).exists()


def test_re_referral_refused_when_the_person_already_has_an_open_referral(reconsideration, actor):
    open_referral = services.create_referral(
        actor=actor("housing.worker"),
        person=reconsideration.person,
        reason="Asking about him ahead of release",
        submit=True,
    )
    with pytest.raises(CohortError, match="already has an open referral"):
        close(actor, reconsideration, "re_referred")
    unchanged(reconsideration)
    assert list(Referral.objects.filter(state=ReferralState.SUBMITTED)) == [open_referral]
    # The meeting can still record that it takes no further action of its own.
    assert close(actor, reconsideration, "no_further_action").status == "considered"


def test_nothing_is_half_written_when_the_last_step_fails(reconsideration, actor, monkeypatch):
    real_record = services.record

    def failing_record(event_type: str, **kwargs: Any) -> Any:
        if event_type == "reconsideration.recorded":
            raise RuntimeError("audit store unavailable")
        return real_record(event_type, **kwargs)

    monkeypatch.setattr(services, "record", failing_record)
    with pytest.raises(RuntimeError):
        close(actor, reconsideration, "re_referred")
    unchanged(reconsideration)
    # The referral made on the way was rolled back with everything else.
    assert not Referral.objects.filter(state=ReferralState.SUBMITTED).exists()
    assert Referral.objects.count() == 1  # the housing worker's, adopted
    assert len(events("referral.created")) == 1  # and its audit events went with it
    assert events("referral.submitted")[-1].object_id == str(Referral.objects.get().pk)


def test_the_database_keeps_status_and_outcome_in_step(reconsideration):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reconsideration.objects.filter(pk=reconsideration.pk).update(status="considered")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reconsideration.objects.filter(pk=reconsideration.pk).update(
            status="considered", outcome="re_referred", considered_on=MEETING_DAY
        )  # a re-referral without its referral


# --- Page --------------------------------------------------------------------------------------


def page(item: Reconsideration) -> str:
    return reverse("cohort:reconsideration", args=[item.pk])


def d(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def test_the_page_shows_the_case_and_the_form_to_a_coordinator(client_for, reconsideration):
    response = client_for("coordinator").get(page(reconsideration))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert "Dean Walsh" in body
    assert "1 September 2030" in body  # expected release
    assert "1 September 2029" in body  # due at the meeting
    assert reconsideration.reason.split(":")[0] in body
    assert "De-registered 10 September 2026: Long custodial sentence imposed" in body
    assert "Registration history" in body
    assert "Record the meeting&#x27;s outcome" in body or "Record the meeting's outcome" in body
    assert 'type="radio" value="re_referred"' in body
    assert f'value="{d(timezone.localdate())}"' in body  # the meeting date defaults to today
    [consulted] = events("cohort.history_consulted", details__reconsideration=reconsideration.pk)
    assert consulted.actor_username == "coordinator"


def test_a_partner_who_works_with_the_person_sees_the_case_but_no_form(client_for, reconsideration):
    body = html(client_for("housing.worker").get(page(reconsideration)))
    assert "1 September 2029" in body
    assert 'type="radio"' not in body


def test_someone_who_may_not_see_the_person_is_refused(client_for, reconsideration):
    assert client_for("drug.worker").get(page(reconsideration)).status_code == 403
    [denied] = events("access.denied")
    assert denied.actor_username == "drug.worker"


def test_posting_the_outcome_records_it_and_shows_the_new_referral(client_for, reconsideration):
    client = client_for("coordinator")
    response = client.post(
        page(reconsideration),
        {"outcome": "re_referred", "considered_on": d(MEETING_DAY), "note": "Panel to consider"},
    )
    assert response.status_code == 302 and response["Location"] == page(reconsideration)
    reconsideration.refresh_from_db()
    assert reconsideration.outcome == "re_referred"
    body = html(client.get(page(reconsideration)))
    assert f"referral {reconsideration.referral_id} is in the queue" in body
    assert reverse("cohort:referral", args=[reconsideration.referral_id]) in body
    assert 'type="radio"' not in body  # closed: no form
    # The referral page links back to the reconsideration.
    referral_body = html(client.get(reverse("cohort:referral", args=[reconsideration.referral_id])))
    assert page(reconsideration) in referral_body
    assert "Re-referred by the referral and review meeting on 5 October 2026" in referral_body


def test_posting_nothing_shows_each_field_error(client_for, reconsideration):
    response = client_for("coordinator").post(page(reconsideration), {})
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert "There is a problem" in body and 'class="govuk-error-summary"' in body
    assert "<title>Error: " in body
    for message in (
        "Select what the referral and review meeting decided",
        "Enter the date of the meeting",
        "Enter what the meeting decided and why",
    ):
        assert message in body, message
    assert 'href="#id_outcome"' in body and 'href="#id_considered_on"' in body
    unchanged(reconsideration)


@pytest.mark.parametrize(
    ("considered_on", "says"),
    [
        ("31/02/2026", "The date of the meeting must be a real date, like 27/03/2026"),
        (
            d(timezone.localdate() + dt.timedelta(days=1)),
            "The date of the meeting must be today or in the past",
        ),
        # The service's rule, shown against the field it names.
        ("09/09/2026", "2026-09-09 is before the registration ended (2026-09-10)"),
    ],
)
def test_a_bad_meeting_date_is_shown_against_the_field(
    client_for, reconsideration, considered_on, says
):
    response = client_for("coordinator").post(
        page(reconsideration),
        {"outcome": "cancelled", "considered_on": considered_on, "note": "Moved to Scotland"},
    )
    assert response.status_code == 400
    body = html(response)
    assert says in body
    assert 'id="id_considered_on-error"' in body
    unchanged(reconsideration)


def test_a_partner_cannot_post_an_outcome(client_for, reconsideration):
    response = client_for("housing.worker").post(
        page(reconsideration),
        {"outcome": "re_referred", "considered_on": d(MEETING_DAY), "note": "Please"},
    )
    assert response.status_code == 403
    assert events("access.denied")[0].actor_username == "housing.worker"
    unchanged(reconsideration)


def test_posting_again_after_closing_says_it_is_closed(client_for, reconsideration, actor):
    close(actor, reconsideration, "cancelled")
    client = client_for("coordinator")
    response = client.post(
        page(reconsideration),
        {"outcome": "re_referred", "considered_on": d(MEETING_DAY), "note": "Again"},
        follow=True,
    )
    assert "already cancelled on 5 October 2026; its outcome cannot be changed" in html(response)
    assert len(events("reconsideration.recorded")) == 1


def test_the_queue_and_the_registration_page_link_to_it(client_for, reconsideration, actor):
    soon = services.create_reconsideration(
        actor=actor("coordinator"),
        registration=reconsideration.registration,
        due_date=timezone.localdate() + dt.timedelta(days=30),
        reason="Recall hearing due",
    )
    client = client_for("coordinator")
    queue = html(client.get(reverse("cohort:queue")))
    assert page(soon) in queue
    assert page(reconsideration) not in queue  # due in 2029: beyond the queue's horizon
    registration = html(
        client.get(reverse("cohort:registration", args=[reconsideration.registration_id]))
    )
    assert page(soon) in registration and page(reconsideration) in registration


def test_an_unknown_reconsideration_is_404(client_for, db):
    assert client_for("coordinator").get("/cohort/reconsiderations/999999/").status_code == 404
