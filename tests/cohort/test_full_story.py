"""The whole lifecycle as one story, every step audited.

Hannah (housing) refers Dean, whom she houses → Carol (coordinator) lists him → the panel adopts
him into the Fixed cohort with probation as lead → Owen (probation) sets him red → three months
of green are recorded → an exit plan → exit is suggested → Carol de-registers him.
"""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.audit.models import AuditEvent
from openiom.cohort import selectors, services
from openiom.cohort.models import Notification, RegistrationStatus
from openiom.cohort.rag import ReportedEvidence
from openiom.cohort.services import CohortError
from openiom.offending.models import Offence
from tests.cohort.conftest import PANEL_DAY, agency, cohort, events

DOING_WELL = ReportedEvidence(
    appointments_kept=4, appointments_missed=0, drug_tests_negative=2, stable_accommodation=True
)


def test_full_story_referral_to_deregistration(actor, personas, burglar, involve, offence_code):
    hannah, carol, owen = actor("housing.worker"), actor("coordinator"), actor("probation.om")
    involve(burglar, "housing.worker")
    last_before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    # 1. Hannah refers Dean.
    referral = services.create_referral(
        actor=hannah,
        person=burglar,
        reason="Two burglaries this year; at risk of losing his tenancy",
        evidence="Police call-outs to the flat; rent arrears",
        proposed_cohort=cohort("fixed"),
    )
    services.submit_referral(actor=hannah, referral=referral)

    # 2. Carol sees it in her queue and lists it for Monday's panel.
    assert selectors.referral_queue(actor=carol) == [referral]
    services.list_referral_for_panel(actor=carol, referral=referral, panel_date=PANEL_DAY)

    # 3. The panel adopts him into the Fixed cohort; probation leads, Owen is lead worker.
    decision = services.record_panel_decision(
        actor=carol,
        referral=referral,
        decision="adopt",
        decided_on=PANEL_DAY,
        agencies_present=[
            agency("probation-wessex"),
            agency("wessex-police"),
            agency("harbour-housing"),
        ],
        rationale="Prolific neighbourhood crime; housing support needed alongside supervision",
        cohort=cohort("fixed"),
        lead_agency=agency("probation-wessex"),
        lead_worker=personas["probation.om"],
    )
    registration = decision.registration
    assert Notification.objects.get(user=personas["housing.worker"]).text.startswith(
        f"Your referral of {burglar} was adopted at the panel on 2026-03-02 into the Fixed cohort"
    )

    # 4. A burglary on 20 February: Owen sets him red, as the rules suggest.
    Offence.objects.create(
        person=burglar,
        offence_code=offence_code("028/01"),
        offence_date=dt.date(2026, 2, 20),
        disposal_type="other",
        disposal_date=dt.date(2026, 2, 27),
    )
    suggestion = selectors.suggested_rag(actor=owen, registration=registration, on=PANEL_DAY)
    assert suggestion.status == "red"
    assert suggestion.summary == "Red: 1 offence committed in the last 28 days (2026-02-20)"
    red = services.set_rag_status(actor=owen, registration=registration, status="red", on=PANEL_DAY)
    assert (red.suggested_status, red.differs_from_suggestion) == ("red", False)

    # 5. Three months of green, each time with the evidence Owen reports.
    for day in (dt.date(2026, 4, 6), dt.date(2026, 5, 4), dt.date(2026, 6, 1), dt.date(2026, 7, 6)):
        green = services.set_rag_status(
            actor=owen, registration=registration, status="green", on=day, reported=DOING_WELL
        )
        assert green.suggested_status == "green"

    # Not yet: no exit plan.
    exit_now = selectors.suggested_exit(
        actor=carol, registration=registration, on=dt.date(2026, 7, 6)
    )
    assert not exit_now.suggests_exit
    assert "no exit plan is recorded" in exit_now.summary

    services.record_exit_plan(
        actor=owen,
        registration=registration,
        plan="Harbour Housing tenancy support continues; Second Chance mentor fortnightly",
        on=dt.date(2026, 7, 6),
    )

    # 6. Exit is suggested.
    exit_now = selectors.suggested_exit(
        actor=carol, registration=registration, on=dt.date(2026, 7, 6)
    )
    assert exit_now.suggests_exit
    assert exit_now.suggested_reasons == ["green_exit_plan"]
    assert exit_now.policy_version == 1

    # 7. Carol de-registers him with the reason.
    change = services.deregister(
        actor=carol,
        registration=registration,
        reason="green_exit_plan",
        note="Panel agreed on 6 July",
        on=dt.date(2026, 7, 6),
    )
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.DEREGISTERED
    assert registration.end_date == dt.date(2026, 7, 6)
    assert change.suggestion["suggests_exit"] is True
    assert change.deregistration_policy.version == 1
    registration.lead_involvement.refresh_from_db()
    assert registration.lead_involvement.end_date == dt.date(2026, 7, 6)

    with pytest.raises(CohortError, match="ended on 2026-07-06; nothing more can be recorded"):
        services.set_rag_status(actor=owen, registration=registration, status="green")

    # Every step is in the audit trail, attributed to the right person, in order.
    trail = [
        (e.event_type, e.actor_username)
        for e in AuditEvent.objects.filter(id__gt=last_before, person_id=burglar.pk).order_by("id")
    ]
    assert trail == [
        ("referral.created", "housing.worker"),
        ("referral.submitted", "housing.worker"),
        ("referral.listed", "coordinator"),
        ("panel.decision_recorded", "coordinator"),
        ("involvement.started", "coordinator"),
        ("registration.started", "coordinator"),
        ("referral.decided", "coordinator"),
        ("rag.suggestion_consulted", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.assessed", "probation.om"),
        ("rag.suggestion_consulted", "coordinator"),
        ("exit_plan.recorded", "probation.om"),
        ("rag.suggestion_consulted", "coordinator"),
        ("registration.deregistered", "coordinator"),
        ("involvement.ended", "coordinator"),
    ]
    [dereg] = events("registration.deregistered")
    assert dereg.before["status"] == "active" and dereg.after["status"] == "deregistered"
    assert dereg.summary == (
        f"De-registered {burglar} from Fixed cohort: Green for the set period with an exit plan"
    )

    # And the person's IOM history tells it back.
    history = selectors.person_iom_history(actor=carol, person=burglar)
    assert [r.state for r in history.referrals] == ["adopted"]
    [reg] = history.registrations
    assert [c.to_status for c in reg.status_changes] == ["active", "deregistered"]
    assert [a.status for a in history.rag_history] == ["red", "green", "green", "green", "green"]
    assert len(reg.exit_plans) == 1


def test_long_custody_deregistration_schedules_the_reconsideration(registration, actor):
    from openiom.people.models import CustodyEpisode

    CustodyEpisode.objects.create(
        person=registration.person,
        custody_type="sentenced",
        received_date=dt.date(2026, 9, 1),
        sentence_length_days=8 * 365,
        expected_release_date=dt.date(2030, 9, 1),
    )
    services.deregister(
        actor=actor("coordinator"),
        registration=registration,
        reason="long_custody",
        on=dt.date(2026, 9, 10),
    )
    [item] = registration.reconsiderations.all()
    assert (item.due_date, item.expected_release_date) == (dt.date(2029, 9, 1), dt.date(2030, 9, 1))
    assert item.reason.startswith("Serving 8 years (2920 days) custody since 2026-09-01")
    [event] = events("reconsideration.scheduled")
    assert event.summary == f"Scheduled reconsideration of {registration.person} by 2029-09-01"
    due = selectors.reconsiderations_due(actor=actor("coordinator"), by=dt.date(2029, 9, 30))
    assert due == [item]


def test_deregistration_reasons_are_checked(registration, actor):
    carol = actor("coordinator")
    on = dt.date(2026, 4, 1)
    with pytest.raises(CohortError, match="'retired' is not a de-registration reason"):
        services.deregister(actor=carol, registration=registration, reason="retired", on=on)
    with pytest.raises(CohortError, match="say what the other reason"):
        services.deregister(actor=carol, registration=registration, reason="other", on=on)
    with pytest.raises(CohortError, match="does not support 'Green for the set period"):
        services.deregister(actor=carol, registration=registration, reason="green_exit_plan", on=on)
    with pytest.raises(CohortError, match="give reconsideration_due"):
        services.deregister(
            actor=carol,
            registration=registration,
            reason="long_custody",
            note="Sentenced at Crown Court today; prison record not yet imported",
            on=on,
        )
    services.deregister(
        actor=carol, registration=registration, reason="mappa", note="Now MAPPA level 2", on=on
    )
    registration.refresh_from_db()
    assert registration.deregistration_reason == "mappa"


def test_rag_decision_differing_from_the_suggestion_needs_a_reason(registration, actor):
    owen = actor("probation.om")
    with pytest.raises(CohortError) as refused:
        services.set_rag_status(
            actor=owen, registration=registration, status="green", on=dt.date(2026, 3, 9)
        )
    assert str(refused.value).startswith("The rules suggest amber (Amber: green is not evidenced")
    assert str(refused.value).endswith("give a reason for deciding green instead")
    kept = services.set_rag_status(
        actor=owen,
        registration=registration,
        status="green",
        reason="Attending every appointment; the system has no appointment data yet",
        on=dt.date(2026, 3, 9),
    )
    assert (kept.status, kept.suggested_status, kept.differs_from_suggestion) == (
        "green",
        "amber",
        True,
    )
    assert kept.policy.version == 1
    assert kept.evidence["reported"]["appointments_kept"] is None
    assert {r["rule"]: r["reason"] for r in kept.suggestion_reasons}["full_attendance"] == (
        "No appointment data recorded, so full attendance cannot be confirmed"
    )
    registration.refresh_from_db()
    assert registration.review_date == dt.date(2026, 4, 6)  # moved on by the 28-day review period
