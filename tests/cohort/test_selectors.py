"""Reads: the referral queue, the cohort register with its filters, history, notifications."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.cohort import selectors, services
from openiom.cohort.models import Notification
from openiom.cohort.services import CohortError
from openiom.partnership.models import Hub
from tests.cohort.conftest import PANEL_DAY, agency, cohort, events


@pytest.fixture
def register(actor, personas, make_person, involve, adopt, offence_code):
    """Three registrations: north/Fixed/probation red, south/Fixed/police green, north/Flex none."""
    from openiom.offending.models import Offence

    carol = actor("coordinator")

    def registered(hub: str, key: str, lead: str, worker: str, category_code: str):
        person = make_person(hub=Hub.objects.get(code=hub))
        Offence.objects.create(
            person=person,
            offence_code=offence_code(category_code),
            offence_date=dt.date(2025, 12, 1),
            disposal_type="other",
            disposal_date=dt.date(2025, 12, 20),
        )
        referral = services.create_referral(
            actor=actor("police.officer"), person=person, reason="Prolific", submit=True
        )
        services.list_referral_for_panel(actor=carol, referral=referral, panel_date=PANEL_DAY)
        return adopt(
            referral,
            cohort=cohort(key),
            lead_agency=agency(lead),
            lead_worker=personas[worker],
        )

    a = registered("north", "fixed", "probation-wessex", "probation.om", "028/01")
    b = registered("south", "fixed", "wessex-police", "police.officer", "034/01")
    c = registered("north", "flex", "probation-wessex", "probation.om", "105/01")
    owen = actor("probation.om")
    services.set_rag_status(
        actor=owen, registration=a, status="red", reason="Not engaging", on=dt.date(2026, 3, 9)
    )
    services.set_rag_status(
        actor=owen, registration=b, status="amber", reason="Partly", on=dt.date(2026, 3, 9)
    )
    services.set_rag_status(
        actor=owen, registration=b, status="green", reason="Doing well", on=dt.date(2026, 3, 16)
    )
    return a, b, c


def test_register_filters_by_cohort_rag_lead_agency_and_hub(register, actor):
    a, b, c = register
    carol = actor("coordinator")

    def regs(**filters):
        return [e.registration for e in selectors.cohort_register(actor=carol, **filters)]

    assert set(regs()) == {a, b, c}
    assert set(regs(cohort_key="fixed")) == {a, b}
    assert regs(rag="green") == [b]  # the latest status counts, not earlier ambers
    assert regs(rag="amber") == []
    assert regs(rag="none") == [c]
    assert set(regs(lead_agency=agency("probation-wessex"))) == {a, c}
    assert set(regs(hub=Hub.objects.get(code="north"))) == {a, c}
    entry = next(e for e in selectors.cohort_register(actor=carol) if e.registration == b)
    assert (entry.rag_status, entry.rag_on) == ("green", dt.date(2026, 3, 16))
    consulted = events("cohort.register_consulted")
    assert len(consulted) == 8
    assert consulted[2].details["filters"]["rag"] == "green"
    assert consulted[2].details["person_ids"] == [b.person_id]


def test_register_hides_deregistered_unless_asked(register, actor):
    a, _, _ = register
    carol = actor("coordinator")
    services.deregister(
        actor=carol,
        registration=a,
        reason="moved_away",
        note="Moved to Leeds",
        on=dt.date(2026, 4, 1),
    )
    assert a not in [e.registration for e in selectors.cohort_register(actor=carol)]
    assert a in [e.registration for e in selectors.cohort_register(actor=carol, include_ended=True)]


def test_referral_queue_lists_panel_referrals_first_by_date(actor, make_person):
    carol, police = actor("coordinator"), actor("police.officer")
    late = services.create_referral(actor=police, person=make_person(), reason="a", submit=True)
    early = services.create_referral(actor=police, person=make_person(), reason="b", submit=True)
    waiting = services.create_referral(actor=police, person=make_person(), reason="c", submit=True)
    services.create_referral(actor=police, person=make_person(), reason="draft, not yet sent")
    services.list_referral_for_panel(actor=carol, referral=late, panel_date=dt.date(2026, 3, 16))
    services.list_referral_for_panel(actor=carol, referral=early, panel_date=dt.date(2026, 3, 9))
    assert selectors.referral_queue(actor=carol) == [early, late, waiting]
    [event] = events("referral.queue_consulted")
    assert event.details["referral_ids"] == [early.pk, late.pk, waiting.pk]


def test_person_history_is_audited_as_a_consultation(registration, actor):
    history = selectors.person_iom_history(
        actor=actor("police.officer"), person=registration.person
    )
    assert [r.registration for r in history.registrations] == [registration]
    assert [d.decision for d in history.panel_decisions] == ["adopt"]
    [event] = events("cohort.history_consulted")
    assert event.person_id == registration.person_id


def test_notifications_inbox_and_marking_read(listed_referral, actor, personas):
    services.withdraw_referral(actor=actor("coordinator"), referral=listed_referral, reason="Moved")
    hannah = personas["housing.worker"]
    [note] = selectors.notifications_for(user=hannah, unread_only=True)
    with pytest.raises(CohortError, match="not yours"):
        services.mark_notification_read(user=personas["coordinator"], notification=note)
    services.mark_notification_read(user=hannah, notification=note)
    assert selectors.notifications_for(user=hannah, unread_only=True) == []
    assert Notification.objects.get().read_at is not None


def test_cohorts_in_force_and_occupancy(registration):
    assert [c.key for c in selectors.cohorts_in_force(on=PANEL_DAY)] == ["fixed", "flex", "free"]
    assert selectors.cohort_occupancy(on=PANEL_DAY) == {
        "fixed": (1, None),
        "flex": (0, None),
        "free": (0, None),
    }
