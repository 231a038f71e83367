"""Plan services: each domain action, its validation, audit and history."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.plans import selectors, services
from openiom.plans.models import (
    ManagementPlan,
    Objective,
    Pathway,
    PathwayNeed,
    PlanAction,
    PlanEdit,
    PlanVersion,
)
from tests.plans.conftest import DUE, agency

pytestmark = pytest.mark.django_db


def events(code: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=code).order_by("id"))


def test_pathways_are_seeded_with_their_sources() -> None:
    seven = Pathway.objects.filter(default_on=True)
    assert [p.name for p in seven] == [
        "Accommodation",
        "Education, training and employment",
        "Health",
        "Drugs and alcohol",
        "Finance, benefit and debt",
        "Children and families",
        "Attitudes, thinking and behaviour",
    ]
    assert all("Home Office, 2004" in p.source for p in seven)
    women = Pathway.objects.filter(default_on=False)
    assert women.count() == 2
    assert all("NOMS (2009)" in p.source for p in women)
    assert any("domestic violence" in p.name for p in women)
    assert any("prostitution" in p.name for p in women)


def test_a_new_plan_is_a_draft_assessing_the_seven_pathways(plan, registration) -> None:
    assert plan.status == "draft" and plan.version == 1
    assert plan.person_id == registration.person_id
    needs = list(plan.needs.select_related("pathway"))
    assert len(needs) == 7 and {n.status for n in needs} == {"not_started"}
    assert [e.person_id for e in events("plan.created")] == [registration.person_id]


def test_one_plan_per_registration(plan, registration, actor) -> None:
    with pytest.raises(ValidationError, match="already has a management plan"):
        services.create_plan(actor=actor("coordinator"), registration=registration)
    assert ManagementPlan.objects.count() == 1


def test_partners_cannot_write_the_plan_and_the_refusal_is_audited(registration, actor) -> None:
    with pytest.raises(AccessDenied):
        services.create_plan(actor=actor("housing.worker"), registration=registration)
    assert not ManagementPlan.objects.exists()
    denied = events("access.denied")
    assert denied and denied[-1].details["action"] == "edit management plan"


def test_set_needs_changes_only_what_changed_and_adds_optional_pathways(plan, actor) -> None:
    plan = services.set_needs(
        actor=actor("probation.om"),
        plan=plan,
        version=1,
        needs={
            "accommodation": {"status": "support_required", "notes": "Sofa surfing"},
            "women-prostitution": {"status": "", "notes": ""},
            "women-abuse-rape-domestic-violence": {"status": "in_progress", "notes": "Refuge"},
        },
    )
    assert plan.version == 2
    accommodation = PathwayNeed.objects.get(plan=plan, pathway__code="accommodation")
    assert (accommodation.status, accommodation.notes) == ("support_required", "Sofa surfing")
    codes = set(plan.needs.values_list("pathway__code", flat=True))
    assert "women-abuse-rape-domestic-violence" in codes
    assert "women-prostitution" not in codes
    edit = PlanEdit.objects.get(object_type="plan", object_id=plan.pk)
    assert edit.changes["need.accommodation.status"] == ["not_started", "support_required"]
    assert events("plan.needs_set")[-1].after["need.accommodation.notes"] == "Sofa surfing"


def test_bad_needs_are_refused_field_by_field_and_nothing_is_written(plan, actor) -> None:
    with pytest.raises(ValidationError) as caught:
        services.set_needs(
            actor=actor("probation.om"),
            plan=plan,
            version=1,
            needs={
                "accommodation": {"status": "sorted", "notes": ""},
                "health": {"status": "", "notes": ""},
                "nonsense": {"status": "done", "notes": ""},
            },
        )
    errors = caught.value.message_dict
    assert "need_accommodation_status" in errors
    assert "need_health_status" in errors
    assert "needs" in errors
    plan.refresh_from_db()
    assert plan.version == 1 and not PlanEdit.objects.exists()


def test_readiness_and_strengths(plan, actor) -> None:
    plan = services.set_readiness(
        actor=actor("probation.om"),
        plan=plan,
        version=1,
        strengths="Good with his hands; close to his sister",
        readiness_motivated="yes",
        readiness_able="partly",
        readiness_relevant="yes",
        readiness_capacity="no",
        readiness_note="Capacity limited while using",
    )
    plan.refresh_from_db()
    assert (plan.readiness_motivated, plan.readiness_able, plan.readiness_capacity) == (
        "yes",
        "partly",
        "no",
    )
    assert plan.version == 2
    with pytest.raises(ValidationError, match="readiness_able"):
        services.set_readiness(
            actor=actor("probation.om"),
            plan=plan,
            version=2,
            strengths="",
            readiness_motivated="yes",
            readiness_able="maybe",
            readiness_relevant="yes",
            readiness_capacity="no",
        )


def test_objectives_in_the_persons_own_words(plan, actor) -> None:
    objective = services.add_objective(
        actor=actor("probation.om"), plan=plan, text="  Stay clean for my kids  ", own_words=True
    )
    assert objective.text == "Stay clean for my kids" and objective.own_words
    objective = services.edit_objective(
        actor=actor("coordinator"),
        objective=objective,
        version=1,
        text="Stay clean for my kids",
        own_words=True,
        pathway=Pathway.objects.get(code="drugs-alcohol"),
        achieved=True,
    )
    assert objective.version == 2 and objective.achieved
    with pytest.raises(ValidationError, match="enter the objective"):
        services.add_objective(actor=actor("probation.om"), plan=plan, text="   ")
    assert Objective.objects.count() == 1


def test_actions_validate_agency_worker_and_cost(plan, actor, personas) -> None:
    with pytest.raises(ValidationError) as caught:
        services.add_action(
            actor=actor("probation.om"),
            plan=plan,
            owner_agency=agency("harbour-housing"),
            owner_worker=personas["drug.worker"],
            action_type="befriending",
            description="",
            due_date=DUE,
            estimated_cost=decimal.Decimal("-5"),
        )
    errors = caught.value.message_dict
    assert set(errors) == {"owner_worker", "action_type", "description", "estimated_cost"}
    assert "does not work for Harbour Housing Association" in errors["owner_worker"][0]
    assert not PlanAction.objects.exists()


def test_partner_updates_only_their_own_agencys_actions(full_plan, actor) -> None:
    housing, drugs = full_plan["housing"], full_plan["drugs"]
    updated = services.update_action_progress(
        actor=actor("housing.worker"),
        action=housing,
        version=1,
        status="done",
        outcome="Tenancy signed",
        on=dt.date(2026, 5, 1),
    )
    assert (updated.status, updated.completed_on, updated.version) == (
        "done",
        dt.date(2026, 5, 1),
        2,
    )
    with pytest.raises(AccessDenied, match="own agency's actions"):
        services.update_action_progress(
            actor=actor("housing.worker"), action=drugs, version=1, status="done", outcome="x"
        )
    drugs.refresh_from_db()
    assert drugs.status == "planned"
    reopened = services.update_action_progress(
        actor=actor("probation.om"), action=updated, version=2, status="in_progress", outcome=""
    )
    assert reopened.completed_on is None


def test_agreement_snapshots_the_plan_and_schedules_the_review(full_plan, actor) -> None:
    plan = full_plan["plan"]
    version = services.agree_plan(actor=actor("probation.om"), plan=plan, version=1)
    plan.refresh_from_db()
    today = timezone.localdate()
    assert plan.status == "agreed" and plan.agreed_by.get_username() == "probation.om"
    # The Fixed cohort's definition sets a 28-day review period.
    assert plan.next_review_date == today + dt.timedelta(days=28)
    assert version.number == 1 and version.kind == "agreed"
    snap = version.snapshot
    assert len(snap["actions"]) == 3 and len(snap["needs"]) == 7
    assert snap["objectives"][0]["own_words"] is True
    assert snap["recorded_by"] == "Owen Marsh"
    with pytest.raises(PermissionError):
        version.note = "rewritten"
        version.save()
    with pytest.raises(ValidationError, match="record a review instead"):
        services.agree_plan(actor=actor("probation.om"), plan=plan, version=plan.version)


def test_editing_an_agreed_plan_is_recorded_and_the_next_agreement_is_a_new_version(
    full_plan, actor
) -> None:
    plan = full_plan["plan"]
    services.agree_plan(actor=actor("probation.om"), plan=plan, version=1)
    plan.refresh_from_db()
    services.add_objective(actor=actor("coordinator"), plan=plan, text="Find work")
    plan.refresh_from_db()
    assert plan.changed_since_agreed
    second = services.agree_plan(actor=actor("coordinator"), plan=plan, version=plan.version)
    assert second.number == 2
    assert [o["text"] for o in second.snapshot["objectives"]][-1] == "Find work"
    assert len(PlanVersion.objects.get(number=1).snapshot["objectives"]) == 1


def test_review_period_falls_back_to_twelve_weeks(registration) -> None:
    assert services.review_period(registration) == dt.timedelta(days=28)
    # Cohort definitions are append-only: change the loaded copy only.
    config = registration.cohort.config
    registration.cohort.config = {k: v for k, v in config.items() if k != "review_period_days"}
    assert services.review_period(registration) == dt.timedelta(weeks=12)


def test_reviews(full_plan, actor) -> None:
    plan = full_plan["plan"]
    with pytest.raises(ValidationError, match="agree the plan before reviewing it"):
        services.record_review(
            actor=actor("probation.om"),
            plan=plan,
            version=1,
            reviewed_on=timezone.localdate(),
            note="x",
        )
    services.agree_plan(actor=actor("probation.om"), plan=plan, version=1)
    plan.refresh_from_db()
    today = timezone.localdate()
    review = services.record_review(
        actor=actor("coordinator"),
        plan=plan,
        version=plan.version,
        reviewed_on=today,
        note="Housed; script started",
    )
    plan.refresh_from_db()
    assert review.number == 2 and review.kind == "reviewed" and review.note.startswith("Housed")
    assert plan.last_reviewed_on == today
    assert plan.next_review_date == today + dt.timedelta(days=28)
    with pytest.raises(ValidationError, match="in the future"):
        services.record_review(
            actor=actor("coordinator"),
            plan=plan,
            version=plan.version,
            reviewed_on=today + dt.timedelta(days=1),
            note="x",
        )


def test_work_lists(full_plan, actor) -> None:
    plan = full_plan["plan"]
    assert list(selectors.overdue_actions(DUE)) == []
    after = DUE + dt.timedelta(days=1)
    assert set(selectors.overdue_actions(after)) == {
        full_plan["housing"],
        full_plan["drugs"],
        full_plan["police"],
    }
    services.update_action_progress(
        actor=actor("housing.worker"),
        action=full_plan["housing"],
        version=1,
        status="done",
        outcome="",
    )
    assert full_plan["housing"] not in set(selectors.overdue_actions(after))
    assert list(selectors.plans_due_review(timezone.localdate() + dt.timedelta(days=400))) == []
    services.agree_plan(actor=actor("probation.om"), plan=plan, version=1)
    due = timezone.localdate() + dt.timedelta(days=28)
    assert list(selectors.plans_due_review(due)) == [plan]
    assert list(selectors.plans_due_review(due - dt.timedelta(days=1))) == []


def test_additional_action_costs_per_agency(full_plan, add_action) -> None:
    plan = full_plan["plan"]
    add_action(plan, "harbour-housing", additional=True, estimated_cost=decimal.Decimal("300.50"))
    add_action(plan, "harbour-housing", additional=True)  # counted, not costed
    add_action(plan, "wessex-police", additional=False, estimated_cost=decimal.Decimal("99"))
    today = timezone.localdate()
    rows = selectors.additional_action_costs(today, today)
    assert [(r.agency_code, r.actions, r.costed_actions, r.estimated_cost) for r in rows] == [
        ("harbour-housing", 3, 2, decimal.Decimal("1500.50"))
    ]
    assert (
        selectors.additional_action_costs(
            today - dt.timedelta(days=9), today - dt.timedelta(days=1)
        )
        == []
    )


def test_coordinators_add_local_pathways(actor) -> None:
    pathway = services.add_pathway(
        actor=actor("coordinator"),
        code="gambling",
        name="Gambling",
        source="Added by the Wessex IOM board, 2026: gambling harm in the cohort",
    )
    assert pathway.default_on is False and pathway.created_by.get_username() == "coordinator"
    assert events("pathway.added")[-1].summary == "Added the pathway 'Gambling'"
    with pytest.raises(AccessDenied):
        services.add_pathway(actor=actor("probation.om"), code="x", name="X", source="y")
    with pytest.raises(ValidationError, match="already exists"):
        services.add_pathway(actor=actor("coordinator"), code="gambling", name="G", source="s")


def test_plan_reads_are_audited_and_partners_see_only_their_actions(
    full_plan, actor, registration
) -> None:
    view = selectors.plan_for_registration(actor=actor("housing.worker"), registration=registration)
    assert [a.description for a in view.actions] == ["Find a supported tenancy"]
    assert not view.may_edit and not view.sees_all
    consulted = events("plan.consulted")[-1]
    assert consulted.details["actions"] == 1 and consulted.person_id == registration.person_id
    lead = selectors.plan_for_registration(actor=actor("probation.om"), registration=registration)
    assert len(lead.actions) == 3 and lead.may_edit
    drugs = selectors.plan_for_registration(actor=actor("drug.worker"), registration=registration)
    assert [a.description for a in drugs.actions] == ["Start a script"]
    with pytest.raises(AccessDenied):
        selectors.plan_for_registration(actor=actor("vcs.mentor"), registration=registration)


def test_an_action_for_an_agency_not_yet_working_with_the_person_opens_its_involvement(
    plan, add_action, actor, personas
) -> None:
    from openiom.access.policy import Action, can
    from openiom.people.models import Involvement

    person = plan.person
    drug_worker = actor("drug.worker")
    assert not can(drug_worker, Action.VIEW_PERSON, person)
    add_action(plan, "turning-point-wessex", action_type="intervention", description="Script")
    involvement = Involvement.objects.get(person=person, agency__code="turning-point-wessex")
    assert involvement.end_date is None and involvement.worker is None
    assert can(drug_worker, Action.VIEW_PERSON, person)
    started = events("involvement.started")[-1]
    assert started.object_id == str(involvement.pk)
    # A second action for the same agency opens nothing more.
    add_action(plan, "turning-point-wessex", action_type="support", description="Peer group")
    assert (
        Involvement.objects.filter(person=person, agency__code="turning-point-wessex").count() == 1
    )


def test_a_lead_worker_at_a_partner_agency_writes_the_plan_and_sees_every_action(
    listed_referral, adopt, actor, personas, add_action
) -> None:
    registration = adopt(
        listed_referral,
        lead_agency=agency("harbour-housing"),
        lead_worker=personas["housing.worker"],
    )
    plan = services.create_plan(actor=actor("housing.worker"), registration=registration)
    add_action(plan, "turning-point-wessex", actor=actor("housing.worker"))
    view = selectors.plan_for_registration(actor=actor("housing.worker"), registration=registration)
    assert view.may_edit and view.sees_all and len(view.actions) == 1


def test_only_case_workers_can_be_named_on_an_action(plan, actor, personas) -> None:
    with pytest.raises(ValidationError, match="does not work for Wessex Police as a case worker"):
        services.add_action(
            actor=actor("probation.om"),
            plan=plan,
            owner_agency=agency("wessex-police"),
            owner_worker=personas["analyst"],
            action_type="disruption",
            description="Bail checks",
            due_date=DUE,
        )
    action = services.add_action(
        actor=actor("probation.om"),
        plan=plan,
        owner_agency=agency("wessex-police"),
        owner_worker=personas["police.officer"],
        action_type="disruption",
        description="Bail checks",
        due_date=DUE,
    )
    assert action.owner_worker == personas["police.officer"]
