"""Who may do what in the cohort lifecycle, told as stories about the personas."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.access.services import AccessDenied
from openiom.cohort import selectors, services
from openiom.cohort.models import PanelDecision, RagAssessment, Referral
from openiom.cohort.permissions import CohortAction, can_cohort
from tests.cohort.conftest import PANEL_DAY, agency, events


def test_housing_worker_can_refer_a_person_she_works_with(actor, make_person, involve):
    tenant = make_person()
    involve(tenant, "housing.worker")
    referral = services.create_referral(
        actor=actor("housing.worker"),
        person=tenant,
        reason="Burgling neighbours; tenancy at risk",
        evidence="Complaints from three neighbours",
    )
    assert referral.referring_agency.code == "harbour-housing"
    [event] = events("referral.created", person_id=tenant.pk)
    assert event.actor_agency.code == "harbour-housing"
    assert (
        event.summary == f"Harbour Housing Association referred {tenant} (referral {referral.pk})"
    )


def test_housing_worker_cannot_refer_a_stranger_and_the_refusal_is_audited(actor, make_person):
    stranger = make_person()
    with pytest.raises(AccessDenied) as refused:
        services.create_referral(actor=actor("housing.worker"), person=stranger, reason="x")
    assert str(refused.value) == (
        "You cannot refer person: your agency is not working with this person."
    )
    [denial] = events("access.denied", person_id=stranger.pk)
    assert denial.details == {
        "action": "refer person",
        "reason": "your agency is not working with this person",
    }
    assert not Referral.objects.exists()


def test_police_officer_can_refer_anyone_in_the_area(actor, make_person):
    referral = services.create_referral(
        actor=actor("police.officer"), person=make_person(), reason="Prolific robber", submit=True
    )
    assert referral.state == "submitted"


def test_housing_worker_cannot_record_a_panel_decision_and_coordinator_can(
    listed_referral, actor, personas
):
    kwargs = dict(
        referral=listed_referral,
        decision="not_adopt",
        decided_on=PANEL_DAY,
        agencies_present=[agency("probation-wessex")],
        rationale="Not prolific",
    )
    with pytest.raises(AccessDenied, match="You cannot record panel decision: IOM coordinators"):
        services.record_panel_decision(actor=actor("housing.worker"), **kwargs)
    with pytest.raises(AccessDenied):
        services.record_panel_decision(actor=actor("police.officer"), **kwargs)
    assert not PanelDecision.objects.exists()
    assert len(events("access.denied", person_id=listed_referral.person_id)) == 2

    services.record_panel_decision(actor=actor("coordinator"), **kwargs)
    assert PanelDecision.objects.get().recorded_by == personas["coordinator"]


def test_only_coordinators_list_referrals_and_see_the_queue(actor, make_person):
    referral = services.create_referral(
        actor=actor("police.officer"), person=make_person(), reason="Robberies", submit=True
    )
    with pytest.raises(AccessDenied):
        services.list_referral_for_panel(
            actor=actor("police.officer"), referral=referral, panel_date=PANEL_DAY
        )
    with pytest.raises(AccessDenied):
        selectors.referral_queue(actor=actor("housing.worker"))
    assert selectors.referral_queue(actor=actor("coordinator")) == [referral]


def test_another_agency_cannot_submit_or_withdraw_someone_elses_referral(
    actor, make_person, involve
):
    person = make_person()
    involve(person, "housing.worker")
    involve(person, "drug.worker")
    referral = services.create_referral(actor=actor("housing.worker"), person=person, reason="x")
    with pytest.raises(AccessDenied, match="only the referring agency can submit"):
        services.submit_referral(actor=actor("drug.worker"), referral=referral)
    with pytest.raises(AccessDenied, match="only the referring agency or an IOM coordinator"):
        services.withdraw_referral(actor=actor("drug.worker"), referral=referral, reason="x")
    assert len(events("access.denied", person_id=person.pk)) == 2


def test_rag_is_set_by_core_case_managers_and_the_lead_worker_only(
    listed_referral, adopt, actor, personas
):
    registration = adopt(
        listed_referral,
        lead_agency=agency("turning-point-wessex"),
        lead_worker=personas["drug.worker"],
    )
    on = dt.date(2026, 3, 3)
    for name in ("coordinator", "probation.om", "police.officer", "drug.worker"):
        assert can_cohort(actor(name), CohortAction.SET_RAG, registration=registration), name
    with pytest.raises(AccessDenied, match="and the lead worker, only"):
        services.set_rag_status(
            actor=actor("housing.worker"),
            registration=registration,
            status="red",
            reason="x",
            on=on,
        )
    services.set_rag_status(
        actor=actor("drug.worker"),
        registration=registration,
        status="red",
        reason="Burglary last week",
        on=on,
    )
    assert RagAssessment.objects.get().assessed_by_agency.code == "turning-point-wessex"


def test_only_coordinators_deregister_and_edit_policy(registration, actor):
    assert not can_cohort(actor("probation.om"), CohortAction.DEREGISTER, registration=registration)
    assert not can_cohort(actor("police.officer"), CohortAction.EDIT_POLICY)
    assert not can_cohort(actor("housing.worker"), CohortAction.EDIT_POLICY)
    assert can_cohort(actor("coordinator"), CohortAction.EDIT_POLICY)
    with pytest.raises(AccessDenied, match="You cannot de-register"):
        services.deregister(
            actor=actor("probation.om"),
            registration=registration,
            reason="moved_away",
            on=dt.date(2026, 4, 1),
        )
    assert events("access.denied", person_id=registration.person_id)


def test_register_shows_partners_only_the_people_they_work_with(
    registration, actor, make_person, involve, adopt
):
    # Housing referred (and works with) the registered burglar.
    assert [e.registration for e in selectors.cohort_register(actor=actor("housing.worker"))] == [
        registration
    ]
    # The VCS mentor works with no one on the register.
    assert selectors.cohort_register(actor=actor("vcs.mentor")) == []
    assert len(selectors.cohort_register(actor=actor("police.officer"))) == 1
    with pytest.raises(AccessDenied):
        selectors.person_iom_history(actor=actor("vcs.mentor"), person=registration.person)
    assert not can_cohort(actor("admin"), CohortAction.VIEW_REGISTER)
