"""Referrals: the state machine (every allowed and refused transition), re-referral, outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from openiom.cohort import services
from openiom.cohort.models import Notification, Referral, ReferralState, ReferralStateChange
from openiom.cohort.services import CohortError, InvalidTransition
from tests.cohort.conftest import PANEL_DAY, agency, cohort, events

S = ReferralState
ACTIONS = ["submit", "list", "withdraw", "adopt", "not_adopt", "defer"]
ALLOWED: dict[str, dict[str, str]] = {
    S.DRAFT: {"submit": S.SUBMITTED, "withdraw": S.WITHDRAWN},
    S.SUBMITTED: {"list": S.LISTED, "withdraw": S.WITHDRAWN},
    S.LISTED: {
        "list": S.LISTED,
        "withdraw": S.WITHDRAWN,
        "adopt": S.ADOPTED,
        "not_adopt": S.NOT_ADOPTED,
        "defer": S.LISTED,
    },
    S.ADOPTED: {},
    S.NOT_ADOPTED: {},
    S.WITHDRAWN: {},
}


def do(action: str, referral: Referral, actor: Any, personas: dict[str, Any]) -> None:
    coordinator = actor("coordinator")
    present = [agency("probation-wessex"), agency("wessex-police"), agency("harbour-housing")]
    if action == "submit":
        services.submit_referral(actor=actor("housing.worker"), referral=referral)
    elif action == "list":
        services.list_referral_for_panel(actor=coordinator, referral=referral, panel_date=PANEL_DAY)
    elif action == "withdraw":
        services.withdraw_referral(
            actor=actor("housing.worker"), referral=referral, reason="He has moved to Leeds"
        )
    elif action == "adopt":
        services.record_panel_decision(
            actor=coordinator,
            referral=referral,
            decision="adopt",
            decided_on=PANEL_DAY,
            agencies_present=present,
            rationale="Prolific burglar",
            cohort=cohort("fixed"),
            lead_agency=agency("probation-wessex"),
            lead_worker=personas["probation.om"],
        )
    else:
        services.record_panel_decision(
            actor=coordinator,
            referral=referral,
            decision=action,
            decided_on=PANEL_DAY,
            agencies_present=present,
            rationale="Not enough offending to justify IOM now",
        )


@pytest.mark.parametrize("state", [s.value for s in ReferralState])
@pytest.mark.parametrize("action", ACTIONS)
def test_referral_state_machine(state, action, actor, personas, burglar, involve):
    involve(burglar, "housing.worker")
    referral = Referral.objects.create(
        person=burglar,
        referred_by=personas["housing.worker"],
        referring_agency=agency("harbour-housing"),
        reason="Repeat burglaries",
        state=state,
    )
    target = ALLOWED[state].get(action)
    if target is None:
        with pytest.raises(InvalidTransition) as refused:
            do(action, referral, actor, personas)
        message = str(refused.value)
        assert message.startswith("Cannot ") and f"referral {referral.pk}" in message
        referral.refresh_from_db()
        assert referral.state == state
        assert not ReferralStateChange.objects.filter(referral=referral).exists()
    else:
        do(action, referral, actor, personas)
        referral.refresh_from_db()
        assert referral.state == target
        [change] = ReferralStateChange.objects.filter(referral=referral)
        assert (change.from_state, change.to_state) == (state, target)
        assert change.reason


def test_refused_transitions_explain_the_state_and_what_would_be_needed(
    actor, personas, burglar, involve
):
    involve(burglar, "housing.worker")
    referral = Referral.objects.create(
        person=burglar,
        referred_by=personas["housing.worker"],
        referring_agency=agency("harbour-housing"),
        reason="Repeat burglaries",
        state=S.ADOPTED,
    )
    with pytest.raises(InvalidTransition) as refused:
        do("withdraw", referral, actor, personas)
    assert str(refused.value) == (
        f"Cannot withdraw referral {referral.pk}: it is adopted (a final outcome). A referral can "
        "be withdrawn only when it is draft or submitted or listed for panel."
    )
    draft = Referral.objects.create(
        person=burglar,
        referred_by=personas["housing.worker"],
        referring_agency=agency("harbour-housing"),
        reason="Repeat burglaries",
    )
    with pytest.raises(InvalidTransition) as refused:
        do("defer", draft, actor, personas)
    assert str(refused.value) == (
        f"Cannot record a panel decision (defer) on referral {draft.pk}: it is draft; list it "
        "for a panel first"
    )


def test_referral_changelog_records_old_and_new_state_reason_who_and_when(
    listed_referral, personas
):
    rows = list(listed_referral.state_changes.order_by("id"))
    assert [(r.from_state, r.to_state) for r in rows] == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "listed"),
    ]
    assert [r.changed_by.username for r in rows] == [
        "housing.worker",
        "housing.worker",
        "coordinator",
    ]
    assert rows[2].reason == f"Listed for {PANEL_DAY}"
    assert all(r.changed_at is not None for r in rows)
    assert [e.event_type for e in events("referral.listed")] == ["referral.listed"]


def test_not_adopted_needs_a_reason_and_the_referrer_is_told(listed_referral, actor, personas):
    with pytest.raises(CohortError, match="a person not adopted must be told why"):
        services.record_panel_decision(
            actor=actor("coordinator"),
            referral=listed_referral,
            decision="not_adopt",
            decided_on=PANEL_DAY,
            agencies_present=[agency("probation-wessex")],
            rationale="  ",
        )
    services.record_panel_decision(
        actor=actor("coordinator"),
        referral=listed_referral,
        decision="not_adopt",
        decided_on=PANEL_DAY,
        agencies_present=[agency("probation-wessex")],
        rationale="Offending is low-level; refer to the drug service",
    )
    listed_referral.refresh_from_db()
    assert listed_referral.outcome_reason == "Offending is low-level; refer to the drug service"
    [note] = Notification.objects.filter(user=personas["housing.worker"])
    assert note.text.startswith(f"Your referral of {listed_referral.person} was not adopted")
    assert note.link == f"/cohort/referrals/{listed_referral.pk}/"
    assert note.read_at is None


def test_re_referral_after_not_adopted_requires_new_information_and_links_back(
    listed_referral, actor
):
    services.record_panel_decision(
        actor=actor("coordinator"),
        referral=listed_referral,
        decision="not_adopt",
        decided_on=PANEL_DAY,
        agencies_present=[agency("probation-wessex")],
        rationale="Not prolific enough",
    )
    housing = actor("housing.worker")
    with pytest.raises(CohortError) as refused:
        services.create_referral(
            actor=housing, person=listed_referral.person, reason="Still worried"
        )
    assert "A re-referral needs new information" in str(refused.value)
    assert "Not prolific enough" in str(refused.value)

    again = services.create_referral(
        actor=housing,
        person=listed_referral.person,
        reason="Still worried",
        new_information="Arrested twice for burglary in April",
    )
    assert again.previous_referral == listed_referral
    assert again.new_information == "Arrested twice for burglary in April"
    assert again.state_changes.get().reason == "Re-referral with new information"
    [created] = events("referral.created", object_id=str(again.pk))
    assert created.details == {"re_referral_of": listed_referral.pk}


def test_a_person_has_one_open_referral_at_a_time(listed_referral, actor):
    with pytest.raises(CohortError, match="already has an open referral"):
        services.create_referral(
            actor=actor("police.officer"), person=listed_referral.person, reason="Burglaries"
        )


def test_a_registered_person_cannot_be_referred_again(registration, actor):
    with pytest.raises(CohortError, match="is already registered in the Fixed cohort"):
        services.create_referral(
            actor=actor("police.officer"), person=registration.person, reason="Burglaries"
        )


def test_referral_needs_a_reason(actor, make_person):
    with pytest.raises(CohortError, match="Give a reason for the referral"):
        services.create_referral(actor=actor("police.officer"), person=make_person(), reason="")


def test_withdrawal_by_coordinator_tells_the_referrer(listed_referral, actor, personas):
    with pytest.raises(CohortError, match="Give a reason for withdrawing"):
        services.withdraw_referral(actor=actor("coordinator"), referral=listed_referral, reason="")
    services.withdraw_referral(
        actor=actor("coordinator"), referral=listed_referral, reason="Now subject to MAPPA"
    )
    [note] = Notification.objects.filter(user=personas["housing.worker"])
    assert "withdrawn by coordinator: Now subject to MAPPA" in note.text
    [event] = events("referral.withdrawn")
    assert (event.before["state"], event.after["state"]) == ("listed", "withdrawn")


def test_deferral_keeps_the_referral_listed_and_tells_the_referrer(
    listed_referral, actor, personas
):
    services.record_panel_decision(
        actor=actor("coordinator"),
        referral=listed_referral,
        decision="defer",
        decided_on=PANEL_DAY,
        agencies_present=[agency("probation-wessex")],
        rationale="Awaiting the police intelligence check",
    )
    listed_referral.refresh_from_db()
    assert listed_referral.state == S.LISTED
    last = listed_referral.state_changes.order_by("id").last()
    assert (
        last.reason
        == f"Deferred at the panel on {PANEL_DAY}: Awaiting the police intelligence check"
    )
    assert Notification.objects.get(user=personas["housing.worker"]).text.endswith(
        "deferred at the panel on 2026-03-02: Awaiting the police intelligence check"
    )
    # ... and it can be moved to the next panel.
    services.list_referral_for_panel(
        actor=actor("coordinator"), referral=listed_referral, panel_date=dt.date(2026, 3, 9)
    )
    listed_referral.refresh_from_db()
    assert listed_referral.panel_date == dt.date(2026, 3, 9)
