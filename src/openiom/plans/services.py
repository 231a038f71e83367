"""Writes of management plans: one function per domain action.

Every function checks the policy first (a refusal is audited and raises AccessDenied), validates
(ValidationError with "field: why" messages per field; nothing written), then writes and records
the audit event in one transaction. Edits of existing rows take the `version` the user saw
(optimistic locking): when the row has changed since, PlanConflict is raised carrying, per field,
what they saw, what is stored now and what they tried to save, and who changed it when; nothing is
written, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from openiom.access.policy import CASEWORK_EXCLUDED_ROLES, CohortAction, Decision, PlanAction, can
from openiom.access.services import deny, require
from openiom.audit.services import record, snapshot
from openiom.partnership.models import Agency
from openiom.plans.models import (
    OPEN_ACTION_STATUSES,
    READINESS_FIELDS,
    ActionStatus,
    ActionType,
    ManagementPlan,
    NeedStatus,
    Objective,
    Pathway,
    PathwayNeed,
    PlanEdit,
    PlanStatus,
    PlanVersion,
    Readiness,
    VersionKind,
)
from openiom.plans.models import (
    PlanAction as PlanActionRow,
)

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor
    from openiom.cohort.models import Registration

TEXT_MAX = 4000
DEFAULT_REVIEW_PERIOD = dt.timedelta(weeks=12)
MAX_COST = decimal.Decimal("99999999.99")


# --- Conflicts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldConflict:
    """One field changed by someone else since the user opened the page."""

    name: str
    label: str
    seen: str  # what the user saw (display text)
    stored: str  # what is stored now
    tried: str  # what the user tried to save
    changed_by: str
    changed_at: dt.datetime
    raw: dict[str, Any] = field(default_factory=dict)  # the JSON values (for the API)


class PlanConflict(Exception):
    """The row changed since the user saw it; nothing was written."""

    def __init__(
        self,
        *,
        what: str,
        object_type: str,
        object_id: int,
        seen_version: int,
        current_version: int,
        changed_by: str,
        changed_at: dt.datetime | None,
        fields: list[FieldConflict],
    ) -> None:
        when = timezone.localtime(changed_at).strftime("%d/%m/%Y at %H:%M") if changed_at else ""
        super().__init__(
            f"{changed_by} changed this {what} on {when}, after you opened the page. Nothing has "
            "been saved. Check their changes below; your entries are kept, so save again to "
            "replace them."
        )
        self.what = what
        self.object_type = object_type
        self.object_id = object_id
        self.seen_version = seen_version
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.fields = fields

    def as_dict(self) -> dict[str, Any]:
        return {
            "message": str(self),
            "object": self.object_type,
            "id": self.object_id,
            "your_version": self.seen_version,
            "current_version": self.current_version,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
            "fields": [
                {
                    "field": f.name,
                    "label": f.label,
                    "seen": f.raw.get("seen"),
                    "stored": f.raw.get("stored"),
                    "tried": f.raw.get("tried"),
                    "changed_by": f.changed_by,
                    "changed_at": f.changed_at.isoformat(),
                }
                for f in self.fields
            ],
        }


def _json(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value.quantize(decimal.Decimal("0.01")))
    return value


def user_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


FIELD_LABELS = {
    "strengths": "Strengths",
    **READINESS_FIELDS,
    "readiness_note": "Readiness note",
    "status": "Status",
    "next_review_date": "Next review date",
    "text": "Objective",
    "own_words": "In the person's own words",
    "pathway": "Pathway",
    "achieved": "Achieved",
    "owner_agency": "Agency",
    "owner_worker": "Named worker",
    "action_type": "Type",
    "description": "What will be done",
    "due_date": "Due date",
    "outcome": "Outcome",
    "additional": "Additional to usual services",
    "estimated_cost": "Estimated cost (£)",
}
_CHOICES: dict[str, dict[str, str]] = {
    **{name: dict(Readiness.choices) for name in READINESS_FIELDS},
    "action_type": dict(ActionType.choices),
    "need_status": dict(NeedStatus.choices),
}


def field_label(name: str) -> str:
    if name.startswith("need."):
        _, code, part = name.split(".", 2)
        pathway = Pathway.objects.filter(code=code).first()
        return f"{pathway.name if pathway else code}: {'status' if part == 'status' else 'notes'}"
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def display(object_type: str, name: str, value: Any) -> str:
    """A stored JSON value as the user would read it."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "owner_agency":
        agency = Agency.objects.filter(pk=value).first()
        return agency.name if agency else str(value)
    if name == "owner_worker":
        return user_name(get_user_model().objects.filter(pk=value).first()) or str(value)
    if name == "pathway":
        pathway = Pathway.objects.filter(pk=value).first()
        return pathway.name if pathway else str(value)
    if name == "status":
        choices = (
            dict(ActionStatus.choices) if object_type == "action" else dict(PlanStatus.choices)
        )
        return choices.get(value, str(value))
    if name.startswith("need.") and name.endswith(".status"):
        return _CHOICES["need_status"].get(value, str(value))
    if name in _CHOICES:
        return _CHOICES[name].get(value, str(value))
    if name.endswith("_date") and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return str(value)


PLAN_FIELDS = ["strengths", *READINESS_FIELDS, "readiness_note", "status", "next_review_date"]
OBJECTIVE_FIELDS = ["text", "own_words", "pathway", "achieved"]
ACTION_FIELDS = [
    "owner_agency",
    "owner_worker",
    "action_type",
    "pathway",
    "description",
    "due_date",
    "status",
    "outcome",
    "additional",
    "estimated_cost",
]


def _values(object_type: str, obj: Any) -> dict[str, Any]:
    """The row's editable fields as JSON values (plans include their needs)."""
    if object_type == "plan":
        values = {name: _json(getattr(obj, name)) for name in PLAN_FIELDS}
        for need in obj.needs.select_related("pathway"):
            values[f"need.{need.pathway.code}.status"] = need.status
            values[f"need.{need.pathway.code}.notes"] = need.notes
        return values
    names = OBJECTIVE_FIELDS if object_type == "objective" else ACTION_FIELDS
    return {
        name: _json(getattr(obj, f"{name}_id" if _is_fk(obj, name) else name)) for name in names
    }


def _is_fk(obj: Any, name: str) -> bool:
    return isinstance(obj._meta.get_field(name), models.ForeignKey)


def _conflict(
    *, object_type: str, what: str, obj: Any, seen_version: int, tried: Mapping[str, Any]
) -> PlanConflict:
    edits = (
        PlanEdit.objects.filter(object_type=object_type, object_id=obj.pk, version__gt=seen_version)
        .select_related("changed_by")
        .order_by("version", "id")
    )
    seen: dict[str, Any] = {}
    last: dict[str, tuple[str, dt.datetime]] = {}
    for edit in edits:
        for name, (old, _new) in edit.changes.items():
            seen.setdefault(name, old)
            last[name] = (user_name(edit.changed_by), edit.changed_at)
    stored = _values(object_type, obj)
    fields = []
    for name in seen:
        current = stored.get(name)
        attempted = tried.get(name, current)
        who, when = last[name]
        fields.append(
            FieldConflict(
                name=name,
                label=field_label(name),
                seen=display(object_type, name, seen[name]),
                stored=display(object_type, name, current),
                tried=display(object_type, name, attempted),
                changed_by=who,
                changed_at=when,
                raw={"seen": seen[name], "stored": current, "tried": attempted},
            )
        )
    return PlanConflict(
        what=what,
        object_type=object_type,
        object_id=obj.pk,
        seen_version=seen_version,
        current_version=obj.version,
        changed_by=user_name(obj.updated_by),
        changed_at=obj.updated_at,
        fields=fields,
    )


def _locked(model: type[models.Model], obj: Any) -> Any:
    return model._default_manager.select_for_update().select_related("updated_by").get(pk=obj.pk)


def _bump(
    model: type[models.Model],
    obj: Any,
    *,
    object_type: str,
    what: str,
    seen_version: int,
    tried: Mapping[str, Any],
) -> Any:
    """Inside a transaction: lock the row and claim the next version, or raise PlanConflict.

    The conditional UPDATE is what makes it safe on databases without row locks (SQLite): only
    one of two concurrent saves of the same version can match it.
    """
    current = _locked(model, obj)
    claimed = 0
    if current.version == seen_version:
        claimed = model._default_manager.filter(pk=obj.pk, version=seen_version).update(
            version=F("version") + 1
        )
    if not claimed:
        current.refresh_from_db()
        raise _conflict(
            object_type=object_type,
            what=what,
            obj=current,
            seen_version=seen_version,
            tried=tried,
        )
    current.version = seen_version + 1
    return current


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def _log_edit(
    *, plan: ManagementPlan, object_type: str, obj: Any, changes: dict[str, list[Any]], actor: Actor
) -> None:
    PlanEdit.objects.create(
        plan=plan,
        object_type=object_type,
        object_id=obj.pk,
        version=obj.version,
        changes=changes,
        changed_by=actor.user,
    )


def _mark_changed(plan: ManagementPlan) -> None:
    """An edit after agreement is allowed; the plan then needs agreeing again."""
    if plan.status == PlanStatus.AGREED:
        ManagementPlan.objects.filter(pk=plan.pk).update(changed_since_agreed=True)
        plan.changed_since_agreed = True


def _errors() -> tuple[dict[str, list[str]], Any]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(f"{name}: {message}")

    return errors, add


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _check_text(add: Any, name: str, value: str, *, required: str | None = None) -> None:
    if required and not value:
        add(name, required)
    if len(value) > TEXT_MAX:
        add(name, f"must be {TEXT_MAX} characters or fewer (it has {len(value)})")


def review_period(registration: Registration) -> dt.timedelta:
    """The cohort definition's review period when it sets one, else 12 weeks."""
    days = (registration.cohort.config or {}).get("review_period_days")
    if isinstance(days, int) and not isinstance(days, bool) and days > 0:
        return dt.timedelta(days=days)
    return DEFAULT_REVIEW_PERIOD


def _person_context(plan: ManagementPlan) -> dict[str, Any]:
    return {"person": str(plan.person)}


# --- Pathways -----------------------------------------------------------------------------------


def add_pathway(
    *,
    actor: Actor,
    code: str,
    name: str,
    source: str,
    description: str = "",
    default_on: bool = False,
) -> Pathway:
    """A local extra pathway (configurable). IOM coordinators at police and probation only (the
    same people who edit cohort policy)."""
    require(actor, CohortAction.EDIT_POLICY)
    errors, add = _errors()
    code, name, source, description = (
        _clean(code).lower(),
        _clean(name),
        _clean(source),
        _clean(description),
    )
    from django.utils.text import slugify

    if not code or slugify(code) != code or len(code) > 64:
        add("code", "use lower-case letters, numbers and hyphens, at most 64 characters")
    elif Pathway.objects.filter(code=code).exists():
        add("code", f"a pathway with the code {code!r} already exists")
    if not name or len(name) > 200:
        add("name", "enter the pathway's name (at most 200 characters)")
    _check_text(add, "source", source, required="say where the pathway comes from and why")
    _check_text(add, "description", description)
    if errors:
        raise ValidationError(errors)
    position = (
        Pathway.objects.order_by("-position").values_list("position", flat=True).first() or 0
    ) + 10
    with transaction.atomic():
        pathway = Pathway.objects.create(
            code=code,
            name=name,
            source=source,
            description=description,
            default_on=default_on,
            position=position,
            created_by=actor.user,
        )
        record(
            "pathway.added",
            actor=actor,
            obj=pathway,
            after=snapshot(pathway),
            context={"name": name},
        )
    return pathway


# --- The plan -----------------------------------------------------------------------------------


def create_plan(*, actor: Actor, registration: Registration) -> ManagementPlan:
    """Start the draft plan of a registration, assessing every default pathway (not started)."""
    require(actor, PlanAction.EDIT_PLAN, registration=registration)
    if ManagementPlan.objects.filter(registration=registration).exists():
        raise ValidationError({"plan": ["plan: this registration already has a management plan"]})
    if not registration.is_current:
        raise ValidationError({"plan": ["plan: the person is no longer registered with IOM"]})
    with transaction.atomic():
        plan = ManagementPlan.objects.create(
            registration=registration,
            person=registration.person,
            created_by=actor.user,
            updated_by=actor.user,
        )
        PathwayNeed.objects.bulk_create(
            PathwayNeed(plan=plan, pathway=pathway)
            for pathway in Pathway.objects.filter(default_on=True, is_active=True)
        )
        record(
            "plan.created",
            actor=actor,
            obj=plan,
            person_id=plan.person_id,
            after=snapshot(plan),
            context=_person_context(plan),
        )
    return plan


def set_needs(
    *,
    actor: Actor,
    plan: ManagementPlan,
    version: int,
    needs: Mapping[str, Mapping[str, str]],
) -> ManagementPlan:
    """Set pathway needs: {pathway code: {"status": ..., "notes": ...}}.

    Pathways not yet on the plan (the optional ones) are added when given a status; an empty
    status leaves them off. Errors are keyed `need_<code>_status` / `need_<code>_notes`.
    """
    require(actor, PlanAction.EDIT_PLAN, registration=plan.registration)
    errors, add = _errors()
    existing = {n.pathway.code: n for n in plan.needs.select_related("pathway")}
    pathways = {p.code: p for p in Pathway.objects.all()}
    tried: dict[str, Any] = {}
    wanted: dict[str, tuple[str, str]] = {}
    for code, entry in needs.items():
        pathway = pathways.get(code)
        if pathway is None:
            add("needs", f"there is no pathway with the code {code!r}")
            continue
        status = _clean(entry.get("status"))
        notes = _clean(entry.get("notes"))
        if not status:
            if code in existing:
                add(f"need_{code}_status", f"select the status of {pathway.name.lower()}")
            elif notes:
                add(
                    f"need_{code}_status",
                    f"select a status for {pathway.name.lower()}, or clear the notes",
                )
            continue
        if status not in NeedStatus.values:
            add(f"need_{code}_status", f"{status!r} is not a need status")
            continue
        if code not in existing and not pathway.is_active:
            add(f"need_{code}_status", f"{pathway.name} is no longer offered")
            continue
        _check_text(add, f"need_{code}_notes", notes)
        wanted[code] = (status, notes)
        tried[f"need.{code}.status"] = status
        tried[f"need.{code}.notes"] = notes
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _bump(
            ManagementPlan, plan, object_type="plan", what="plan", seen_version=version, tried=tried
        )
        before = _values("plan", current)
        changes = _changes(before, tried)
        if not changes:
            transaction.set_rollback(True)  # nothing to change: keep the version as it was
            return plan
        for code, (status, notes) in wanted.items():
            need = existing.get(code)
            if need is None:
                PathwayNeed.objects.create(
                    plan=current, pathway=pathways[code], status=status, notes=notes
                )
            elif (need.status, need.notes) != (status, notes):
                need.status, need.notes = status, notes
                need.save(update_fields=["status", "notes", "updated_at"])
        current.updated_by = actor.user
        current.save(update_fields=["updated_by", "updated_at"])
        _mark_changed(current)
        _log_edit(plan=current, object_type="plan", obj=current, changes=changes, actor=actor)
        record(
            "plan.needs_set",
            actor=actor,
            obj=current,
            person_id=current.person_id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
            context={**_person_context(current), "changed": len(changes)},
        )
    return current


def set_readiness(
    *,
    actor: Actor,
    plan: ManagementPlan,
    version: int,
    strengths: str,
    readiness_motivated: str,
    readiness_able: str,
    readiness_relevant: str,
    readiness_capacity: str,
    readiness_note: str = "",
) -> ManagementPlan:
    """Set the person's strengths and readiness (motivated, able, finds it relevant, capacity)."""
    require(actor, PlanAction.EDIT_PLAN, registration=plan.registration)
    errors, add = _errors()
    tried: dict[str, Any] = {
        "strengths": _clean(strengths),
        "readiness_motivated": readiness_motivated,
        "readiness_able": readiness_able,
        "readiness_relevant": readiness_relevant,
        "readiness_capacity": readiness_capacity,
        "readiness_note": _clean(readiness_note),
    }
    for name, label in READINESS_FIELDS.items():
        if tried[name] not in Readiness.values:
            add(
                name,
                f"say whether the person is '{label.lower()}': yes, partly, no or not assessed",
            )
    _check_text(add, "strengths", tried["strengths"])
    _check_text(add, "readiness_note", tried["readiness_note"])
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _bump(
            ManagementPlan, plan, object_type="plan", what="plan", seen_version=version, tried=tried
        )
        changes = _changes(_values("plan", current), tried)
        if not changes:
            transaction.set_rollback(True)
            return plan
        for name, value in tried.items():
            setattr(current, name, value)
        current.updated_by = actor.user
        current.save()
        _mark_changed(current)
        _log_edit(plan=current, object_type="plan", obj=current, changes=changes, actor=actor)
        record(
            "plan.readiness_set",
            actor=actor,
            obj=current,
            person_id=current.person_id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
            context=_person_context(current),
        )
    return current


# --- Objectives ---------------------------------------------------------------------------------


def _check_objective(text: str, pathway: Pathway | None) -> None:
    errors, add = _errors()
    _check_text(add, "text", text, required="enter the objective")
    if pathway is not None and not pathway.is_active:
        add("pathway", f"{pathway.name} is no longer offered")
    if errors:
        raise ValidationError(errors)


def add_objective(
    *,
    actor: Actor,
    plan: ManagementPlan,
    text: str,
    own_words: bool = False,
    pathway: Pathway | None = None,
) -> Objective:
    require(actor, PlanAction.EDIT_PLAN, registration=plan.registration)
    text = _clean(text)
    _check_objective(text, pathway)
    with transaction.atomic():
        objective = Objective.objects.create(
            plan=plan,
            text=text,
            own_words=own_words,
            pathway=pathway,
            created_by=actor.user,
            updated_by=actor.user,
        )
        _mark_changed(plan)
        record(
            "plan.objective_added",
            actor=actor,
            obj=objective,
            person_id=plan.person_id,
            after=snapshot(objective),
            context=_person_context(plan),
        )
    return objective


def edit_objective(
    *,
    actor: Actor,
    objective: Objective,
    version: int,
    text: str,
    own_words: bool,
    pathway: Pathway | None,
    achieved: bool,
) -> Objective:
    plan = objective.plan
    require(actor, PlanAction.EDIT_PLAN, registration=plan.registration)
    text = _clean(text)
    # An existing choice stays valid even if the pathway has since been retired.
    _check_objective(text, pathway if pathway and pathway.pk != objective.pathway_id else None)
    tried = {"text": text, "own_words": own_words, "pathway": _json(pathway), "achieved": achieved}
    with transaction.atomic():
        current = _bump(
            Objective,
            objective,
            object_type="objective",
            what="objective",
            seen_version=version,
            tried=tried,
        )
        changes = _changes(_values("objective", current), tried)
        if not changes:
            transaction.set_rollback(True)
            return objective
        current.text, current.own_words, current.pathway, current.achieved = (
            text,
            own_words,
            pathway,
            achieved,
        )
        current.updated_by = actor.user
        current.save()
        if set(changes) - {"achieved"}:
            _mark_changed(plan)
        _log_edit(plan=plan, object_type="objective", obj=current, changes=changes, actor=actor)
        record(
            "plan.objective_edited",
            actor=actor,
            obj=current,
            person_id=plan.person_id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
            context=_person_context(plan),
        )
    return current


# --- Actions ------------------------------------------------------------------------------------


def _check_action(
    *,
    owner_agency: Agency | None,
    owner_worker: Any,
    action_type: str,
    pathway: Pathway | None,
    description: str,
    due_date: dt.date | None,
    estimated_cost: decimal.Decimal | None,
    existing: PlanActionRow | None = None,
) -> None:
    from openiom.accounts.models import Membership

    errors, add = _errors()
    if owner_agency is None:
        add("owner_agency", "select the agency responsible")
    elif not owner_agency.is_active and (
        existing is None or existing.owner_agency_id != owner_agency.pk
    ):
        add("owner_agency", f"{owner_agency.name} is no longer an active agency")
    if owner_worker is not None and owner_agency is not None:
        works_there = (
            Membership.objects.filter(user=owner_worker, agency=owner_agency, is_active=True)
            .exclude(role__in=CASEWORK_EXCLUDED_ROLES)
            .exists()
        )
        if not works_there:
            add(
                "owner_worker",
                f"{user_name(owner_worker)} does not work for {owner_agency.name} as a case "
                "worker; choose one of its workers or leave the worker empty",
            )
    if action_type not in ActionType.values:
        add("action_type", "select support, intervention or disruption and enforcement")
    if (
        pathway is not None
        and not pathway.is_active
        and (existing is None or existing.pathway_id != pathway.pk)
    ):
        add("pathway", f"{pathway.name} is no longer offered")
    _check_text(add, "description", description, required="say what will be done")
    if due_date is None:
        add("due_date", "enter the date the action is due")
    if estimated_cost is not None:
        if estimated_cost < 0:
            add("estimated_cost", "the estimated cost cannot be negative")
        elif estimated_cost > MAX_COST:
            add("estimated_cost", f"the estimated cost must be at most £{MAX_COST:,}")
        elif estimated_cost != estimated_cost.quantize(decimal.Decimal("0.01")):
            add("estimated_cost", "give the estimated cost in pounds and pence, e.g. 250.00")
    if errors:
        raise ValidationError(errors)


def _open_involvement(*, actor: Actor, plan: ManagementPlan, agency: Agency, worker: Any) -> None:
    """Give the owning agency access to the person (basics and the plan) by opening an involvement.

    Naming an agency on an action means it works with the person; without an involvement its
    workers could not see the action they own. Access stays with the named worker when there is
    one. Nothing is opened when the agency (or that worker) already has a current involvement.
    """
    from openiom.people.models import Involvement

    today = timezone.localdate()
    current = Involvement.objects.filter(
        person_id=plan.person_id, agency=agency, start_date__lte=today
    ).filter(models.Q(end_date__isnull=True) | models.Q(end_date__gte=today))
    if worker is not None:
        current = current.filter(models.Q(worker__isnull=True) | models.Q(worker=worker))
    if current.exists():
        return
    involvement = Involvement.objects.create(
        person_id=plan.person_id,
        agency=agency,
        worker=worker,
        purpose="IOM management plan actions",
        start_date=today,
    )
    record(
        "involvement.started",
        actor=actor,
        obj=involvement,
        person_id=plan.person_id,
        after=snapshot(involvement),
        context={"agency": agency.name, "person": str(plan.person)},
        details={"why": "the agency owns an action in the person's IOM management plan"},
    )


def add_action(
    *,
    actor: Actor,
    plan: ManagementPlan,
    owner_agency: Agency,
    owner_worker: Any = None,
    action_type: str,
    pathway: Pathway | None = None,
    description: str,
    due_date: dt.date,
    additional: bool = False,
    estimated_cost: decimal.Decimal | None = None,
) -> PlanActionRow:
    require(actor, PlanAction.EDIT_PLAN, registration=plan.registration)
    description = _clean(description)
    _check_action(
        owner_agency=owner_agency,
        owner_worker=owner_worker,
        action_type=action_type,
        pathway=pathway,
        description=description,
        due_date=due_date,
        estimated_cost=estimated_cost,
    )
    with transaction.atomic():
        action = PlanActionRow.objects.create(
            plan=plan,
            person_id=plan.person_id,
            owner_agency=owner_agency,
            owner_worker=owner_worker,
            action_type=action_type,
            pathway=pathway,
            description=description,
            due_date=due_date,
            additional=additional,
            estimated_cost=estimated_cost,
            created_by=actor.user,
            updated_by=actor.user,
        )
        _open_involvement(actor=actor, plan=plan, agency=owner_agency, worker=owner_worker)
        _mark_changed(plan)
        record(
            "plan.action_added",
            actor=actor,
            obj=action,
            person_id=plan.person_id,
            after=snapshot(action),
            context={
                **_person_context(plan),
                "type": action.get_action_type_display().lower(),
                "agency": owner_agency.name,
            },
        )
    return action


def edit_action(
    *,
    actor: Actor,
    action: PlanActionRow,
    version: int,
    owner_agency: Agency,
    owner_worker: Any,
    action_type: str,
    pathway: Pathway | None,
    description: str,
    due_date: dt.date,
    additional: bool,
    estimated_cost: decimal.Decimal | None,
) -> PlanActionRow:
    """Change what an action is (plan editors); its status and outcome: update_action_progress."""
    plan = action.plan
    require(actor, PlanAction.EDIT_PLAN, registration=plan.registration)
    description = _clean(description)
    _check_action(
        owner_agency=owner_agency,
        owner_worker=owner_worker,
        action_type=action_type,
        pathway=pathway,
        description=description,
        due_date=due_date,
        estimated_cost=estimated_cost,
        existing=action,
    )
    new = {
        "owner_agency": owner_agency,
        "owner_worker": owner_worker,
        "action_type": action_type,
        "pathway": pathway,
        "description": description,
        "due_date": due_date,
        "additional": additional,
        "estimated_cost": estimated_cost,
    }
    tried = {name: _json(value) for name, value in new.items()}
    with transaction.atomic():
        current = _bump(
            PlanActionRow,
            action,
            object_type="action",
            what="action",
            seen_version=version,
            tried=tried,
        )
        changes = _changes(_values("action", current), tried)
        if not changes:
            transaction.set_rollback(True)
            return action
        for name, value in new.items():
            setattr(current, name, value)
        current.updated_by = actor.user
        current.save()
        if "owner_agency" in changes or "owner_worker" in changes:
            _open_involvement(actor=actor, plan=plan, agency=owner_agency, worker=owner_worker)
        _mark_changed(plan)
        _log_edit(plan=plan, object_type="action", obj=current, changes=changes, actor=actor)
        record(
            "plan.action_edited",
            actor=actor,
            obj=current,
            person_id=plan.person_id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
            context={**_person_context(plan), "agency": owner_agency.name},
        )
    return current


def may_update_action(actor: Actor, action: PlanActionRow) -> Decision:
    """Plan editors update any action; other workers who may see the plan, their agency's own."""
    registration = action.plan.registration
    seen = can(actor, PlanAction.UPDATE_ACTION, registration=registration)
    if not seen:
        return seen
    if can(actor, PlanAction.EDIT_PLAN, registration=registration):
        return Decision(True, "plan editor")
    if action.owner_agency_id == actor.agency_id:
        return Decision(True, "your agency owns the action")
    return Decision(False, "partner agencies update only their own agency's actions")


def update_action_progress(
    *,
    actor: Actor,
    action: PlanActionRow,
    version: int,
    status: str,
    outcome: str,
    on: dt.date | None = None,
) -> PlanActionRow:
    """Record an action's status and outcome; completed_on is set when it closes."""
    plan = action.plan
    require(actor, PlanAction.UPDATE_ACTION, registration=plan.registration)
    decision = may_update_action(actor, action)
    if not decision:
        deny(actor, PlanAction.UPDATE_ACTION, decision, plan.person)
    errors, add = _errors()
    outcome = _clean(outcome)
    if status not in ActionStatus.values:
        add("status", "select planned, in progress, done, not done or cancelled")
    _check_text(add, "outcome", outcome)
    if errors:
        raise ValidationError(errors)
    today = on or timezone.localdate()
    tried = {"status": status, "outcome": outcome}
    with transaction.atomic():
        current = _bump(
            PlanActionRow,
            action,
            object_type="action",
            what="action",
            seen_version=version,
            tried=tried,
        )
        changes = _changes(_values("action", current), tried)
        if not changes:
            transaction.set_rollback(True)
            return action
        current.status, current.outcome = status, outcome
        if status in OPEN_ACTION_STATUSES:
            current.completed_on = None
        elif current.completed_on is None or "status" in changes:
            current.completed_on = today
        current.updated_by = actor.user
        current.save()
        _log_edit(plan=plan, object_type="action", obj=current, changes=changes, actor=actor)
        record(
            "plan.action_updated",
            actor=actor,
            obj=current,
            person_id=plan.person_id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
            context={
                **_person_context(plan),
                "agency": current.owner_agency.name,
                "status": current.get_status_display().lower(),
            },
        )
    return current


# --- Agreement and review -----------------------------------------------------------------------


def plan_snapshot(plan: ManagementPlan) -> dict[str, Any]:
    """The plan as it stands, for an immutable PlanVersion (JSON)."""
    needs = [
        {
            "pathway": n.pathway.code,
            "name": n.pathway.name,
            "status": n.status,
            "status_label": n.get_status_display(),
            "notes": n.notes,
        }
        for n in plan.needs.select_related("pathway")
    ]
    objectives = [
        {
            "id": o.pk,
            "text": o.text,
            "own_words": o.own_words,
            "pathway": o.pathway.name if o.pathway else None,
            "achieved": o.achieved,
        }
        for o in plan.objectives.select_related("pathway")
    ]
    actions = [
        {
            "id": a.pk,
            "agency_id": a.owner_agency_id,
            "agency": a.owner_agency.name,
            "worker": user_name(a.owner_worker),
            "type": a.action_type,
            "type_label": a.get_action_type_display(),
            "pathway": a.pathway.name if a.pathway else None,
            "description": a.description,
            "due_date": a.due_date.isoformat(),
            "status": a.status,
            "status_label": a.get_status_display(),
            "outcome": a.outcome,
            "additional": a.additional,
            "estimated_cost": _json(a.estimated_cost),
        }
        for a in plan.actions.select_related("owner_agency", "owner_worker", "pathway")
    ]
    return {
        "status": plan.status,
        "strengths": plan.strengths,
        "readiness": {label: getattr(plan, name) for name, label in READINESS_FIELDS.items()},
        "readiness_note": plan.readiness_note,
        "needs": needs,
        "objectives": objectives,
        "actions": actions,
        "agreed_by": user_name(plan.agreed_by),
        "agreed_at": plan.agreed_at.isoformat() if plan.agreed_at else None,
        "last_reviewed_on": _json(plan.last_reviewed_on),
        "next_review_date": _json(plan.next_review_date),
        "plan_version": plan.version,
    }


def _new_version(*, plan: ManagementPlan, kind: str, actor: Actor, note: str = "") -> PlanVersion:
    number = (plan.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    data = plan_snapshot(plan)
    data.update(
        {
            "kind": kind,
            "number": number,
            "recorded_by": user_name(actor.user),
            "recorded_by_agency": actor.membership.agency.name if actor.membership else "",
            "recorded_at": timezone.now().isoformat(),
            "note": note,
        }
    )
    return PlanVersion.objects.create(
        plan=plan,
        number=number,
        kind=kind,
        snapshot=data,
        note=note,
        recorded_by=actor.user,
        recorded_by_agency_id=actor.agency_id,
    )


def agree_plan(*, actor: Actor, plan: ManagementPlan, version: int) -> PlanVersion:
    """Record that the plan was agreed (with the person); snapshots it as a new version."""
    require(actor, PlanAction.AGREE_PLAN, registration=plan.registration)
    if plan.status == PlanStatus.AGREED and not plan.changed_since_agreed:
        raise ValidationError(
            {
                "plan": [
                    "plan: the plan has not changed since it was agreed; record a review instead"
                ]
            }
        )
    if not plan.objectives.exists():
        raise ValidationError(
            {"plan": ["plan: add at least one objective before agreeing the plan"]}
        )
    now = timezone.now()
    today = timezone.localdate()
    next_review = today + review_period(plan.registration)
    tried = {"status": PlanStatus.AGREED.value, "next_review_date": next_review.isoformat()}
    with transaction.atomic():
        current = _bump(
            ManagementPlan, plan, object_type="plan", what="plan", seen_version=version, tried=tried
        )
        changes = _changes(_values("plan", current), tried)
        current.status = PlanStatus.AGREED
        current.agreed_at = now
        current.agreed_by = actor.user
        current.next_review_date = next_review
        current.changed_since_agreed = False
        current.updated_by = actor.user
        current.save()
        _log_edit(plan=current, object_type="plan", obj=current, changes=changes, actor=actor)
        plan_version = _new_version(plan=current, kind=VersionKind.AGREED, actor=actor)
        record(
            "plan.agreed",
            actor=actor,
            obj=current,
            person_id=current.person_id,
            after={"number": plan_version.number, "next_review_date": next_review},
            context={**_person_context(current), "number": plan_version.number},
        )
    return plan_version


def record_review(
    *,
    actor: Actor,
    plan: ManagementPlan,
    version: int,
    reviewed_on: dt.date,
    note: str,
) -> PlanVersion:
    """Record a review of an agreed plan; snapshots it and schedules the next review."""
    require(actor, PlanAction.AGREE_PLAN, registration=plan.registration)
    errors, add = _errors()
    note = _clean(note)
    if plan.status != PlanStatus.AGREED:
        add("plan", "agree the plan before reviewing it")
    if reviewed_on > timezone.localdate():
        add("reviewed_on", "the review date cannot be in the future")
    elif (
        plan.agreed_at
        and reviewed_on < timezone.localdate(plan.agreed_at)
        and not plan.last_reviewed_on
    ):
        add("reviewed_on", "the review date cannot be before the plan was agreed")
    elif plan.last_reviewed_on and reviewed_on < plan.last_reviewed_on:
        add(
            "reviewed_on",
            f"the review date cannot be before the last review ({plan.last_reviewed_on:%d/%m/%Y})",
        )
    _check_text(add, "note", note, required="say what the review found and decided")
    if errors:
        raise ValidationError(errors)
    next_review = reviewed_on + review_period(plan.registration)
    tried = {"next_review_date": next_review.isoformat()}
    with transaction.atomic():
        current = _bump(
            ManagementPlan, plan, object_type="plan", what="plan", seen_version=version, tried=tried
        )
        changes = _changes(_values("plan", current), tried)
        current.last_reviewed_on = reviewed_on
        current.next_review_date = next_review
        current.updated_by = actor.user
        current.save()
        _log_edit(plan=current, object_type="plan", obj=current, changes=changes, actor=actor)
        plan_version = _new_version(plan=current, kind=VersionKind.REVIEWED, actor=actor, note=note)
        record(
            "plan.reviewed",
            actor=actor,
            obj=current,
            person_id=current.person_id,
            after={"number": plan_version.number, "reviewed_on": reviewed_on, "note": note},
            context={**_person_context(current), "number": plan_version.number},
        )
    return plan_version
