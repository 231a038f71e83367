"""Management plan endpoints: the same policy, services and audit as the pages.

Edits carry the `version` the client last read (optimistic locking). When the row changed since,
the answer is 409 with `detail` holding, per field, what the client saw, what is stored now and
what it tried to save, and who changed it when; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from openiom.access.policy import PlanAction
from openiom.access.services import require
from openiom.cohort.models import Registration
from openiom.partnership.models import Agency
from openiom.people.api import MAX_ID, actor_of
from openiom.plans import selectors, services
from openiom.plans.models import (
    ActionStatus,
    ActionType,
    ManagementPlan,
    NeedStatus,
    Pathway,
    PlanStatus,
    Readiness,
)
from openiom.plans.models import PlanAction as PlanActionRow
from openiom.plans.services import PlanConflict

router = Router(tags=["plans"])

REGISTRATION_ID = Path(..., ge=1, le=MAX_ID, description="The registration's id.")
ACTION_ID = Path(..., ge=1, le=MAX_ID, description="The action's id.")


class NeedOut(Schema):
    pathway: str
    name: str
    status: NeedStatus
    notes: str


class ObjectiveOut(Schema):
    id: int
    text: str
    own_words: bool
    pathway: str | None
    achieved: bool
    version: int


class ActionOut(Schema):
    id: int
    plan_id: int
    person_id: int
    owner_agency: str
    owner_worker: str | None
    action_type: ActionType
    pathway: str | None
    description: str
    due_date: dt.date
    status: ActionStatus
    outcome: str
    completed_on: dt.date | None
    additional: bool
    estimated_cost: decimal.Decimal | None
    overdue: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PlanOut(Schema):
    id: int
    registration_id: int
    person_id: int
    status: PlanStatus
    agreed_at: dt.datetime | None
    agreed_by: str | None
    last_reviewed_on: dt.date | None
    next_review_date: dt.date | None
    changed_since_agreed: bool
    strengths: str
    readiness_motivated: Readiness
    readiness_able: Readiness
    readiness_relevant: Readiness
    readiness_capacity: Readiness
    readiness_note: str
    version: int
    needs: list[NeedOut]
    objectives: list[ObjectiveOut]
    actions: list[ActionOut]
    all_actions: bool = Field(
        description="False when you see only your own agency's actions (partner agencies)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


def _action_out(action: PlanActionRow, today: dt.date) -> dict[str, Any]:
    return {
        "id": action.pk,
        "plan_id": action.plan_id,
        "person_id": action.person_id,
        "owner_agency": action.owner_agency.code,
        "owner_worker": action.owner_worker.get_username() if action.owner_worker else None,
        "action_type": action.action_type,
        "pathway": action.pathway.code if action.pathway else None,
        "description": action.description,
        "due_date": action.due_date,
        "status": action.status,
        "outcome": action.outcome,
        "completed_on": action.completed_on,
        "additional": action.additional,
        "estimated_cost": action.estimated_cost,
        "overdue": action.is_open and action.due_date < today,
        "version": action.version,
        "created_at": action.created_at,
        "updated_at": action.updated_at,
    }


def _plan_out(view: selectors.PlanView) -> dict[str, Any]:
    plan = view.plan
    assert plan is not None
    today = timezone.localdate()
    return {
        "id": plan.pk,
        "registration_id": plan.registration_id,
        "person_id": plan.person_id,
        "status": plan.status,
        "agreed_at": plan.agreed_at,
        "agreed_by": plan.agreed_by.get_username() if plan.agreed_by else None,
        "last_reviewed_on": plan.last_reviewed_on,
        "next_review_date": plan.next_review_date,
        "changed_since_agreed": plan.changed_since_agreed,
        "strengths": plan.strengths,
        "readiness_motivated": plan.readiness_motivated,
        "readiness_able": plan.readiness_able,
        "readiness_relevant": plan.readiness_relevant,
        "readiness_capacity": plan.readiness_capacity,
        "readiness_note": plan.readiness_note,
        "version": plan.version,
        "needs": [
            {
                "pathway": n.pathway.code,
                "name": n.pathway.name,
                "status": n.status,
                "notes": n.notes,
            }
            for n in view.needs
        ],
        "objectives": [
            {
                "id": o.pk,
                "text": o.text,
                "own_words": o.own_words,
                "pathway": o.pathway.code if o.pathway else None,
                "achieved": o.achieved,
                "version": o.version,
            }
            for o in view.objectives
        ],
        "actions": [_action_out(a, today) for a in view.actions],
        "all_actions": view.sees_all,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }


def _registration(registration_id: int) -> Registration:
    return Registration.objects.select_related("person", "lead_agency", "lead_worker").get(
        pk=registration_id
    )


def _view(request: HttpRequest, registration: Registration) -> selectors.PlanView:
    view = selectors.plan_for_registration(actor=actor_of(request), registration=registration)
    if view.plan is None:
        raise HttpError(404, "This registration has no management plan yet.")
    return view


def _existing_plan(registration: Registration) -> ManagementPlan:
    plan = ManagementPlan.objects.filter(registration=registration).first()
    if plan is None:
        raise HttpError(404, "This registration has no management plan yet.")
    plan.registration = registration
    return plan


def _conflict(error: PlanConflict) -> Status:
    return Status(409, {"detail": error.as_dict()})


class ConflictOut(Schema):
    detail: dict[str, Any]


@router.get(
    "/registrations/{registration_id}",
    response=PlanOut,
    summary="A registration's management plan",
    description=(
        "Needs, strengths and readiness, objectives and actions. Partner agencies see only "
        "their own agency's actions (`all_actions` is false). Audited."
    ),
)
def get_plan(request: HttpRequest, registration_id: int = REGISTRATION_ID) -> dict[str, Any]:
    return _plan_out(_view(request, _registration(registration_id)))


@router.post(
    "/registrations/{registration_id}",
    response={201: PlanOut},
    summary="Start the draft plan of a registration",
    description="The lead worker and core case managers only. Audited.",
)
def create_plan(request: HttpRequest, registration_id: int = REGISTRATION_ID) -> Status:
    registration = _registration(registration_id)
    services.create_plan(actor=actor_of(request), registration=registration)
    return Status(201, _plan_out(_view(request, registration)))


class NeedIn(Schema):
    status: NeedStatus | None = None
    notes: str = ""


class PlanIn(Schema):
    version: int = Field(..., ge=1, description="The plan's `version` you last read.")
    strengths: str | None = None
    readiness_motivated: Readiness | None = None
    readiness_able: Readiness | None = None
    readiness_relevant: Readiness | None = None
    readiness_capacity: Readiness | None = None
    readiness_note: str | None = None
    needs: dict[str, NeedIn] | None = Field(
        None, description="Pathway code → status and notes (only the pathways to change)."
    )


@router.put(
    "/registrations/{registration_id}",
    response={200: PlanOut, 409: ConflictOut},
    summary="Change the plan's strengths, readiness and needs",
    description=(
        "Give the `version` you last read; fields left out keep their values. 409 when the plan "
        "changed since, with what changed per field. Audited."
    ),
)
def put_plan(request: HttpRequest, payload: PlanIn, registration_id: int = REGISTRATION_ID) -> Any:
    actor = actor_of(request)
    registration = _registration(registration_id)
    plan = _existing_plan(registration)
    version = payload.version
    # Checked first so a refusal is audited; then needs and readiness succeed or fail together.
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    try:
        with transaction.atomic():
            _put(actor, plan, version, payload)
    except PlanConflict as error:
        return _conflict(error)
    return _plan_out(_view(request, registration))


def _put(actor: Any, plan: ManagementPlan, version: int, payload: PlanIn) -> None:
    if payload.needs:
        needs = {
            code: {"status": need.status or "", "notes": need.notes}
            for code, need in payload.needs.items()
        }
        plan = services.set_needs(actor=actor, plan=plan, version=version, needs=needs)
        version = plan.version
    names = [
        "strengths",
        "readiness_motivated",
        "readiness_able",
        "readiness_relevant",
        "readiness_capacity",
        "readiness_note",
    ]
    given = {n: getattr(payload, n) for n in names if getattr(payload, n) is not None}
    if given:
        values = {n: getattr(plan, n) for n in names} | given
        services.set_readiness(actor=actor, plan=plan, version=version, **values)


@router.get(
    "/registrations/{registration_id}/actions",
    response=list[ActionOut],
    summary="A plan's actions",
    description="Partner agencies see only their own agency's actions. Audited.",
)
def list_actions(
    request: HttpRequest, registration_id: int = REGISTRATION_ID
) -> list[dict[str, Any]]:
    view = _view(request, _registration(registration_id))
    today = timezone.localdate()
    return [_action_out(a, today) for a in view.actions]


def _agency(code: str) -> Agency:
    agency = Agency.objects.filter(code=code).first()
    if agency is None:
        raise ValidationError({"owner_agency": [f"owner_agency: there is no agency {code!r}"]})
    return agency


def _worker(username: str | None) -> Any:
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"owner_worker": [f"owner_worker: there is no user {username!r}"]})
    return user


def _pathway(code: str | None) -> Pathway | None:
    if not code:
        return None
    pathway = Pathway.objects.filter(code=code).first()
    if pathway is None:
        raise ValidationError({"pathway": [f"pathway: there is no pathway {code!r}"]})
    return pathway


class ActionIn(Schema):
    owner_agency: str = Field(..., description="The agency's code.")
    owner_worker: str | None = Field(None, description="The worker's username.")
    action_type: ActionType
    pathway: str | None = Field(None, description="The pathway's code.")
    description: str
    due_date: dt.date
    additional: bool = False
    estimated_cost: decimal.Decimal | None = None


@router.post(
    "/registrations/{registration_id}/actions",
    response={201: ActionOut},
    summary="Add an action to a plan",
    description="The lead worker and core case managers only. Audited.",
)
def create_action(
    request: HttpRequest, payload: ActionIn, registration_id: int = REGISTRATION_ID
) -> Status:
    actor = actor_of(request)
    plan = _existing_plan(_registration(registration_id))
    action = services.add_action(
        actor=actor,
        plan=plan,
        owner_agency=_agency(payload.owner_agency),
        owner_worker=_worker(payload.owner_worker),
        action_type=payload.action_type,
        pathway=_pathway(payload.pathway),
        description=payload.description,
        due_date=payload.due_date,
        additional=payload.additional,
        estimated_cost=payload.estimated_cost,
    )
    return Status(201, _action_out(action, timezone.localdate()))


class ActionPatch(Schema):
    version: int = Field(..., ge=1, description="The action's `version` you last read.")
    status: ActionStatus | None = None
    outcome: str | None = None
    owner_agency: str | None = None
    owner_worker: str | None = None
    action_type: ActionType | None = None
    pathway: str | None = None
    description: str | None = None
    due_date: dt.date | None = None
    additional: bool | None = None
    estimated_cost: decimal.Decimal | None = None


PROGRESS_FIELDS = {"status", "outcome"}


@router.patch(
    "/actions/{action_id}",
    response={200: ActionOut, 409: ConflictOut},
    summary="Change an action, or record its status and outcome",
    description=(
        "Give the `version` you last read. `status` and `outcome`: anyone who may see the plan, "
        "partner agencies for their own agency's actions only. The other fields change what the "
        "action is (the lead worker and core case managers); send one kind or the other. 409 when "
        "the action changed since, with what changed per field. Audited."
    ),
)
def patch_action(request: HttpRequest, payload: ActionPatch, action_id: int = ACTION_ID) -> Any:
    actor = actor_of(request)
    action = PlanActionRow.objects.select_related(
        "plan", "plan__registration", "plan__registration__person", "owner_agency"
    ).get(pk=action_id)
    given = payload.dict(exclude_unset=True)
    given.pop("version", None)
    progress = {k: v for k, v in given.items() if k in PROGRESS_FIELDS}
    definition = {k: v for k, v in given.items() if k not in PROGRESS_FIELDS}
    if progress and definition:
        raise ValidationError(
            "Change what the action is, or its status and outcome, not both in one request."
        )
    try:
        if definition:
            current: dict[str, Any] = {
                "owner_agency": action.owner_agency,
                "owner_worker": action.owner_worker,
                "action_type": action.action_type,
                "pathway": action.pathway,
                "description": action.description,
                "due_date": action.due_date,
                "additional": action.additional,
                "estimated_cost": action.estimated_cost,
            }
            if "owner_agency" in definition:
                current["owner_agency"] = _agency(definition["owner_agency"] or "")
            if "owner_worker" in definition:
                current["owner_worker"] = _worker(definition["owner_worker"])
            if "pathway" in definition:
                current["pathway"] = _pathway(definition["pathway"])
            for name in ["action_type", "description", "due_date", "additional", "estimated_cost"]:
                if name in definition:
                    current[name] = definition[name]
            if current["due_date"] is None or current["action_type"] is None:
                raise ValidationError("due_date and action_type cannot be emptied")
            action = services.edit_action(
                actor=actor, action=action, version=payload.version, **current
            )
        else:
            action = services.update_action_progress(
                actor=actor,
                action=action,
                version=payload.version,
                status=progress.get("status") or action.status,
                outcome=progress["outcome"]
                if progress.get("outcome") is not None
                else action.outcome,
            )
    except PlanConflict as error:
        return _conflict(error)
    action.refresh_from_db()
    return _action_out(action, timezone.localdate())


class AgreeIn(Schema):
    version: int = Field(..., ge=1, description="The plan's `version` you last read.")


class ReviewIn(AgreeIn):
    reviewed_on: dt.date
    note: str


class VersionOut(Schema):
    number: int
    kind: str
    recorded_at: dt.datetime
    next_review_date: dt.date | None


@router.post(
    "/registrations/{registration_id}/agree",
    response={201: VersionOut, 409: ConflictOut},
    summary="Agree the plan (keeps a copy as a new version)",
)
def agree_plan(
    request: HttpRequest, payload: AgreeIn, registration_id: int = REGISTRATION_ID
) -> Any:
    plan = _existing_plan(_registration(registration_id))
    try:
        version = services.agree_plan(actor=actor_of(request), plan=plan, version=payload.version)
    except PlanConflict as error:
        return _conflict(error)
    plan.refresh_from_db()
    return Status(
        201,
        {
            "number": version.number,
            "kind": version.kind,
            "recorded_at": version.recorded_at,
            "next_review_date": plan.next_review_date,
        },
    )


@router.post(
    "/registrations/{registration_id}/reviews",
    response={201: VersionOut, 409: ConflictOut},
    summary="Record a review of the agreed plan (keeps a copy as a new version)",
)
def review_plan(
    request: HttpRequest, payload: ReviewIn, registration_id: int = REGISTRATION_ID
) -> Any:
    plan = _existing_plan(_registration(registration_id))
    try:
        version = services.record_review(
            actor=actor_of(request),
            plan=plan,
            version=payload.version,
            reviewed_on=payload.reviewed_on,
            note=payload.note,
        )
    except PlanConflict as error:
        return _conflict(error)
    plan.refresh_from_db()
    return Status(
        201,
        {
            "number": version.number,
            "kind": version.kind,
            "recorded_at": version.recorded_at,
            "next_review_date": plan.next_review_date,
        },
    )
