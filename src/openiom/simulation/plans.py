"""Management plans for the simulated scheme's registrations (issue #5 item 11).

One plan per registration, agreed by the first lead worker within a fortnight of registration:
needs on each default pathway (drugs and alcohol follows the drug need the contact log used),
objectives — one in the person's own words — and actions for police (disruption and
enforcement), probation (intervention), housing (support, when accommodation is a need) and the
drug service (when drugs are a need), each with a due date, a status that follows the dates (done,
not done or cancelled once past due; planned or in progress otherwise), and whether it is
additional to what the person would receive without IOM, with an estimated cost. Draws come from
the simulator's case-management stream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from openiom.simulation.casework import first_lead

if TYPE_CHECKING:
    from openiom.simulation.scheme import SchemeSimulator

DAY = dt.timedelta(days=1)
OWN_WORDS = [
    "I want my own place and to keep it this time",
    "I want to stay clean for my kids",
    "I want to get a job and stop getting nicked",
    "I want to sort my debts out and stop borrowing",
    "I want to see my daughter again",
]
OBJECTIVES = {
    "accommodation": "Settled accommodation within three months",
    "drugs-alcohol": "Engage with treatment and test negative",
    "education-training-employment": "Start training or volunteering",
    "finance-benefit-debt": "Benefits in payment and a debt plan agreed",
}
# pathway → (agency, persona who owns the action, type, description, additional, cost £)
ACTIONS: dict[str, tuple[str, str, str, str, bool, int]] = {
    "police": (
        "wessex-police",
        "",
        "disruption",
        "Monthly intelligence check; enforce licence and curfew conditions if offending resumes",
        False,
        0,
    ),
    "probation": (
        "probation-wessex",
        "",
        "intervention",
        "Complete the Thinking Skills programme",
        False,
        0,
    ),
    "accommodation": (
        "harbour-housing",
        "housing.worker",
        "support",
        "Find settled accommodation and support the tenancy",
        True,
        1800,
    ),
    "drugs-alcohol": (
        "turning-point-wessex",
        "drug.worker",
        "support",
        "Fast-tracked treatment place with weekly key-work and testing",
        True,
        2400,
    ),
}


def write_plans(
    sim: SchemeSimulator, create: Callable[..., list[Any]], users: dict[str, Any]
) -> set[int]:
    """Write the plans; returns the people with an accommodation need (for housing referrals)."""
    from openiom.plans.models import (
        ManagementPlan,
        Objective,
        Pathway,
        PathwayNeed,
        PlanAction,
    )

    rng = sim.case_rng
    pathways = {p.code: p for p in Pathway.objects.filter(default_on=True, is_active=True)}
    drug_need = {t["person_id"]: t["drug_need"] for t in sim.casework_truth}
    plans, needs, objectives, actions = [], [], [], []
    housing_need: set[int] = set()
    stamps: list[tuple[Any, dt.date]] = []
    for reg in sim.regs:
        stop = min(reg.end or sim.as_of, sim.as_of)
        lead_agency, lead_worker = first_lead(reg)
        started = min(reg.start + int(rng.integers(1, 6)) * DAY, stop)
        agreed = reg.start + int(rng.integers(7, 15)) * DAY
        is_agreed = agreed <= stop
        plan = ManagementPlan(
            registration=reg.row,
            person_id=reg.person,
            status="agreed" if is_agreed else "draft",
            agreed_at=timezone.make_aware(dt.datetime.combine(agreed, dt.time(15)))
            if is_agreed
            else None,
            agreed_by=lead_worker if is_agreed else None,
            next_review_date=(agreed + 90 * DAY) if is_agreed and reg.end is None else None,
            strengths=str(
                rng.choice(
                    [
                        "Close to his mother; wants to be a better parent",
                        "Has worked in construction; good with his hands",
                        "Keeps appointments when housed; honest about relapse",
                    ]
                )
            ),
            readiness_motivated=str(rng.choice(["yes", "partly", "no"])),
            readiness_able=str(rng.choice(["yes", "partly"])),
            readiness_relevant=str(rng.choice(["yes", "partly", "no"])),
            readiness_capacity=str(rng.choice(["yes", "partly", "not_assessed"])),
            created_by=lead_worker,
            updated_by=lead_worker,
        )
        plans.append(plan)
        stamps.append((plan, started))
        wanted: set[str] = {"police", "probation"}
        for code, pathway in pathways.items():
            if code == "drugs-alcohol":
                need = drug_need.get(reg.person, False)
            else:
                need = bool(rng.random() < {"accommodation": 0.55}.get(code, 0.35))
            if need:
                status = str(rng.choice(["support_required", "in_progress", "support_declined"]))
                if code == "accommodation" and status != "support_declined":
                    housing_need.add(reg.person)
                if code in ACTIONS and status != "support_declined":
                    wanted.add(code)
            else:
                status = "support_not_required"
            needs.append(PathwayNeed(plan=plan, pathway=pathway, status=status))
        own = Objective(
            plan=plan,
            text=str(rng.choice(OWN_WORDS)),
            own_words=True,
            created_by=lead_worker,
            updated_by=lead_worker,
        )
        objectives.append(own)
        stamps.append((own, started))
        for code in sorted(wanted & set(OBJECTIVES)):
            objective = Objective(
                plan=plan,
                text=OBJECTIVES[code],
                pathway=pathways.get(code),
                created_by=lead_worker,
                updated_by=lead_worker,
            )
            objectives.append(objective)
            stamps.append((objective, started))
        for key in ("police", "probation", "accommodation", "drugs-alcohol"):
            if key not in wanted:
                continue
            agency, persona, kind, text, additional, cost = ACTIONS[key]
            if persona:
                owner = users[persona]
            elif agency == lead_agency:
                owner = lead_worker
            else:
                staff = sim.staff[agency]
                owner = staff[reg.person % len(staff)]
            due = started + int(rng.integers(21, 121)) * DAY
            if due < stop:
                status = str(
                    rng.choice(
                        ["done", "not_done", "cancelled", "in_progress"], p=[0.6, 0.15, 0.1, 0.15]
                    )
                )
            else:
                status = str(rng.choice(["planned", "in_progress"]))
            completed = (
                min(due + int(rng.integers(-10, 15)) * DAY, stop)
                if status in {"done", "not_done", "cancelled"}
                else None
            )
            if completed is not None:
                completed = max(completed, started)
            action = PlanAction(
                plan=plan,
                person_id=reg.person,
                owner_agency_id=sim.agency_ids[agency],
                owner_worker=owner,
                action_type=kind,
                pathway=pathways.get(key),
                description=text,
                due_date=due,
                status=status,
                outcome={
                    "done": "Completed as planned",
                    "not_done": "Did not engage; to be reviewed at the next plan review",
                    "cancelled": "No longer needed after a change of circumstances",
                }.get(status, ""),
                completed_on=completed,
                additional=additional,
                estimated_cost=Decimal(cost) if additional else None,
                created_by=lead_worker,
                updated_by=lead_worker,
            )
            actions.append(action)
            stamps.append((action, started))
    create(ManagementPlan, plans)
    create(PathwayNeed, needs)
    create(Objective, objectives)
    create(PlanAction, actions)
    # date the rows to the registration (auto_now_add gave them today): one UPDATE per day
    # and model is much faster than a bulk_update's CASE over every row
    by_day: dict[tuple[Any, dt.date], list[int]] = {}
    for row, day in stamps:
        by_day.setdefault((type(row), day), []).append(row.pk)
    for (model, day), ids in by_day.items():
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(11)))
        model.objects.filter(pk__in=ids).update(created_at=at, updated_at=at)
    return housing_need
