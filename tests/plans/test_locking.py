"""Optimistic locking (issue #5 item 8): the second of two concurrent edits gets a conflict
showing what changed; nothing is lost."""

from __future__ import annotations

import pytest

from openiom.plans import services
from openiom.plans.models import PlanAction, PlanEdit
from openiom.plans.services import PlanConflict

pytestmark = pytest.mark.django_db


def test_two_users_save_the_same_action_the_second_gets_the_conflict(full_plan, actor) -> None:
    opened = full_plan["housing"]
    seen_version = opened.version  # both open the action at this version
    services.update_action_progress(
        actor=actor("housing.worker"),
        action=opened,
        version=seen_version,
        status="in_progress",
        outcome="Viewing booked for Tuesday",
    )
    with pytest.raises(PlanConflict) as caught:
        services.update_action_progress(
            actor=actor("probation.om"),
            action=PlanAction.objects.get(pk=opened.pk),
            version=seen_version,
            status="not_done",
            outcome="He did not turn up",
        )
    conflict = caught.value
    assert "Hannah Byrne changed this action" in str(conflict)
    by_field = {f.name: f for f in conflict.fields}
    assert set(by_field) == {"status", "outcome"}
    assert (by_field["status"].seen, by_field["status"].stored, by_field["status"].tried) == (
        "Planned",
        "In progress",
        "Not done",
    )
    assert by_field["outcome"].stored == "Viewing booked for Tuesday"
    assert by_field["outcome"].tried == "He did not turn up"
    assert by_field["outcome"].changed_by == "Hannah Byrne"
    stored = PlanAction.objects.get(pk=opened.pk)
    assert (stored.status, stored.outcome, stored.version) == (
        "in_progress",
        "Viewing booked for Tuesday",
        2,
    )
    # Having seen the change, the second user saves again with the new version: no lost update.
    services.update_action_progress(
        actor=actor("probation.om"),
        action=stored,
        version=conflict.current_version,
        status="not_done",
        outcome="He did not turn up",
    )
    stored.refresh_from_db()
    assert (stored.status, stored.version) == ("not_done", 3)
    assert list(
        PlanEdit.objects.filter(object_id=opened.pk, object_type="action").values_list(
            "version", flat=True
        )
    ) == [2, 3]


def test_concurrent_action_definition_edits(full_plan, actor, personas) -> None:
    action = full_plan["drugs"]
    common = {
        "owner_agency": action.owner_agency,
        "owner_worker": None,
        "action_type": "intervention",
        "pathway": None,
        "due_date": action.due_date,
        "additional": False,
        "estimated_cost": None,
    }
    services.edit_action(
        actor=actor("coordinator"),
        action=action,
        version=1,
        description="Start a methadone script",
        **common,
    )
    with pytest.raises(PlanConflict) as caught:
        services.edit_action(
            actor=actor("probation.om"),
            action=PlanAction.objects.get(pk=action.pk),
            version=1,
            description="Refer to the drug service",
            **{**common, "owner_worker": personas["drug.worker"]},
        )
    fields = {f.name: f for f in caught.value.fields}
    assert list(fields) == ["description"]
    assert fields["description"].seen == "Start a script"
    assert fields["description"].stored == "Start a methadone script"
    assert fields["description"].tried == "Refer to the drug service"
    assert PlanAction.objects.get(pk=action.pk).owner_worker is None


def test_plan_fields_conflict_and_resubmit(plan, actor) -> None:
    readiness = {
        "readiness_motivated": "yes",
        "readiness_able": "yes",
        "readiness_relevant": "yes",
        "readiness_capacity": "partly",
    }
    services.set_readiness(
        actor=actor("coordinator"), plan=plan, version=1, strengths="Supportive sister", **readiness
    )
    with pytest.raises(PlanConflict) as caught:
        services.set_readiness(
            actor=actor("probation.om"), plan=plan, version=1, strengths="Keen cook", **readiness
        )
    fields = {f.name: f for f in caught.value.fields}
    assert (fields["strengths"].seen, fields["strengths"].stored, fields["strengths"].tried) == (
        "(empty)",
        "Supportive sister",
        "Keen cook",
    )
    assert fields["readiness_motivated"].changed_by == "Carol Adeyemi"
    plan.refresh_from_db()
    assert plan.strengths == "Supportive sister"
    services.set_readiness(
        actor=actor("probation.om"),
        plan=plan,
        version=caught.value.current_version,
        strengths="Supportive sister; keen cook",
        **readiness,
    )
    plan.refresh_from_db()
    assert (plan.strengths, plan.version) == ("Supportive sister; keen cook", 3)


def test_needs_conflict_names_the_pathway(plan, actor) -> None:
    services.set_needs(
        actor=actor("coordinator"),
        plan=plan,
        version=1,
        needs={"health": {"status": "support_required", "notes": "No GP"}},
    )
    with pytest.raises(PlanConflict) as caught:
        services.set_needs(
            actor=actor("probation.om"),
            plan=plan,
            version=1,
            needs={"health": {"status": "done", "notes": ""}},
        )
    labels = {f.label: f for f in caught.value.fields}
    assert labels["Health: status"].stored == "Support required"
    assert labels["Health: status"].tried == "Done"


def test_agreeing_a_plan_that_changed_since_it_was_opened_is_refused(full_plan, actor) -> None:
    plan = full_plan["plan"]
    services.set_needs(
        actor=actor("coordinator"),
        plan=plan,
        version=1,
        needs={"accommodation": {"status": "in_progress", "notes": ""}},
    )
    with pytest.raises(PlanConflict):
        services.agree_plan(actor=actor("probation.om"), plan=plan, version=1)
    plan.refresh_from_db()
    assert plan.status == "draft" and not plan.versions.exists()
