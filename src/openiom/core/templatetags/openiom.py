"""Template helpers for the GOV.UK layout: navigation, ages and dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from openiom.access.policy import (
    CaseloadAction,
    CaseworkAction,
    EvaluationAction,
    ScoringAction,
    can,
    is_partner_scope,
)
from openiom.accounts.models import Role

register = template.Library()

IMPORT_ROLES = {Role.COORDINATOR, Role.ANALYST}
AUDIT_ROLES = {Role.DATA_PROTECTION_OFFICER, Role.ADMINISTRATOR}


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@register.simple_tag(takes_context=True)
def nav_items(context: template.Context) -> list[dict[str, Any]]:
    """Service navigation for the actor; links to pages that are not installed are left out."""
    actor = context.get("actor")
    request = context.get("request")
    if actor is None or not getattr(actor.user, "is_authenticated", False):
        return []
    current_ns = ""
    current_name = ""
    if request is not None and getattr(request, "resolver_match", None) is not None:
        current_ns = request.resolver_match.namespace
        current_name = request.resolver_match.view_name
    # (text, url name, what makes it current: a namespace, or a view name when it has a colon)
    wanted: list[tuple[str, str, str]] = [("Home", "core:home", "core:home")]
    if actor.role and actor.role != Role.ADMINISTRATOR:
        wanted.append(("Search people", "people:search", "people"))
    if can(actor, CaseloadAction.VIEW_OWN_CASELOAD):
        wanted.append(("Caseload", "caseloads:caseload", "caseloads:caseload"))
        wanted.append(("Alerts and tasks", "casework:alerts", "casework:alerts"))
    if is_partner_scope(actor) and can(actor, CaseloadAction.VIEW_OWN_CASELOAD):
        wanted.append(("Referrals to my agency", "providers:inbox", "providers"))
    if can(actor, CaseloadAction.VIEW_CONTRIBUTION):
        wanted.append(("Agency contribution", "caseloads:contribution", "caseloads:contribution"))
    if can(actor, CaseworkAction.VIEW_BRIEFING):
        wanted.append(("Police briefing", "casework:briefing", "casework:briefing"))
    if can(actor, ScoringAction.VIEW_SCORES):
        wanted.append(("Candidates", "scoring:index", "scoring"))
        wanted.append(("Score audit", "scrutiny:score_audit", "scrutiny"))
    if can(actor, EvaluationAction.VIEW_EVALUATION):
        wanted.append(("Evaluation", "evaluation:index", "evaluation"))
        wanted.append(("Value for money", "vfm:index", "vfm"))
    elif can(actor, EvaluationAction.VIEW_DASHBOARD):
        wanted.append(("Board dashboard", "evaluation:dashboard", "evaluation"))
    if actor.role in IMPORT_ROLES:
        wanted.append(("Imports", "imports:batch_list", "imports"))
    if actor.role in AUDIT_ROLES:
        wanted.append(("Audit log", "audit:log", "audit:log"))
        wanted.append(("Unusual access", "audit:unusual_access", "audit:unusual_access"))
    items = []
    for text, name, scope in wanted:
        href = _url(name)
        if href is None:
            continue
        current = current_name == scope if ":" in scope else current_ns == scope
        items.append({"text": text, "href": href, "current": current})
    return items


@register.simple_tag
def has_several_roles(actor: Any) -> bool:
    from openiom.accounts.actor import active_memberships

    if actor is None or not getattr(actor.user, "is_authenticated", False):
        return False
    return len(active_memberships(actor.user)) > 1


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@register.filter
def age(born: dt.date | None) -> int | None:
    """Age in whole years today."""
    if born is None:
        return None
    return age_on(born, timezone.localdate())


@register.filter
def role_label(code: str) -> str:
    """A role code as people read it (audit rows keep the code)."""
    try:
        return str(Role(code).label)
    except ValueError:
        return code
