"""Full cases for the simulated scheme (issue #5 item 11): lead-worker handovers and contacts.

The scheme simulator (`scheme.SchemeSimulator`) decides handovers at reviews
(`_maybe_hand_over`) and generates, as each registration runs, the contacts the RAG suggestion
reads (`_casework_until`): appointments with the lead worker while in the community, weekly to
fortnightly by RAG status (`SchemeParameters.appointment_interval_*`), kept or missed — missed
more often by people with low latent engagement and right after an offence or arrest — and drug
tests (negative, positive or refused) for people with drug needs only (those on the drug
service's caseload and a share `p_drug_need` of the rest), by the drug service when it works
with them, otherwise by the lead agency. Each RAG assessment's evidence counts them as
`cohort.rag.gather_rag_evidence` would from the database.

After `scheme._write` has created the registrations, this module writes the handovers (as
`cohort.services.change_lead_worker` would: a LeadWorkerChange row and, when the new lead agency
was not yet working with the person, an involvement that becomes the lead involvement) and the
contact log: those appointments and drug tests, plus home visits and phone calls by the lead
worker, police curfew checks for people at red, bail checks after an arrest, and prison visits by
the lead worker while the registration is in custody (nothing else is dated in custody).

Draws come from the simulator's own case-management stream, so the same seed gives the same
cases. What was used for each registration (engagement, drug need, intervals, share of
appointments kept, contacts written) is returned as the run's "truth" and stored in the manifest.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openiom.cohort.models import RegistrationStatus

if TYPE_CHECKING:
    from openiom.simulation.scheme import SchemeSimulator, _Reg

DAY = dt.timedelta(days=1)
DRUG_SERVICE = "turning-point-wessex"
POLICE = "wessex-police"
SUBSTANCES = ["opiates", "cocaine", "opiates and cocaine", "cannabis", "benzodiazepines"]


def first_lead(reg: _Reg) -> tuple[str, Any]:
    """The lead agency and worker the registration started with."""
    if reg.lead_changes:
        _on, agency, worker, _a, _w, _why = reg.lead_changes[0]
        return agency, worker
    return reg.lead_agency, reg.lead_worker


def _status_spells(reg: _Reg, stop: dt.date) -> list[tuple[dt.date, dt.date, str]]:
    """(from, to, status) spells of the registration up to `stop` (to exclusive)."""
    spells = []
    changes = sorted((on, to) for _f, to, on, _r, _n in reg.changes)
    for i, (on, to) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else stop + DAY
        end = min(end, stop + DAY)
        if to != RegistrationStatus.DEREGISTERED and end > on:
            spells.append((on, end, to))
    return spells


class _Case:
    """One registration's timeline: status, RAG status and lead on any day."""

    def __init__(self, sim: SchemeSimulator, reg: _Reg) -> None:
        self.reg = reg
        self.stop = min(reg.end or sim.as_of, sim.as_of)
        self.spells = _status_spells(reg, self.stop)
        self.rag_days = [a.assessed_on for a in reg.rags]
        self.rag_status = [a.status for a in reg.rags]
        self.lead_days = [c[0] for c in reg.lead_changes]
        first = first_lead(reg)
        self.leads = [first] + [(c[3], c[4]) for c in reg.lead_changes]

    def status(self, day: dt.date) -> str:
        for start, end, status in self.spells:
            if start <= day < end:
                return status
        return ""

    def rag(self, day: dt.date) -> str:
        i = bisect.bisect_right(self.rag_days, day)
        return str(self.rag_status[i - 1]) if i else "amber"

    def lead(self, day: dt.date) -> tuple[str, Any]:
        return self.leads[bisect.bisect_right(self.lead_days, day)]


def write_lead_changes(
    sim: SchemeSimulator, create: Callable[..., list[Any]], coordinator: Any
) -> None:
    from openiom.cohort.models import LeadWorkerChange, Registration
    from openiom.people.models import Involvement

    agency = sim.agency_ids
    rows = []
    new_involvements: list[tuple[_Reg, Any]] = []
    for reg in sim.regs:
        for on, from_a, from_w, to_a, to_w, why in reg.lead_changes:
            rows.append(
                LeadWorkerChange(
                    registration=reg.row,
                    from_agency_id=agency[from_a],
                    to_agency_id=agency[to_a],
                    from_worker=from_w,
                    to_worker=to_w,
                    changed_on=on,
                    reason=why,
                    changed_by=coordinator,
                )
            )
            if from_a == to_a:
                continue
            involved = (
                Involvement.objects.filter(
                    person_id=reg.person, agency_id=agency[to_a], start_date__lte=on
                )
                .exclude(end_date__lte=on)
                .exists()
            )
            if not involved:
                cohort = sim.cohorts[reg.cohort]
                assert cohort is not None
                new_involvements.append(
                    (
                        reg,
                        Involvement(
                            person_id=reg.person,
                            agency_id=agency[to_a],
                            worker=to_w,
                            purpose=f"IOM lead agency ({cohort.name})",
                            start_date=on,
                            end_date=reg.end,
                        ),
                    )
                )
    create(LeadWorkerChange, rows)
    if new_involvements:
        create(Involvement, [inv for _r, inv in new_involvements])
        for reg, inv in new_involvements:
            assert reg.row is not None
            reg.row.lead_involvement = inv
        Registration.objects.bulk_update(
            [r.row for r, _i in new_involvements if r.row is not None], ["lead_involvement"]
        )


def _gap(rng: Any, mean_days: float) -> dt.timedelta:
    return dt.timedelta(days=max(1, round(float(rng.exponential(mean_days)))))


def plan_contacts(sim: SchemeSimulator) -> list[dict[str, Any]]:
    """Contacts for every registration (as dicts of Contact fields); fills `sim.casework_truth`.

    Appointments and drug tests were generated as the scheme ran (they feed the RAG
    suggestion); home visits, phone calls, police checks and prison visits are added here."""
    p, rng, d = sim.p, sim.case_rng, sim.data
    police_staff = sim.staff[POLICE]
    intervals = {
        "red": p.appointment_interval_red,
        "amber": p.appointment_interval_amber,
        "green": p.appointment_interval_green,
    }
    contacts: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    for reg in sim.regs:
        case = _Case(sim, reg)
        pid = reg.person
        mine: list[dict[str, Any]] = []

        def add(
            day: dt.date,
            kind: str,
            agency: str,
            worker: Any,
            *,
            mine: list[dict[str, Any]] = mine,
            pid: int = pid,
            reg: _Reg = reg,
            **extra: Any,
        ) -> None:
            mine.append(
                {
                    "person_id": pid,
                    "registration": reg.row,
                    "agency_id": sim.agency_ids[agency],
                    "worker": worker,
                    "recorded_by": worker,
                    "kind": kind,
                    "contact_date": day,
                    **extra,
                }
            )

        def police_worker(day: dt.date, pid: int = pid, case: _Case = case) -> Any:
            agency, worker = case.lead(day)
            return worker if agency == POLICE else police_staff[pid % len(police_staff)]

        for day, kept, agency, worker in reg.appointments:
            if day <= case.stop:
                add(
                    day,
                    "appointment",
                    agency,
                    worker,
                    attendance="kept" if kept else "missed",
                    outcome="" if kept else "Did not attend; follow-up call made",
                )
        for day, result, agency, worker in reg.drug_tests:
            if day <= case.stop:
                add(
                    day,
                    "drug_test",
                    agency,
                    worker,
                    drug_test_result=result,
                    substances=str(rng.choice(SUBSTANCES)) if result == "positive" else "",
                )
        # home visits and phone calls by the lead worker; police curfew checks at red
        for kind, mean in (
            ("home_visit", p.home_visit_interval_days),
            ("phone_call", p.phone_call_interval_days),
            ("curfew_check", p.curfew_check_interval_days),
        ):
            day = reg.start + _gap(rng, mean / 2)
            while day <= case.stop:
                if case.status(day) == RegistrationStatus.ACTIVE:
                    if kind != "curfew_check":
                        agency, worker = case.lead(day)
                        add(day, kind, agency, worker)
                    elif case.rag(day) == "red":
                        add(day, kind, POLICE, police_worker(day), outcome="At home")
                day += _gap(rng, mean)
        # bail checks after arrests while registered and in the community
        for arrest in d.arrests.get(pid, []):
            check = arrest + int(rng.integers(2, 8)) * DAY
            if (
                reg.start <= arrest
                and check <= case.stop
                and case.status(check) == RegistrationStatus.ACTIVE
            ):
                add(
                    check,
                    "bail_check",
                    POLICE,
                    police_worker(check),
                    outcome="Bail conditions checked",
                )
        # prison visits by the lead worker while in custody
        for start, end, status in case.spells:
            if status != RegistrationStatus.IN_CUSTODY:
                continue
            day = start + int(rng.integers(3, 15)) * DAY
            while day < end:
                agency, worker = case.lead(day)
                add(day, "prison_visit", agency, worker, outcome="Resettlement planning in custody")
                day += _gap(rng, p.prison_visit_interval_days)
        contacts += mine
        kept_share = (
            sum(k for _d, k, _a, _w in reg.appointments) / len(reg.appointments)
            if reg.appointments
            else None
        )
        truth.append(
            {
                "person_id": pid,
                "start": reg.start.isoformat(),
                "engagement": round(sim.engagement.get(pid, 0.0), 3),
                "drug_need": sim.drug_need.get(pid, False),
                "drug_service_client": pid in sim.drug_clients,
                "appointment_interval_days": intervals,
                "appointments_kept_share": round(kept_share, 3) if kept_share is not None else None,
                "contacts": len(mine),
                "lead_changes": len(reg.lead_changes),
            }
        )
    sim.casework_truth = truth
    return contacts


def write_contacts(sim: SchemeSimulator) -> int:
    """Insert the contacts with one multi-row statement per batch (tens of thousands of rows:
    the ORM's per-field preparation would double the scheme's run time); the table's
    constraints still apply. Returns the number written."""
    from django.db import connection
    from django.utils import timezone

    from openiom.casework.models import Contact

    ops = connection.ops
    now = timezone.now()
    planned = plan_contacts(sim)
    # every concrete column: ours from the plan, any other (added later) at its default
    fields = [f for f in Contact._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    ours: dict[str, Callable[[dict[str, Any]], Any]] = {
        "person_id": lambda r: r["person_id"],
        "registration_id": lambda r: r["registration"].pk,
        "agency_id": lambda r: r["agency_id"],
        "worker_id": lambda r: r["worker"].pk,
        "recorded_by_id": lambda r: r["recorded_by"].pk,
        "kind": lambda r: r["kind"],
        "contact_date": lambda r: ops.adapt_datefield_value(r["contact_date"]),
        "attendance": lambda r: r.get("attendance"),
        "drug_test_result": lambda r: r.get("drug_test_result"),
        "substances": lambda r: r.get("substances", ""),
        "outcome": lambda r: r.get("outcome", ""),
    }
    constant = {
        f.attname: f.get_db_prep_save(
            now if getattr(f, "auto_now_add", False) else f.get_default(), connection
        )
        for f in fields
        if f.attname not in ours
    }
    getters = [ours.get(f.attname) for f in fields]
    rows = [
        tuple(
            get(r) if get is not None else constant[f.attname]
            for f, get in zip(fields, getters, strict=True)
        )
        for r in planned
    ]
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Contact._meta.db_table)} ({names}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 2000):
            cursor.executemany(sql, rows[i : i + 2000])
    for reg, item in zip(sim.regs, sim.casework_truth, strict=True):
        assert reg.row is not None
        item["registration_id"] = reg.row.pk
    return len(rows)
