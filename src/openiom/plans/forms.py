"""Forms of the plan pages. Each edit form carries the `version` the user saw (hidden)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from openiom.access.policy import CASEWORK_EXCLUDED_ROLES
from openiom.partnership.models import Agency
from openiom.plans.models import (
    READINESS_FIELDS,
    ActionStatus,
    ActionType,
    NeedStatus,
    Pathway,
    PathwayNeed,
    Readiness,
)

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"]
YES_NO = [("yes", "Yes"), ("no", "No")]


def _version_field() -> forms.IntegerField:
    return forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": "The page is out of date: open it again"},
    )


class PlanForm(forms.Form):
    """Puts each "field: why" message from a service against the field it is about."""

    service_fields: dict[str, str] = {}

    def add_service_errors(self, error: ValidationError) -> None:
        items = (
            error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
        )
        for name, messages in items:
            target = self.service_fields.get(name or "", name)
            if target not in self.fields:
                target = None
            for message in messages:
                why = message.partition(": ")[2] or message
                self.add_error(target, why[0].upper() + why[1:])


def pathway_choices(*, include: Pathway | None = None) -> list[tuple[Any, str]]:
    pathways = Pathway.objects.filter(is_active=True)
    choices: list[tuple[Any, str]] = [("", "No particular pathway")]
    choices += [(p.pk, p.name) for p in pathways]
    if include is not None and not include.is_active:
        choices.append((include.pk, f"{include.name} (no longer offered)"))
    return choices


class NeedsForm(PlanForm):
    """One status and notes per pathway: those on the plan, then the optional ones."""

    version = _version_field()

    def __init__(self, *args: Any, needs: list[PathwayNeed], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[dict[str, Any]] = []
        on_plan = {n.pathway_id: n for n in needs}
        pathways = list(Pathway.objects.filter(is_active=True)) + [
            n.pathway for n in needs if not n.pathway.is_active
        ]
        for pathway in pathways:
            need = on_plan.get(pathway.pk)
            status_name = f"need_{pathway.code}_status"
            notes_name = f"need_{pathway.code}_notes"
            choices = list(NeedStatus.choices)
            if need is None:
                choices = [("", "Not relevant (leave off the plan)"), *choices]
            self.fields[status_name] = forms.ChoiceField(
                label=f"{pathway.name}: status",
                choices=choices,
                required=need is not None,
                error_messages={
                    "required": f"Select the status of {pathway.name.lower()}",
                    "invalid_choice": f"Choose a listed status of {pathway.name.lower()}",
                },
            )
            self.fields[notes_name] = forms.CharField(
                label=f"{pathway.name}: notes", required=False, widget=forms.Textarea
            )
            if need is not None and not self.is_bound:
                self.initial[status_name] = need.status
                self.initial[notes_name] = need.notes
            self.rows.append(
                {
                    "pathway": pathway,
                    "on_plan": need is not None,
                    "status": self[status_name],
                    "notes": self[notes_name],
                }
            )

    def needs(self) -> dict[str, dict[str, str]]:
        return {
            row["pathway"].code: {
                "status": self.cleaned_data.get(f"need_{row['pathway'].code}_status", ""),
                "notes": self.cleaned_data.get(f"need_{row['pathway'].code}_notes", ""),
            }
            for row in self.rows
        }


class ReadinessForm(PlanForm):
    version = _version_field()
    strengths = forms.CharField(
        label="Strengths",
        required=False,
        widget=forms.Textarea,
        help_text="What the person does well, and what helps them stay away from offending.",
    )
    readiness_motivated = forms.ChoiceField(
        label="Motivated", choices=Readiness.choices, widget=forms.RadioSelect
    )
    readiness_able = forms.ChoiceField(
        label="Able", choices=Readiness.choices, widget=forms.RadioSelect
    )
    readiness_relevant = forms.ChoiceField(
        label="Finds it relevant", choices=Readiness.choices, widget=forms.RadioSelect
    )
    readiness_capacity = forms.ChoiceField(
        label="Has the capacity", choices=Readiness.choices, widget=forms.RadioSelect
    )
    readiness_note = forms.CharField(
        label="Note on readiness", required=False, widget=forms.Textarea
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in READINESS_FIELDS.items():
            self.fields[name].error_messages["required"] = (
                f"Say whether the person is '{label.lower()}': yes, partly, no or not assessed"
            )
            self.fields[name].error_messages["invalid_choice"] = self.fields[name].error_messages[
                "required"
            ]


class ObjectiveForm(PlanForm):
    text = forms.CharField(
        label="Objective",
        widget=forms.Textarea,
        error_messages={"required": "Enter the objective"},
    )
    own_words = forms.BooleanField(
        label="These are the person's own words (their goal, as they put it)", required=False
    )
    pathway = forms.TypedChoiceField(
        label="Pathway", required=False, coerce=int, empty_value=None, choices=[]
    )

    def __init__(self, *args: Any, current: Pathway | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pathway"].choices = pathway_choices(include=current)  # type: ignore[attr-defined]
        self.fields["pathway"].error_messages["invalid_choice"] = "Select a pathway from the list"

    def chosen_pathway(self) -> Pathway | None:
        pk = self.cleaned_data.get("pathway")
        return Pathway.objects.get(pk=pk) if pk else None


class ObjectiveEditForm(ObjectiveForm):
    version = _version_field()
    achieved = forms.BooleanField(label="Achieved", required=False)


def worker_choices() -> list[tuple[Any, str]]:
    from openiom.accounts.models import Membership

    rows = (
        Membership.objects.filter(is_active=True, agency__is_active=True)
        .exclude(role__in=CASEWORK_EXCLUDED_ROLES)  # analysts, DPOs, administrators own no actions
        .select_related("user", "agency")
        .order_by("agency__name", "user__last_name", "user__first_name")
    )
    choices: list[tuple[Any, str]] = [("", "Not named yet")]
    seen: set[tuple[int, int]] = set()
    for m in rows:
        if (m.user_id, m.agency_id) in seen:
            continue
        seen.add((m.user_id, m.agency_id))
        name = m.user.get_full_name() or m.user.get_username()
        choices.append((m.user_id, f"{name} ({m.agency.name})"))
    return choices


class ActionForm(PlanForm):
    owner_agency = forms.TypedChoiceField(
        label="Agency responsible",
        coerce=int,
        choices=[],
        error_messages={
            "required": "Select the agency responsible",
            "invalid_choice": "Select an agency from the list",
        },
    )
    owner_worker = forms.TypedChoiceField(
        label="Named worker",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[],
        help_text="The person at that agency who will do it.",
        error_messages={"invalid_choice": "Select a worker from the list"},
    )
    action_type = forms.ChoiceField(
        label="Type of action",
        choices=[("", "Choose the type"), *ActionType.choices],
        error_messages={
            "required": "Select the type of action",
            "invalid_choice": "Select a type of action from the list",
        },
    )
    pathway = forms.TypedChoiceField(
        label="Pathway", required=False, coerce=int, empty_value=None, choices=[]
    )
    description = forms.CharField(
        label="What will be done",
        widget=forms.Textarea,
        error_messages={"required": "Say what will be done"},
    )
    due_date = forms.DateField(
        label="Due date",
        input_formats=DATE_INPUT_FORMATS,
        help_text="For example, 27/03/2026",
        error_messages={
            "required": "Enter the date the action is due",
            "invalid": "Enter the due date as day/month/year, for example 27/03/2026",
        },
    )
    additional = forms.ChoiceField(
        label="Is this additional to what the person would get without IOM?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the action is additional to usual services"},
    )
    estimated_cost = forms.DecimalField(
        label="Estimated cost (£)",
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="In pounds, for example 250.00. Leave empty if not known.",
        error_messages={
            "invalid": "Enter the estimated cost as a number of pounds, for example 250.00",
            "min_value": "The estimated cost cannot be negative",
            "max_digits": "The estimated cost must be at most £99,999,999.99",
            "max_decimal_places": "Give the estimated cost in pounds and pence, e.g. 250.00",
            "max_whole_digits": "The estimated cost must be at most £99,999,999.99",
        },
    )

    def __init__(self, *args: Any, current: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agencies = Agency.objects.filter(is_active=True).order_by("name")
        agency_choices: list[tuple[Any, str]] = [("", "Choose the agency")]
        agency_choices += [(a.pk, a.name) for a in agencies]
        if current is not None and not current.owner_agency.is_active:
            agency_choices.append((current.owner_agency_id, current.owner_agency.name))
        self.fields["owner_agency"].choices = agency_choices  # type: ignore[attr-defined]
        self.fields["owner_worker"].choices = worker_choices()  # type: ignore[attr-defined]
        self.fields["pathway"].choices = pathway_choices(  # type: ignore[attr-defined]
            include=current.pathway if current is not None else None
        )
        self.fields["pathway"].error_messages["invalid_choice"] = "Select a pathway from the list"

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        worker = data.get("owner_worker")
        return {
            "owner_agency": Agency.objects.get(pk=data["owner_agency"]),
            "owner_worker": get_user_model().objects.get(pk=worker) if worker else None,
            "action_type": data["action_type"],
            "pathway": Pathway.objects.get(pk=data["pathway"]) if data.get("pathway") else None,
            "description": data["description"],
            "due_date": data["due_date"],
            "additional": data["additional"] == "yes",
            "estimated_cost": data.get("estimated_cost"),
        }


class ActionEditForm(ActionForm):
    version = _version_field()


class ActionProgressForm(PlanForm):
    version = _version_field()
    status = forms.ChoiceField(
        label="Status",
        choices=ActionStatus.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the action's status",
            "invalid_choice": "Select a status from the list",
        },
    )
    outcome = forms.CharField(
        label="Outcome",
        required=False,
        widget=forms.Textarea,
        help_text="What happened. The person may read this on their copy of the plan.",
    )


class AgreeForm(PlanForm):
    version = _version_field()


class ReviewForm(PlanForm):
    version = _version_field()
    reviewed_on = forms.DateField(
        label="Date of the review",
        input_formats=DATE_INPUT_FORMATS,
        help_text="For example, 27/03/2026",
        error_messages={
            "required": "Enter the date of the review",
            "invalid": "Enter the date of the review as day/month/year, for example 27/03/2026",
        },
    )
    note = forms.CharField(
        label="What the review found and decided",
        widget=forms.Textarea,
        error_messages={"required": "Say what the review found and decided"},
    )
