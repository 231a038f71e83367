"""Template helpers of the plan pages."""

from __future__ import annotations

from typing import Any

from django import forms, template

register = template.Library()

STATUS_COLOURS = {
    # actions
    "planned": "grey",
    "in_progress": "blue",
    "done": "green",
    "not_done": "orange",
    "cancelled": "grey",
    # needs
    "not_started": "grey",
    "support_required": "orange",
    "support_declined": "red",
    "support_not_required": "grey",
    # plans
    "draft": "yellow",
    "agreed": "green",
}


@register.filter
def widget_kind(field: Any) -> str:
    """Which GOV.UK component renders a bound field: select, radios, textarea, checkbox, input."""
    widget = field.field.widget
    if isinstance(widget, forms.HiddenInput):
        return "hidden"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    return "input"


@register.filter
def status_colour(value: str) -> str:
    return STATUS_COLOURS.get(value, "grey")


@register.filter
def pounds(value: Any) -> str:
    if value in (None, ""):
        return ""
    return f"£{float(value):,.2f}"
