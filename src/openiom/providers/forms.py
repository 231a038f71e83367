"""Forms of referrals to pathway providers: sending one, and the reason for a step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from openiom.access.policy import CASEWORK_EXCLUDED_ROLES
from openiom.accounts.models import Membership
from openiom.partnership.models import Agency
from openiom.providers.models import ConsentMethod, LegalBasis, ServiceType

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"]


def _worker_choices() -> list[tuple[str, str]]:
    """Case workers with an active role, labelled with their agency (no JavaScript filtering)."""
    memberships = (
        Membership.objects.filter(is_active=True, agency__is_active=True)
        .exclude(role__in=CASEWORK_EXCLUDED_ROLES)
        .select_related("user", "agency")
        .order_by("agency__name", "user__last_name", "user__first_name", "user__username")
    )
    choices = [("", "Anyone at the agency")]
    seen: set[tuple[int, int]] = set()
    for m in memberships:
        if (m.user_id, m.agency_id) in seen:
            continue
        seen.add((m.user_id, m.agency_id))
        name = m.user.get_full_name() or m.user.get_username()
        choices.append((str(m.user_id), f"{name} ({m.agency.name})"))
    return choices


class SendReferralForm(forms.Form):
    service_type = forms.ChoiceField(
        choices=[("", "Choose the service"), *ServiceType.choices],
        error_messages={
            "required": "Select the service the person is referred for",
            "invalid_choice": "Select a service from the list",
        },
    )
    receiving_agency = forms.ModelChoiceField(
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        empty_label="Choose the agency",
        error_messages={
            "required": "Select the agency to refer the person to",
            "invalid_choice": "Select an agency from the list",
        },
    )
    receiving_worker = forms.ChoiceField(
        required=False,
        choices=[],
        error_messages={"invalid_choice": "Select a worker from the list, or leave it empty"},
    )
    reason = forms.CharField(
        max_length=4000,
        widget=forms.Textarea,
        error_messages={
            "required": "Say why the person is referred and what is asked of the provider",
            "max_length": "The reason must be 4000 characters or fewer",
        },
    )
    consent_given_on = forms.DateField(
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        error_messages={
            "invalid": "Enter the date consent was given as day/month/year, for example 27/03/2026"
        },
    )
    consent_recorded_how = forms.ChoiceField(
        required=False,
        choices=[("", "Not given"), *ConsentMethod.choices],
        error_messages={"invalid_choice": "Select how consent was recorded from the list"},
    )
    legal_basis = forms.ChoiceField(
        required=False,
        choices=[("", "None: the person consented"), *LegalBasis.choices],
        error_messages={"invalid_choice": "Select a legal basis from the list"},
    )
    legal_basis_detail = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea,
        error_messages={"max_length": "The detail must be 4000 characters or fewer"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["receiving_worker"].choices = _worker_choices()  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        worker_id = data.get("receiving_worker")
        worker = get_user_model().objects.filter(pk=worker_id).first() if worker_id else None
        return {
            "service_type": data["service_type"],
            "receiving_agency": data["receiving_agency"],
            "receiving_worker": worker,
            "reason": data["reason"],
            "consent_given_on": data.get("consent_given_on"),
            "consent_recorded_how": data.get("consent_recorded_how") or "",
            "legal_basis": data.get("legal_basis") or "",
            "legal_basis_detail": data.get("legal_basis_detail") or "",
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Put each "field: why" message from the service against the form field it is about."""
        for field, messages in error.message_dict.items():
            target: str | None = field if field in self.fields else None
            for message in messages:
                _, _, why = message.partition(": ")
                why = why or message
                self.add_error(target, why[0].upper() + why[1:])
