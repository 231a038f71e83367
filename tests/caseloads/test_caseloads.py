"""Caseloads: scopes, filters, visibility, and counts that equal the lists (issue #5 item 5)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiom.access.policy import people_visible_to
from openiom.access.services import AccessDenied
from openiom.accounts.actor import Actor, actor_for_user
from openiom.audit.models import AuditEvent
from openiom.caseloads.selectors import CaseloadFilters, allowed_scopes, caseload
from openiom.cohort.models import RagAssessment, Registration
from openiom.people.models import Restriction
from openiom.plans.models import OPEN_ACTION_STATUSES, PlanAction
from tests.caseloads.world import (
    ON,
    action,
    agency_of,
    involve_agency,
    plan,
    put_in_team,
    register,
)

pytestmark = pytest.mark.django_db

PAST = ON - dt.timedelta(days=5)


@pytest.fixture
def world(personas: dict[str, Any], make_person: Any) -> dict[str, Registration]:
    """Six registrations covering the scopes, filters and visibility rules."""
    put_in_team(personas, "probation.om", "coordinator")
    people = {k: make_person(surname=f"Case{k.upper()}") for k in "abcdefg"}
    regs = {
        # om's own; housing owns an open action and works with the person.
        "a": register(people["a"], personas, lead="probation.om", rag="red"),
        # the coordinator's (om's team); review passed: overdue work.
        "b": register(
            people["b"],
            personas,
            lead="coordinator",
            cohort="flex",
            status="in_custody",
            rag="amber",
            review=PAST,
        ),
        # police lead; om owns an overdue open action (mine; probation's agency tab).
        "c": register(people["c"], personas, lead="police.officer", rag="green"),
        # police lead; probation's action is done; the drug service (not involved) owns one.
        "d": register(
            people["d"], personas, lead="police.officer", cohort="free", status="suspended"
        ),
        # de-registered: never on a caseload.
        "e": register(people["e"], personas, lead="probation.om", status="deregistered"),
        # om's, but restricted to the police officer: om cannot see it.
        "f": register(people["f"], personas, lead="probation.om"),
        # om's; plan review passed (overdue work) though the registration review is not.
        "g": register(people["g"], personas, lead="probation.om", cohort="flex"),
    }
    involve_agency(people["a"], "harbour-housing")
    action(regs["a"], personas, agency="harbour-housing", worker="housing.worker")
    action(regs["c"], personas, agency="probation-wessex", worker="probation.om", due=PAST)
    action(regs["d"], personas, agency="probation-wessex", worker="probation.om", status="done")
    action(regs["d"], personas, agency="turning-point-wessex", due=PAST)
    Restriction.objects.create(
        person=people["f"], user=personas["police.officer"], reason="Witness protection"
    )
    plan(regs["g"], personas, review=PAST)
    return regs


def names(actor: Actor, scope: str, **filters: Any) -> list[str]:
    result = caseload(actor=actor, scope=scope, filters=CaseloadFilters(**filters), on=ON)
    return [row.person.surname for row in result.rows]


def test_mine_is_lead_worker_plus_open_actions_i_own(world: Any, actor: Any) -> None:
    om = actor("probation.om")
    assert names(om, "mine") == ["CaseA", "CaseC", "CaseG"]  # not d (done), e, f (restricted)
    assert names(actor("housing.worker"), "mine") == ["CaseA"]
    assert names(actor("police.officer"), "mine") == ["CaseC", "CaseD"]


def test_my_team_is_lead_workers_in_my_team(world: Any, actor: Any) -> None:
    om = actor("probation.om")
    assert names(om, "team") == ["CaseA", "CaseB", "CaseG"]
    assert names(actor("coordinator"), "team") == ["CaseA", "CaseB", "CaseG"]
    assert names(actor("police.officer"), "team") == []  # in no team


def test_my_agency_is_lead_agency_or_open_actions_my_agency_owns(world: Any, actor: Any) -> None:
    assert names(actor("probation.om"), "agency") == ["CaseA", "CaseB", "CaseC", "CaseG"]
    assert names(actor("housing.worker"), "agency") == ["CaseA"]
    # The drug service owns an open action for d but does not work with the person: unseen.
    assert names(actor("drug.worker"), "agency") == []


def test_whole_cohort_is_for_core_coordinators_only(world: Any, actor: Any) -> None:
    assert names(actor("coordinator"), "cohort") == ["CaseA", "CaseB", "CaseC", "CaseD", "CaseG"]
    for username in ("probation.om", "police.officer", "housing.worker"):
        assert "cohort" not in allowed_scopes(actor(username))
        with pytest.raises(AccessDenied):
            caseload(actor=actor(username), scope="cohort", on=ON)
    denied = AuditEvent.objects.filter(event_type="access.denied").count()
    assert denied == 3


def test_no_caseload_for_analysts_dpos_and_administrators(world: Any, actor: Any) -> None:
    for username in ("analyst", "dpo", "admin"):
        assert allowed_scopes(actor(username)) == []
        with pytest.raises(AccessDenied):
            caseload(actor=actor(username), on=ON)


def test_filters(world: Any, actor: Any) -> None:
    co = actor("coordinator")
    assert names(co, "cohort", rag="red") == ["CaseA"]
    assert names(co, "cohort", rag="none") == ["CaseD", "CaseG"]
    assert names(co, "cohort", cohort="flex") == ["CaseB", "CaseG"]
    assert names(co, "cohort", status="in_custody") == ["CaseB"]
    assert names(co, "cohort", status="suspended") == ["CaseD"]
    # Overdue work: b (review passed), c and d (overdue actions), g (plan review passed).
    assert names(co, "cohort", overdue=True) == ["CaseB", "CaseC", "CaseD", "CaseG"]
    assert names(co, "cohort", overdue=True, cohort="flex", rag="amber") == ["CaseB"]


def test_rows_show_overdue_counts_and_next_review(world: Any, actor: Any) -> None:
    rows = {
        r.person.surname: r
        for r in caseload(actor=actor("coordinator"), scope="cohort", on=ON).rows
    }
    assert rows["CaseC"].overdue_actions == 1
    assert rows["CaseA"].overdue_actions == 0
    assert rows["CaseG"].next_review == PAST and rows["CaseG"].review_overdue
    assert rows["CaseB"].rag == "amber" and rows["CaseD"].rag == ""
    # A partner counts only their own agency's overdue actions.
    housing_rows = caseload(actor=actor("housing.worker"), scope="mine", on=ON).rows
    assert [r.overdue_actions for r in housing_rows] == [0]


def test_reading_a_caseload_is_audited_with_the_people_shown(world: Any, actor: Any) -> None:
    result = caseload(actor=actor("probation.om"), scope="mine", on=ON)
    event = AuditEvent.objects.filter(event_type="caseload.consulted").latest("id")
    assert event.details["person_ids"] == [r.registration.person_id for r in result.rows]
    assert event.details["scope"] == "mine"


def _expected(actor: Actor, scope: str, filters: CaseloadFilters) -> set[int]:
    """An independent statement of the rules, for the property test."""
    visible = set(people_visible_to(actor).values_list("pk", flat=True))
    team = actor.membership.team_id if actor.membership else None
    core = actor.role in {"coordinator", "offender_manager"} and actor.agency_id in {
        agency_of("probation.om").pk,
        agency_of("police.officer").pk,
    }
    found = set()
    for reg in Registration.objects.exclude(status="deregistered"):
        if reg.person_id not in visible:
            continue
        open_actions = [
            a
            for a in PlanAction.objects.filter(plan__registration=reg)
            if a.status in OPEN_ACTION_STATUSES
        ]
        if scope == "mine" and not (
            reg.lead_worker_id == actor.user.pk
            or any(a.owner_worker_id == actor.user.pk for a in open_actions)
        ):
            continue
        if scope == "team" and not (
            team is not None and reg.lead_worker.memberships.filter(team_id=team).exists()
        ):
            continue
        if scope == "agency" and not (
            reg.lead_agency_id == actor.agency_id
            or any(a.owner_agency_id == actor.agency_id for a in open_actions)
        ):
            continue
        latest = RagAssessment.objects.filter(registration=reg).order_by("-assessed_on").first()
        rag = latest.status if latest else "none"
        if filters.rag and filters.rag != rag:
            continue
        if filters.cohort and filters.cohort != reg.cohort_key:
            continue
        if filters.status and filters.status != reg.status:
            continue
        if filters.overdue:
            counted = [a for a in open_actions if core or a.owner_agency_id == actor.agency_id]
            plan_review = getattr(getattr(reg, "management_plan", None), "next_review_date", None)
            late = (
                any(a.due_date < ON for a in counted)
                or reg.review_date < ON
                or (plan_review is not None and plan_review < ON)
            )
            if not late:
                continue
        found.add(reg.pk)
    return found


USERS = ["probation.om", "coordinator", "police.officer", "housing.worker", "drug.worker"]
filters_strategy = st.builds(
    CaseloadFilters,
    rag=st.sampled_from(["", "red", "amber", "green", "none"]),
    cohort=st.sampled_from(["", "fixed", "flex", "free"]),
    status=st.sampled_from(["", "active", "in_custody", "suspended"]),
    overdue=st.booleans(),
)
registration_spec = st.fixed_dictionaries(
    {
        "lead": st.sampled_from(["probation.om", "coordinator", "police.officer"]),
        "cohort": st.sampled_from(["fixed", "flex", "free"]),
        "status": st.sampled_from(["active", "in_custody", "suspended", "deregistered"]),
        "rag": st.sampled_from(["", "red", "amber", "green"]),
        "review_late": st.booleans(),
        "housing_involved": st.booleans(),
        "actions": st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        ("probation-wessex", "probation.om"),
                        ("harbour-housing", "housing.worker"),
                        ("harbour-housing", None),
                        ("turning-point-wessex", "drug.worker"),
                        ("wessex-police", None),
                    ]
                ),
                st.sampled_from(["planned", "in_progress", "done", "cancelled"]),
                st.booleans(),  # overdue
            ),
            max_size=3,
        ),
    }
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(registration_spec, min_size=1, max_size=5),
    filters=st.lists(filters_strategy, min_size=1, max_size=3),
)
def test_counts_equal_the_lists_and_follow_the_rules(
    personas: dict[str, Any], make_person: Any, specs: list[dict[str, Any]], filters: list[Any]
) -> None:
    sid = transaction.savepoint()
    try:
        put_in_team(personas, "probation.om", "coordinator")
        for spec in specs:
            person = make_person()
            reg = register(
                person,
                personas,
                lead=spec["lead"],
                cohort=spec["cohort"],
                status=spec["status"],
                rag=spec["rag"],
                review=PAST if spec["review_late"] else None,
            )
            if spec["housing_involved"]:
                involve_agency(person, "harbour-housing")
            for (agency, worker), status, late in spec["actions"]:
                action(
                    reg,
                    personas,
                    agency=agency,
                    worker=worker,
                    status=status,
                    due=PAST if late else None,
                )
        for username in USERS:
            who = actor_for_user(personas[username])
            for chosen in filters:
                results = {
                    s: caseload(actor=who, scope=s, filters=chosen, on=ON)
                    for s in allowed_scopes(who)
                }
                for scope, result in results.items():
                    assert result.count == len(result.rows)
                    assert {r.registration.pk for r in result.rows} == _expected(
                        who, scope, chosen
                    ), (username, scope, chosen)
                    assert result.with_overdue_work == sum(
                        1 for r in result.rows if r.has_overdue_work
                    )
                    if chosen.overdue:
                        assert result.with_overdue_work == result.count
                    # Every tab's count is that tab's list length with the same filters.
                    for other, other_result in results.items():
                        assert result.tab_counts[other] == len(other_result.rows)
    finally:
        transaction.savepoint_rollback(sid)


def _shown_counts(html: str) -> tuple[int, int]:
    match = re.search(r"(\d+) (?:person|people), (\d+) with overdue work", html)
    assert match, html
    return int(match.group(1)), int(match.group(2))


@pytest.mark.parametrize(
    ("query", "scope", "filters"),
    [
        ("", "mine", {}),
        ("?scope=team", "team", {}),
        ("?scope=agency&overdue=on", "agency", {"overdue": True}),
        ("?scope=cohort&rag=none", "cohort", {"rag": "none"}),
        ("?scope=cohort", "cohort", {}),
    ],
)
def test_page_counts_match_the_rows_shown(
    world: Any, client_for: Any, actor: Any, query: str, scope: str, filters: dict[str, Any]
) -> None:
    page = client_for("coordinator").get(reverse("caseloads:caseload") + query)
    assert page.status_code == 200
    html = page.content.decode()
    shown, overdue = _shown_counts(html)
    rows = html.count('<td class="govuk-table__cell"><a class="govuk-link" href="/people/')
    assert shown == rows
    expected = caseload(actor=actor("coordinator"), scope=scope, filters=CaseloadFilters(**filters))
    assert (shown, overdue) == (expected.count, expected.with_overdue_work)
    # The current tab's count equals the rows shown; every tab shows its own list's length.
    current = re.search(r'aria-current="page">[^(<]+\((\d+)', html)
    assert current and int(current.group(1)) == rows
    for tab, count in expected.tab_counts.items():
        other = caseload(actor=actor("coordinator"), scope=tab, filters=CaseloadFilters(**filters))
        assert count == other.count
        assert f"({count}<span" in html


def test_page_links_people_and_shows_tags(world: Any, client_for: Any) -> None:
    html = client_for("probation.om").get(reverse("caseloads:caseload")).content.decode()
    assert reverse("people:detail", args=[world["a"].person_id]) in html
    assert 'govuk-tag--red">Red' in html
    assert "Whole cohort" not in html  # not a coordinator: no tab
    assert "3 people, 2 with overdue work" in html  # a; c (om's overdue action); g (plan review)


def test_page_bad_filters_are_field_errors(world: Any, client_for: Any) -> None:
    page = client_for("coordinator").get(
        reverse("caseloads:caseload") + "?scope=everyone&rag=purple&status=gone&cohort=nope"
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "There is a problem" in html
    assert "Choose mine, team, agency or cohort" in html
    assert "Choose red, amber, green or not yet assessed" in html
    assert "Choose active, in custody or suspended" in html
    assert "Choose one of the cohorts (scheme) listed" in html


def test_team_tab_explains_no_team(world: Any, client_for: Any) -> None:
    html = client_for("police.officer").get(reverse("caseloads:caseload") + "?scope=team")
    assert "You are not in a team" in html.content.decode()
