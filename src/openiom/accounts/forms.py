"""Sign-in, second-factor and role forms, with error messages in GOV.UK style."""

from __future__ import annotations

from typing import Any

from django import forms

from openiom.accounts.models import Membership


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150, error_messages={"required": "Enter your username"}, strip=True
    )
    password = forms.CharField(
        max_length=4096, strip=False, error_messages={"required": "Enter your password"}
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=12,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split()).replace("-", "")
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("The code must be 6 digits, like 123456")
        return code


class ChooseRoleForm(forms.Form):
    membership = forms.TypedChoiceField(
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the role you are acting in",
            "invalid_choice": "Select one of your roles",
        },
    )

    def __init__(self, *args: Any, memberships: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = memberships
        field = self.fields["membership"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(m.pk, str(m.pk)) for m in memberships]
