"""Template helpers for the cohort pages: navigation, RAG and verdict tags, sortable headers."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.urls import reverse

from openiom.accounts.models import Role
from openiom.cohort.forms import RULE_LABELS
from openiom.cohort.models import Notification
from openiom.cohort.permissions import CohortAction, can_cohort

register = template.Library()

RAG_COLOURS = {"red": "red", "amber": "orange", "green": "green"}
VERDICTS = {
    "red": ("Red", "red"),
    "clear": ("Clear", "grey"),
    "green": ("Green", "green"),
    "not_green": ("Not green", "orange"),
    "unknown": ("Not known", "grey"),
}
MET = {"met": ("Met", "green"), "not_met": ("Not met", "red"), "unknown": ("Not known", "grey")}
REFERRAL_COLOURS = {
    "draft": "grey",
    "submitted": "blue",
    "listed": "purple",
    "adopted": "green",
    "not_adopted": "red",
    "withdrawn": "grey",
}
REFERRAL_VIEWS = {"refer", "my_referrals", "queue", "referral", "list_for_panel", "withdraw"}
REFERRAL_VIEWS |= {"decision", "submit", "reconsideration"}
MESSAGE_VIEWS = {"notifications", "read"}


@register.simple_tag(takes_context=True)
def cohort_nav_items(context: template.Context) -> list[dict[str, Any]]:
    """Referrals, the cohort register and messages, for staff acting in an agency role."""
    actor = context.get("actor")
    request = context.get("request")
    if actor is None or not getattr(actor.user, "is_authenticated", False):
        return []
    if actor.membership is None or actor.role == Role.ADMINISTRATOR:
        return []
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace if match is not None else ""
    url_name = match.url_name if match is not None else ""
    in_cohort = namespace == "cohort"
    coordinator = bool(can_cohort(actor, CohortAction.LIST_FOR_PANEL))
    unread = Notification.objects.filter(user=actor.user, read_at__isnull=True).count()
    return [
        {
            "text": "Referrals",
            "href": reverse("cohort:queue" if coordinator else "cohort:my_referrals"),
            "current": in_cohort and url_name in REFERRAL_VIEWS,
        },
        {
            "text": "Cohort register",
            "href": reverse("cohort:register"),
            "current": in_cohort
            and url_name not in REFERRAL_VIEWS
            and url_name not in MESSAGE_VIEWS,
        },
        {
            "text": "Messages",
            "count": unread,
            "href": reverse("cohort:notifications"),
            "current": in_cohort and url_name in MESSAGE_VIEWS,
        },
    ]


@register.inclusion_tag("cohort/partials/rag_tag.html")
def rag_tag(status: str) -> dict[str, Any]:
    labels = {"red": "Red", "amber": "Amber", "green": "Green"}
    return {
        "text": labels.get(status or "", "Not assessed"),
        "colour": RAG_COLOURS.get(status or "", "grey"),
    }


@register.inclusion_tag("cohort/partials/tag.html")
def verdict_tag(verdict: str) -> dict[str, Any]:
    text, colour = VERDICTS.get(verdict, (verdict, "grey"))
    return {"text": text, "colour": colour}


@register.inclusion_tag("cohort/partials/tag.html")
def met_tag(met: str) -> dict[str, Any]:
    text, colour = MET.get(met, (met, "grey"))
    return {"text": text, "colour": colour}


@register.inclusion_tag("cohort/partials/tag.html")
def referral_state_tag(referral: Any) -> dict[str, Any]:
    return {
        "text": referral.get_state_display(),
        "colour": REFERRAL_COLOURS.get(referral.state, "grey"),
    }


@register.filter
def rule_label(name: str) -> str:
    return RULE_LABELS.get(name, name.replace("_", " ").capitalize())


@register.filter
def criterion_label(name: str) -> str:
    return {
        "min_age": "Minimum age",
        "max_age": "Maximum age",
        "hub": "Hub",
        "neighbourhood_crime": "Neighbourhood crime",
        "offence_categories": "Offence categories",
        "minimum_score": "Minimum score",
    }.get(name, name.replace("_", " ").capitalize())


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, column: str) -> dict[str, str]:
    """The link and aria-sort for a sortable column header (server-side sorting)."""
    request = context["request"]
    sort, descending = context.get("sort"), context.get("descending")
    params = QueryDict(mutable=True)
    params.update(request.GET)
    params.pop("page", None)
    current = column == sort
    params["sort"] = column
    params["dir"] = "asc" if current and descending else ("desc" if current else "asc")
    aria = ""
    if current:
        aria = "descending" if descending else "ascending"
    return {"href": "?" + params.urlencode(), "aria_sort": aria}
