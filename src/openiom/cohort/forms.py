"""Forms of the cohort pages, with error messages in GOV.UK style.

The forms check what a browser can get wrong (missing, malformed, out-of-range values); the
services check the domain rules and raise CohortError, which `add_service_error` puts against the
field it names (or in the error summary).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django import forms
from django.utils import timezone

from openiom.accounts.models import Membership
from openiom.cohort.models import (
    DeregistrationReason,
    PanelOutcome,
    RagStatus,
    ReconsiderationOutcome,
    ReferralState,
    RegistrationStatus,
)
from openiom.cohort.policies import GREEN_CONDITIONS, RED_RULES, ExitRules, RagRules
from openiom.cohort.rag import ReportedEvidence
from openiom.partnership.models import Agency, Hub

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"]
TEXT_LIMIT = 5000
SHORT_TEXT_LIMIT = 200
YES_NO_UNKNOWN = [("yes", "Yes"), ("no", "No"), ("", "Not known")]

RULE_LABELS = {
    "new_offence": "New offence in the window",
    "arrest": "Arrest in the window",
    "intelligence": "Police intelligence in the window",
    "missed_appointments": "Missed appointments",
    "full_attendance": "Full attendance at arranged appointments",
    "no_current_intelligence": "No current police intelligence",
    "negative_drug_tests": "Negative drug tests",
    "stable_accommodation": "Stable accommodation",
    "employment": "Employment",
}


def date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        required=required,
        input_formats=DATE_INPUT_FORMATS,
        error_messages={
            "required": f"Enter the {label}",
            "invalid": f"The {label} must be a real date, like 27/03/2026",
        },
    )


def text_field(
    required_message: str = "", *, limit: int = TEXT_LIMIT, what: str = "This"
) -> forms.CharField:
    return forms.CharField(
        required=bool(required_message),
        max_length=limit,
        error_messages={
            "required": required_message,
            "max_length": f"{what} must be {limit} characters or fewer",
        },
    )


def count_field(what: str) -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        min_value=0,
        max_value=1000,
        error_messages={
            "invalid": f"{what} must be a whole number, like 4",
            "min_value": f"{what} must be 0 or more",
            "max_value": f"{what} must be 1000 or fewer",
        },
    )


def _not_future(value: dt.date | None, what: str) -> dt.date | None:
    if value is not None and value > timezone.localdate():
        raise forms.ValidationError(f"The {what} must be today or in the past")
    return value


class ServiceErrorMixin:
    """Put a service's CohortError message against the field it is about.

    Service messages name the field with a "field: …" prefix, or mention it by name; anything
    else goes to the top of the error summary.
    """

    # Service parameter name → form field name, and phrases that point at a field.
    service_fields: dict[str, str] = {}
    phrases: tuple[tuple[str, str], ...] = ()

    def add_service_error(self, error: Exception) -> None:
        form: Any = self
        message = str(error)
        match = re.match(r"^([a-z_]+): (.+)$", message, re.DOTALL)
        field = ""
        if match:
            name = match.group(1)
            field = self.service_fields.get(name, name)
            if field in form.fields:
                message = match.group(2)
                message = message[0].upper() + message[1:]
            else:
                field = ""
        if not field:
            lowered = message.lower()
            for phrase, name in self.phrases:
                if phrase in lowered and name in form.fields:
                    field = name
                    break
        form.add_error(field or None, message)


class ReferralForm(ServiceErrorMixin, forms.Form):
    reason = text_field("Enter why the panel should consider this person", what="The reason")
    evidence = text_field(what="The evidence")
    new_information = text_field(what="What is new")
    proposed_cohort = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select a cohort from the list"}
    )
    phrases = (("new information", "new_information"), ("reason", "reason"))

    def __init__(
        self, *args: Any, cohorts: list[Any], needs_new_information: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cohorts = {str(c.pk): c for c in cohorts}
        field = self.fields["proposed_cohort"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Leave it to the panel")] + [(str(c.pk), c.name) for c in cohorts]
        self.needs_new_information = needs_new_information

    def clean_new_information(self) -> str:
        value = self.cleaned_data.get("new_information", "").strip()
        if self.needs_new_information and not value:
            raise forms.ValidationError(
                "Enter what is new since the panel decided not to adopt this person"
            )
        return value

    def cohort(self) -> Any:
        return self.cohorts.get(self.cleaned_data.get("proposed_cohort") or "")


class ListForPanelForm(ServiceErrorMixin, forms.Form):
    panel_date = date_field("panel date")
    note = text_field(limit=SHORT_TEXT_LIMIT * 5, what="The note")
    service_fields = {"panel_date": "panel_date"}


class WithdrawForm(ServiceErrorMixin, forms.Form):
    reason = text_field("Enter why the referral is being withdrawn", what="The reason")
    phrases = (("reason", "reason"),)


STATE_FILTERS = [
    ("open", "Submitted or listed"),
    (ReferralState.SUBMITTED.value, "Submitted"),
    (ReferralState.LISTED.value, "Listed for panel"),
    (ReferralState.ADOPTED.value, "Adopted"),
    (ReferralState.NOT_ADOPTED.value, "Not adopted"),
    (ReferralState.WITHDRAWN.value, "Withdrawn"),
]


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False,
        choices=STATE_FILTERS,
        error_messages={"invalid_choice": "Select a state from the list"},
    )

    def states(self) -> tuple[str, ...]:
        state = self.cleaned_data.get("state") or "open"
        if state == "open":
            return (ReferralState.SUBMITTED.value, ReferralState.LISTED.value)
        return (state,)


def _agency_choices() -> list[tuple[str, str]]:
    return [(str(a.pk), a.name) for a in Agency.objects.filter(is_active=True).order_by("name")]


class PanelDecisionForm(ServiceErrorMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=PanelOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the panel's decision",
            "invalid_choice": "Select adopt, do not adopt or defer",
        },
    )
    decided_on = date_field("date of the panel")
    agencies_present = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select the agencies present at the panel",
            "invalid_choice": "Select agencies from the list",
        },
    )
    rationale = text_field("Enter the panel's rationale", what="The rationale")
    dissent = text_field(what="The dissent")
    dissent_agency = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select an agency from the list"}
    )
    cohort = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select a cohort from the list"}
    )
    lead_agency = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select an agency from the list"}
    )
    lead_worker = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select a worker from the list"}
    )
    eligibility_override_reason = text_field(what="The reason")
    over_capacity_reason = text_field(what="The reason")
    meeting_reference = text_field(limit=100, what="The meeting reference")

    service_fields = {"decided_on": "decided_on", "agencies_present": "agencies_present"}
    phrases = (
        ("eligibility_override_reason", "eligibility_override_reason"),
        ("over_capacity_reason", "over_capacity_reason"),
        ("does not work for", "lead_worker"),
        ("rationale", "rationale"),
        ("dissenting agency", "dissent"),
        ("not the version in force", "cohort"),
        ("no definition in force", "cohort"),
        ("already registered", "cohort"),
        ("already has a current registration", "cohort"),
    )

    def __init__(self, *args: Any, cohorts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cohorts = {str(c.pk): c for c in cohorts}
        agencies = _agency_choices()
        self._choices("agencies_present", agencies)
        self._choices("dissent_agency", [("", "No agency dissented"), *agencies])
        self._choices("lead_agency", [("", "Choose the lead agency"), *agencies])
        self._choices("cohort", [("", "Choose a cohort")] + [(str(c.pk), c.name) for c in cohorts])
        members = (
            Membership.objects.filter(is_active=True, agency__is_active=True)
            .select_related("user", "agency")
            .order_by("agency__name", "user__last_name", "user__first_name", "user__username")
        )
        self.workers = {str(m.user_id): m.user for m in members}
        self._choices(
            "lead_worker",
            [("", "Choose the lead worker")]
            + [
                (
                    str(m.user_id),
                    f"{m.user.get_full_name() or m.user.get_username()} – {m.agency.name}",
                )
                for m in members
            ],
        )

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decided_on = data.get("decided_on")
        if decided_on is not None and decided_on > timezone.localdate():
            self.add_error("decided_on", "The date of the panel must be today or in the past")
        if data.get("decision") == PanelOutcome.ADOPT:
            for name, message in (
                ("cohort", "Select the cohort the person is adopted into"),
                ("lead_agency", "Select the lead agency"),
                ("lead_worker", "Select the lead worker"),
            ):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
        if data.get("dissent_agency") and not (data.get("dissent") or "").strip():
            self.add_error("dissent", "Enter what the dissenting agency said")
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        adopt = data["decision"] == PanelOutcome.ADOPT
        by_pk = {str(a.pk): a for a in Agency.objects.filter(is_active=True)}
        return {
            "decision": data["decision"],
            "decided_on": data["decided_on"],
            "agencies_present": [by_pk[pk] for pk in data["agencies_present"]],
            "rationale": data["rationale"],
            "dissent": data.get("dissent") or "",
            "dissent_agency": by_pk.get(data.get("dissent_agency") or ""),
            "cohort": self.cohorts.get(data.get("cohort") or "") if adopt else None,
            "lead_agency": by_pk.get(data.get("lead_agency") or "") if adopt else None,
            "lead_worker": self.workers.get(data.get("lead_worker") or "") if adopt else None,
            "eligibility_override_reason": data.get("eligibility_override_reason") or "",
            "over_capacity_reason": data.get("over_capacity_reason") or "",
            "meeting_reference": data.get("meeting_reference") or "",
        }


SORTS = {
    "name": ("person__surname", "person__first_names"),
    "cohort": ("cohort_key",),
    "rag": ("rag",),
    "lead": ("lead_agency__name",),
    "hub": ("person__hub__name",),
    "status": ("status",),
    "start": ("start_date",),
    "review": ("review_date",),
}
REGISTER_STATUS = [
    ("current", "Current (not de-registered)"),
    (RegistrationStatus.ACTIVE.value, "Active"),
    (RegistrationStatus.IN_CUSTODY.value, "In custody"),
    (RegistrationStatus.SUSPENDED.value, "Suspended"),
    (RegistrationStatus.DEREGISTERED.value, "De-registered"),
    ("all", "All, including de-registered"),
]


class RegisterFilterForm(forms.Form):
    cohort = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select a cohort from the list"}
    )
    rag = forms.ChoiceField(
        required=False,
        choices=[("", "Any RAG status"), *RagStatus.choices, ("none", "Not yet assessed")],
        error_messages={"invalid_choice": "Select a RAG status from the list"},
    )
    lead_agency = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select an agency from the list"}
    )
    hub = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Select a hub from the list"}
    )
    status = forms.ChoiceField(
        required=False,
        choices=REGISTER_STATUS,
        error_messages={"invalid_choice": "Select a status from the list"},
    )
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    dir = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])

    def __init__(self, *args: Any, cohort_keys: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cohort = self.fields["cohort"]
        assert isinstance(cohort, forms.ChoiceField)
        cohort.choices = [("", "Any cohort"), *cohort_keys]
        agency = self.fields["lead_agency"]
        assert isinstance(agency, forms.ChoiceField)
        agency.choices = [("", "Any lead agency"), *_agency_choices()]
        hub = self.fields["hub"]
        assert isinstance(hub, forms.ChoiceField)
        hub.choices = [("", "Any hub")] + [
            (str(h.pk), h.name) for h in Hub.objects.order_by("name")
        ]


class RagForm(ServiceErrorMixin, forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=RagStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select red, amber or green"},
    )
    assessed_on = date_field("date assessed")
    reason = text_field(what="The reason")
    appointments_kept = count_field("Appointments kept")
    appointments_missed = count_field("Appointments missed")
    drug_tests_negative = count_field("Negative drug tests")
    drug_tests_positive = count_field("Positive drug tests")
    stable_accommodation = forms.ChoiceField(
        required=False,
        choices=YES_NO_UNKNOWN,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select yes, no or not known"},
    )
    in_employment = forms.ChoiceField(
        required=False,
        choices=YES_NO_UNKNOWN,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select yes, no or not known"},
    )
    service_fields = {"on": "assessed_on", "status": "status"}
    phrases = (("give a reason", "reason"),)

    def __init__(self, *args: Any, saving: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saving = saving

    def clean_assessed_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("assessed_on"), "date assessed")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.saving and not data.get("status") and "status" not in self.errors:
            self.add_error("status", "Select the RAG status you have decided")
        return data

    def reported(self) -> ReportedEvidence:
        data = self.cleaned_data

        def yes_no(name: str) -> bool | None:
            value = data.get(name) or ""
            return None if value == "" else value == "yes"

        return ReportedEvidence(
            appointments_kept=data.get("appointments_kept"),
            appointments_missed=data.get("appointments_missed"),
            drug_tests_negative=data.get("drug_tests_negative"),
            drug_tests_positive=data.get("drug_tests_positive"),
            stable_accommodation=yes_no("stable_accommodation"),
            in_employment=yes_no("in_employment"),
        )


class ExitPlanForm(ServiceErrorMixin, forms.Form):
    plan = text_field(
        "Enter the exit plan: what support continues after IOM, and by whom", what="The plan"
    )
    recorded_on = date_field("date the plan was agreed")
    service_fields = {"on": "recorded_on"}
    phrases = (("exit plan", "plan"),)

    def clean_recorded_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("recorded_on"), "date the plan was agreed")


class DeregisterForm(ServiceErrorMixin, forms.Form):
    reason = forms.ChoiceField(
        choices=DeregistrationReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select why the person is being de-registered",
            "invalid_choice": "Select a reason from the list",
        },
    )
    note = text_field(what="The note")
    on = date_field("date of de-registration")
    reconsideration_due = date_field("reconsideration date", required=False)
    service_fields = {"reconsideration_due": "reconsideration_due"}
    phrases = (
        ("reconsideration_due", "reconsideration_due"),
        ("add a note", "note"),
        ("other reason", "note"),
    )

    def clean_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("on"), "date of de-registration")


class ReconsiderationOutcomeForm(ServiceErrorMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=ReconsiderationOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select what the referral and review meeting decided",
            "invalid_choice": "Select re-referred, no further action or cancelled",
        },
    )
    considered_on = date_field("date of the meeting")
    note = text_field("Enter what the meeting decided and why", what="The note")

    def clean_considered_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("considered_on"), "date of the meeting")


class StatusForm(ServiceErrorMixin, forms.Form):
    status = forms.ChoiceField(
        choices=[
            (s.value, s.label) for s in RegistrationStatus if s != RegistrationStatus.DEREGISTERED
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the new status",
            "invalid_choice": "Select active, in custody or suspended",
        },
    )
    note = text_field("Enter why the status changed", what="The note")
    on = date_field("date of the change")
    phrases = (("already", "status"),)

    def clean_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("on"), "date of the change")


# --- Policy versions -----------------------------------------------------------------------------


class PolicyVersionForm(ServiceErrorMixin, forms.Form):
    """What every policy version has: a name, a date, a source and a reason for the change."""

    name = text_field("Enter a name people will recognise", limit=200, what="The name")
    effective_from = date_field("date the version applies from")
    source = text_field("Enter where the values come from and how sure they are", what="The source")
    change_note = text_field("Enter why this version is being made", what="The change note")
    service_fields = {"effective_from": "effective_from", "change_note": "change_note"}

    def config(self) -> dict[str, Any]:
        raise NotImplementedError


class CohortPolicyForm(PolicyVersionForm):
    key = forms.SlugField(
        required=False,
        max_length=64,
        error_messages={
            "invalid": "The key must be letters, numbers, hyphens or underscores, like drugs-strand",
            "max_length": "The key must be 64 characters or fewer",
        },
    )
    config_json = forms.CharField(
        max_length=20000,
        error_messages={
            "required": "Enter the cohort's settings",
            "max_length": "The settings must be 20,000 characters or fewer",
        },
    )
    service_fields = {
        **PolicyVersionForm.service_fields,
        "key": "key",
        "config": "config_json",
    }

    def __init__(self, *args: Any, new_key: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_key = new_key
        if new_key:
            self.fields["key"].required = True
            self.fields["key"].error_messages["required"] = "Enter a key for the new cohort"

    def clean_config_json(self) -> dict[str, Any]:
        text = self.cleaned_data.get("config_json", "")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"The settings are not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}"
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError('The settings must be a JSON object, like {"capacity": 40}')
        return value

    def config(self) -> dict[str, Any]:
        return dict(self.cleaned_data["config_json"])

    def add_service_error(self, error: Exception) -> None:
        # Config errors name a setting ("eligibility.min_age: …"): show them on the settings box.
        message = str(error)
        first = message.split(":", 1)[0]
        if first not in self.fields and first not in self.service_fields and ":" in message:
            self.add_error("config_json", f"Setting {message}")
            return
        super().add_service_error(error)


def _checkbox_names(options: tuple[str, ...]) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        required=False,
        choices=[(name, RULE_LABELS[name]) for name in options],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select rules from the list"},
    )


def _whole(what: str, minimum: int = 1, maximum: int = 3650) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=minimum,
        max_value=maximum,
        error_messages={
            "required": f"Enter the {what}",
            "invalid": f"The {what} must be a whole number",
            "min_value": f"The {what} must be at least {minimum}",
            "max_value": f"The {what} must be {maximum} or fewer",
        },
    )


class RagPolicyForm(PolicyVersionForm):
    window_days = _whole("window in days")
    current_intelligence_days = _whole("current intelligence period in days")
    missed_appointments_for_red = _whole("number of missed appointments for red", maximum=100)
    red_rules = _checkbox_names(RED_RULES)
    green_all_of = _checkbox_names(GREEN_CONDITIONS)
    green_any_of = _checkbox_names(GREEN_CONDITIONS)
    service_fields = {
        **PolicyVersionForm.service_fields,
        "window_days": "window_days",
        "current_intelligence_days": "current_intelligence_days",
        "missed_appointments_for_red": "missed_appointments_for_red",
        "red_rules": "red_rules",
        "green_all_of/green_any_of": "green_all_of",
    }
    phrases = (("green_all_of", "green_all_of"),)

    @staticmethod
    def initial_from(rules: RagRules) -> dict[str, Any]:
        return {
            "window_days": rules.window_days,
            "current_intelligence_days": rules.current_intelligence_days,
            "missed_appointments_for_red": rules.missed_appointments_for_red,
            "red_rules": list(rules.red_rules),
            "green_all_of": list(rules.green_all_of),
            "green_any_of": list(rules.green_any_of),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        none_chosen = not data.get("green_all_of") and not data.get("green_any_of")
        if none_chosen and "green_all_of" not in self.errors:
            self.add_error(
                "green_all_of",
                "Select at least one green condition, or green could never be evidenced",
            )
        return data

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "window_days": data["window_days"],
            "current_intelligence_days": data["current_intelligence_days"],
            "missed_appointments_for_red": data["missed_appointments_for_red"],
            "red_rules": list(data.get("red_rules") or []),
            "green_all_of": list(data.get("green_all_of") or []),
            "green_any_of": list(data.get("green_any_of") or []),
        }


class DeregistrationPolicyForm(PolicyVersionForm):
    green_months = _whole("green period in months", maximum=60)
    green_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        error_messages={
            "invalid": "The green period in days must be a whole number",
            "min_value": "The green period in days must be at least 1",
            "max_value": "The green period in days must be 3650 or fewer",
        },
    )
    exit_plan_required = forms.ChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select whether an exit plan is required",
            "invalid_choice": "Select yes or no",
        },
    )
    long_sentence_days = _whole("long sentence threshold in days", maximum=36500)
    reconsider_months_before_release = _whole(
        "months before release to reconsider", minimum=0, maximum=120
    )
    service_fields = {
        **PolicyVersionForm.service_fields,
        "green_months": "green_months",
        "green_days": "green_days",
        "long_sentence_days": "long_sentence_days",
        "reconsider_months_before_release": "reconsider_months_before_release",
    }

    @staticmethod
    def initial_from(rules: ExitRules) -> dict[str, Any]:
        return {
            "green_months": rules.green_months,
            "green_days": rules.green_days,
            "exit_plan_required": "yes" if rules.exit_plan_required else "no",
            "long_sentence_days": rules.long_sentence_days,
            "reconsider_months_before_release": rules.reconsider_months_before_release,
        }

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "green_months": data["green_months"],
            "green_days": data.get("green_days"),
            "exit_plan_required": data["exit_plan_required"] == "yes",
            "long_sentence_days": data["long_sentence_days"],
            "reconsider_months_before_release": data["reconsider_months_before_release"],
        }


def worker_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class LeadWorkerForm(ServiceErrorMixin, forms.Form):
    """A new lead worker, chosen with their agency (a worker may act for more than one)."""

    lead = forms.ChoiceField(
        error_messages={
            "required": "Select the new lead worker",
            "invalid_choice": "Select a lead worker from the list",
        },
    )
    reason = text_field("Enter why the lead worker is changing", what="The reason")
    on = date_field("date the new lead worker takes over")

    service_fields = {"worker": "lead", "agency": "lead"}
    phrases = (("already the lead", "lead"), ("does not work for", "lead"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = (
            Membership.objects.filter(is_active=True, agency__is_active=True)
            .select_related("user", "agency")
            .order_by("agency__name", "user__last_name", "user__first_name", "user__username")
        )
        self.members = {f"{m.agency_id}:{m.user_id}": m for m in members}
        field = self.fields["lead"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose the new lead worker")] + [
            (key, f"{worker_name(m.user)} – {m.agency.name}") for key, m in self.members.items()
        ]

    def clean_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("on"), "date the new lead worker takes over")

    def chosen(self) -> tuple[Any, Any]:
        """(worker, agency) of the selected membership."""
        member = self.members[self.cleaned_data["lead"]]
        return member.user, member.agency
