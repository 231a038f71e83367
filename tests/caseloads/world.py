"""Building registrations, RAG, plans and actions directly (fast, for caseload tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiom.accounts.models import Membership
from openiom.cohort.models import CohortDefinition, RagAssessment, RagPolicy, Registration
from openiom.partnership.models import Agency, Team
from openiom.people.models import Involvement, Person
from openiom.plans.models import ManagementPlan, PlanAction

ON = dt.date(2026, 11, 20)
START = dt.date(2026, 3, 2)
LEAD_AGENCY = {
    "probation.om": "probation-wessex",
    "coordinator": "probation-wessex",
    "police.officer": "wessex-police",
    "housing.worker": "harbour-housing",
}


def agency_of(username: str) -> Agency:
    return Agency.objects.get(memberships__user__username=username)


def put_in_team(personas: dict[str, Any], *usernames: str, name: str = "North IOM") -> Team:
    probation = Agency.objects.get(code="probation-wessex")
    team, _ = Team.objects.get_or_create(agency=probation, name=name)
    Membership.objects.filter(user__username__in=usernames).update(team=team)
    return team


def register(
    person: Person,
    personas: dict[str, Any],
    *,
    lead: str = "probation.om",
    cohort: str = "fixed",
    status: str = "active",
    rag: str = "",
    review: dt.date | None = None,
) -> Registration:
    definition = CohortDefinition.in_force(cohort, START)
    assert definition is not None
    reg = Registration.objects.create(
        person=person,
        cohort=definition,
        cohort_key=cohort,
        lead_agency=Agency.objects.get(code=LEAD_AGENCY[lead]),
        lead_worker=personas[lead],
        start_date=START,
        review_date=review or ON + dt.timedelta(days=30),
        planned_end_date=dt.date(2027, 3, 2),
        status=status,
        status_since=START,
        end_date=START if status == "deregistered" else None,
        created_by=personas["coordinator"],
    )
    if rag:
        policy = RagPolicy.in_force("rag", START)
        assert policy is not None
        RagAssessment.objects.create(
            registration=reg,
            person=person,
            status=rag,
            assessed_on=START + dt.timedelta(days=7),
            reason="test",
            suggested_status=rag,
            suggestion_reasons=[],
            evidence={},
            differs_from_suggestion=False,
            policy=policy,
            assessed_by=personas["coordinator"],
        )
    return reg


def plan(reg: Registration, personas: dict[str, Any], review: dt.date | None = None) -> Any:
    found = ManagementPlan.objects.filter(registration=reg).first()
    if found is not None:
        return found
    return ManagementPlan.objects.create(
        registration=reg,
        person=reg.person,
        next_review_date=review,
        created_by=personas["probation.om"],
        updated_by=personas["probation.om"],
    )


def action(
    reg: Registration,
    personas: dict[str, Any],
    *,
    agency: str,
    worker: str | None = None,
    status: str = "planned",
    due: dt.date | None = None,
) -> PlanAction:
    the_plan = plan(reg, personas)
    return PlanAction.objects.create(
        plan=the_plan,
        person=reg.person,
        owner_agency=Agency.objects.get(code=agency),
        owner_worker=personas[worker] if worker else None,
        action_type="support",
        description="Support",
        due_date=due or ON + dt.timedelta(days=10),
        status=status,
        completed_on=ON - dt.timedelta(days=1) if status in {"done", "cancelled"} else None,
        created_by=personas["probation.om"],
        updated_by=personas["probation.om"],
    )


def involve_agency(person: Person, code: str) -> None:
    Involvement.objects.create(
        person=person, agency=Agency.objects.get(code=code), start_date=dt.date(2020, 1, 1)
    )
