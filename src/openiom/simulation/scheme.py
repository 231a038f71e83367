"""Simulate the partnership running IOM over the years before the as-of date (docs/simulator.md).

After `simulate` has loaded an area, `simulate_scheme` replays three years of IOM operation day by
day: scoring every few weeks, referrals by partners and the coordinator, fortnightly selection
panels, registrations in Fixed/Flex/Free with lead agencies and workers, monthly RAG reviews (the
RAG policy's suggestion computed with `openiom.cohort.rag.suggest` and kept), custody status
changes and exits by the de-registration rules or for other reasons.

The history is planned in memory and bulk-created (thousands of service calls would take minutes):
every row is the one the cohort service would have written (the same suggestion, eligibility and
exit-suggestion code, the same state-machine steps, every DB constraint kept), and one audit event
`simulation.scheme_generated` summarises what was written. Registration does not change anyone's
offending unless `iom_effect` is set (the evaluation hook, see `SchemeParameters.iom_effect`).

Each registration is a full case (issue #5 item 11, `SchemeParameters.casework`): lead-worker
handovers, a contact log whose appointments and drug tests feed the RAG evidence
(`openiom.simulation.casework`), a management plan (`.plans`) and referrals to providers
(`.providers`); the intensity used per registration is returned in the manifest's
`scheme.casework` section.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models

from openiom.cohort.dates import add_months
from openiom.cohort.deregistration import green_run_start, suggest_exit
from openiom.cohort.eligibility import Met, check_eligibility
from openiom.cohort.models import (
    CohortDefinition,
    DeregistrationPolicy,
    DeregistrationReason,
    ExitPlan,
    Notification,
    PanelAttendance,
    PanelDecision,
    PanelOutcome,
    RagAssessment,
    RagPolicy,
    RagStatus,
    Reconsideration,
    Referral,
    ReferralState,
    ReferralStateChange,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
)
from openiom.cohort.rag import RagEvidence, ReportedEvidence, suggest
from openiom.scoring import engine

DAY = dt.timedelta(days=1)
COHORTS = ("fixed", "flex", "free")
SCORED = {"fixed": "fixed-cohort-scoring", "flex": "flex-cohort-scoring"}


@dataclass(frozen=True)
class SchemeParameters:
    """How the simulated partnership runs IOM. Capacities are per 20,000 people (scaled)."""

    years: int = 3
    panel_interval_days: int = 14  # fortnightly selection panel
    scoring_interval_days: int = 28  # weekly in reality; every 4 weeks here for speed
    rag_interval_days: int = 28  # monthly reassessment (the cohort review period)
    capacity_fixed: int = 60
    capacity_flex: int = 30
    capacity_free: int = 12
    max_adoptions_per_panel: int = 10  # per 20,000 people: the cohort fills up over months
    partner_referrals_per_panel: float = 1.5  # per 20,000 people (housing, drugs, mentoring)
    p_not_adopt: float = 0.12
    p_defer: float = 0.07
    p_decision_differs: float = 0.06
    p_moved_away_per_review: float = 0.004
    exit_plan_after_green_reviews: int = 2
    cooling_off_days: int = 180  # not re-referred this soon after not being adopted or exiting
    snapshot_quarters: int = 4  # quarterly stored Fixed-policy runs before the latest run
    # Evaluation hook: the true effect of IOM. 0.0 (default) = registration changes nothing (the
    # generator's offending is fixed). A value f in (0, 1] removes each offence committed while
    # registered with probability f, before RAG, later scoring and the files see it (the removed
    # offence rows are deleted from the database and from offences.csv).
    iom_effect: float = 0.0
    # Case management (issue #5 item 11; openiom.simulation.casework). Handovers: at each monthly
    # review of someone in the community the lead worker changes with this probability (staff
    # leaving, caseload balancing); when a licence starts or ends the lead may pass between
    # probation and police instead (this share of handovers).
    p_lead_change_per_review: float = 0.03
    p_lead_agency_change: float = 0.35
    # Contact intensity: days between appointments with the lead worker by RAG status (weekly
    # for red, fortnightly for green), and mean days between other contacts.
    appointment_interval_red: int = 7
    appointment_interval_amber: int = 10
    appointment_interval_green: int = 14
    home_visit_interval_days: int = 28
    phone_call_interval_days: int = 10
    drug_test_interval_days: int = 14  # people with drug needs only
    curfew_check_interval_days: int = 14  # police, for people at red
    prison_visit_interval_days: int = 35  # lead worker, while in custody
    p_drug_need: float = 0.45  # registered people with drug needs besides the drug service's
    casework: bool = True  # write contacts and lead changes (and plans, when the app exists)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Reg:
    person: int
    cohort: str
    start: dt.date
    referral: _Ref
    lead_agency: str
    lead_worker: Any
    status: str = RegistrationStatus.ACTIVE
    status_since: dt.date | None = None
    end: dt.date | None = None
    reason: str = ""
    note: str = ""
    next_review: dt.date | None = None
    changes: list[tuple[str, str, dt.date, str, str]] = field(default_factory=list)
    rags: list[RagAssessment] = field(default_factory=list)
    # handovers: (on, from agency, from worker, to agency, to worker, reason)
    lead_changes: list[tuple[dt.date, str, Any, str, Any, str]] = field(default_factory=list)
    # contacts that feed the RAG suggestion, generated as the registration runs:
    # appointments (day, kept, agency, worker) and drug tests (day, result, agency, worker)
    appointments: list[tuple[dt.date, bool, str, Any]] = field(default_factory=list)
    drug_tests: list[tuple[dt.date, str, str, Any]] = field(default_factory=list)
    case_until: dt.date | None = None
    next_appointment: dt.date | None = None
    next_drug_test: dt.date | None = None
    exit_plan: dt.date | None = None
    custody_until: dt.date | None = None
    long_custody_episode: int | None = None
    row: Registration | None = None


@dataclass
class _Ref:
    person: int
    referrer: str  # persona username
    agency: str
    reason: str
    created: dt.date
    proposed: str = ""
    previous: _Ref | None = None
    new_information: str = ""
    state: str = ReferralState.SUBMITTED
    panel_date: dt.date | None = None
    outcome_reason: str = ""
    closed: dt.date | None = None
    score: float | None = None
    steps: list[tuple[str, str, str, str, dt.date]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    row: Referral | None = None


class _Data:
    """The area's records as of the end date, indexed by person for fast look-ups."""

    def __init__(self, as_of: dt.date) -> None:
        from django.db import connection

        from openiom.offending.models import Offence
        from openiom.people.models import CustodyEpisode, Involvement, SupervisionPeriod

        self.inputs = engine.load_frames_from_db(as_of)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, person_id, offence_date FROM {Offence._meta.db_table} "  # noqa: S608 (table name from the model)
                "WHERE offence_date <= %s ORDER BY offence_date, id",
                [as_of],
            )
            rows = cursor.fetchall()
        offences = pl.DataFrame(
            rows, schema=["id", "person_id", "offence_date"], orient="row"
        ).with_columns(pl.col("offence_date").cast(pl.String).str.to_date())
        self.offence_rows = offences
        self.offences: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
        for oid, pid, day in offences.iter_rows():
            self.offences[pid].append((day, oid))
        self.arrests = _by_person(
            self.inputs.arrests.select("person_id", "arrest_date").iter_rows()
        )
        self.intel = _by_person(
            self.inputs.intelligence.select("person_id", "recorded_date").iter_rows()
        )
        self.custody: dict[int, list[tuple[int, dt.date, dt.date | None, int | None]]] = (
            defaultdict(list)
        )
        for cid, pid, received, released, length in (
            CustodyEpisode.objects.filter(received_date__lte=as_of)
            .order_by("received_date", "id")
            .values_list("id", "person_id", "received_date", "release_date", "sentence_length_days")
        ):
            self.custody[pid].append((cid, received, released, length))
        self.supervision: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
        for pid, start, end in SupervisionPeriod.objects.values_list(
            "person_id", "start_date", "end_date"
        ):
            self.supervision[pid].append((start, end))
        self.caseloads: dict[str, list[tuple[int, dt.date]]] = defaultdict(list)
        for code, pid, start in (
            Involvement.objects.filter(worker__isnull=True, end_date__isnull=True)
            .order_by("agency__code", "person_id")
            .values_list("agency__code", "person_id", "start_date")
        ):
            self.caseloads[code].append((pid, start))
        people = self.inputs.people
        self.dob = dict(zip(people["person_id"], people["date_of_birth"], strict=True))
        self.dod = {
            pid: d
            for pid, d in zip(people["person_id"], people["date_of_death"], strict=True)
            if d is not None
        }
        self.removed: set[int] = set()  # offence ids thinned by iom_effect

    def offence_dates(self, pid: int, since: dt.date, on: dt.date) -> list[dt.date]:
        return [
            d
            for d, oid in self.offences.get(pid, ())
            if since <= d <= on and oid not in self.removed
        ]

    def in_custody(
        self, pid: int, on: dt.date
    ) -> tuple[int, dt.date, dt.date | None, int | None] | None:
        for episode in self.custody.get(pid, ()):
            _cid, received, released, _len = episode
            if received <= on and (released is None or released > on):
                return episode
        return None

    def supervised(self, pid: int, on: dt.date) -> bool:
        return any(s <= on and (e is None or e > on) for s, e in self.supervision.get(pid, ()))

    def age(self, pid: int, on: dt.date) -> int:
        dob = self.dob[pid]
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))

    def frames_at(self, day: dt.date, *, active_only: bool = False) -> engine.ScoringInputs:
        """The scoring inputs as they stood on `day` (records after it unknown, status then).

        active_only keeps people with an offence in the last 36 months (the policies' widest
        eligibility window): the panel's in-memory scoring needs only the eligible."""
        inp = self.inputs
        offences = inp.offences.filter(pl.col("offence_date") <= day)
        people = inp.people
        if active_only:
            recent = offences.filter(pl.col("offence_date") > engine.months_before(day, 36))[
                "person_id"
            ].unique()
            people = people.filter(pl.col("person_id").is_in(recent.implode()))
        if self.removed:
            # the engine frame has no offence id: drop one matching row per thinned offence
            gone = self.offence_rows.filter(pl.col("id").is_in(list(self.removed)))
            offences = _drop_rows(offences, gone.select("person_id", "offence_date"))
        custody = inp.custody.filter(pl.col("received_date") <= day).with_columns(
            pl.when(pl.col("release_date") > day)
            .then(None)
            .otherwise(pl.col("release_date"))
            .alias("release_date")
        )
        inside = custody.filter(pl.col("release_date").is_null())["person_id"].unique()
        people = people.with_columns(
            pl.when(pl.col("date_of_death") <= day)
            .then(pl.lit("deceased"))
            .when(pl.col("person_id").is_in(inside.implode()))
            .then(pl.lit("custody"))
            .otherwise(pl.lit("community"))
            .alias("current_status"),
            pl.when(pl.col("date_of_death") <= day)
            .then(pl.col("date_of_death"))
            .alias("date_of_death"),
        )
        return engine.ScoringInputs(
            people=people,
            offences=offences,
            arrests=inp.arrests.filter(pl.col("arrest_date") <= day),
            intelligence=inp.intelligence.filter(pl.col("recorded_date") <= day),
            custody=custody,
            codes=inp.codes,
        )


def _drop_rows(frame: pl.DataFrame, gone: pl.DataFrame) -> pl.DataFrame:
    """Remove one frame row per row of `gone` (matched on person and date)."""
    numbered = frame.with_columns(
        pl.int_range(pl.len()).over("person_id", "offence_date").alias("_n")
    )
    gone_n = gone.with_columns(pl.int_range(pl.len()).over("person_id", "offence_date").alias("_n"))
    return numbered.join(gone_n, on=["person_id", "offence_date", "_n"], how="anti").drop("_n")


def _by_person(rows: Any) -> dict[int, list[dt.date]]:
    out: dict[int, list[dt.date]] = defaultdict(list)
    for pid, day in rows:
        out[pid].append(day)
    for days in out.values():
        days.sort()
    return out


def _between(days: list[dt.date], since: dt.date, on: dt.date) -> list[dt.date]:
    return days[bisect.bisect_left(days, since) : bisect.bisect_right(days, on)]


# --- staff ---------------------------------------------------------------------------------------

STAFF_NAMES = [
    ("Amira", "Hussain"), ("Ben", "Clarke"), ("Chloe", "Evans"), ("Daniel", "Osei"),
    ("Emma", "Walsh"), ("Farid", "Rahman"), ("Grace", "Nowak"), ("Harry", "Bennett"),
    ("Imogen", "Price"), ("Jamal", "Campbell"), ("Kate", "Murphy"), ("Liam", "Hughes"),
]  # fmt: skip


def _staff(caseload_places: int) -> dict[str, list[Any]]:
    """Lead workers per core agency: the demo persona plus generated offender managers (about
    15 cases each); generated staff have no usable password."""
    from openiom.accounts.models import Membership, Role
    from openiom.partnership.models import Agency
    from openiom.partnership.setup import ensure_personas

    users = (
        ensure_personas(password=None)  # type: ignore[arg-type]
        if getattr(settings, "PRODUCTION", False)
        else ensure_personas()
    )
    staff: dict[str, list[Any]] = {
        "probation-wessex": [users["probation.om"]],
        "wessex-police": [users["police.officer"]],
    }
    user_model = get_user_model()
    names = iter(STAFF_NAMES * 20)
    for code, prefix, title, share in (
        ("probation-wessex", "sim.probation", "Probation offender manager (IOM)", 0.55),
        ("wessex-police", "sim.police", "IOM police officer", 0.45),
    ):
        agency = Agency.objects.get(code=code)
        extra = max(0, math.ceil(caseload_places * share / 15) - 1)
        for i in range(1, extra + 1):
            first, last = next(names)
            user, created = user_model.objects.get_or_create(
                username=f"{prefix}{i}",
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{prefix}{i}@example.org",
                },
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            Membership.objects.get_or_create(
                user=user, agency=agency, role=Role.OFFENDER_MANAGER, defaults={"job_title": title}
            )
            staff[code].append(user)
    staff["_personas"] = [users]
    return staff


# --- the simulation ------------------------------------------------------------------------------

NOT_ADOPT_REASONS = [
    "Offending has reduced since the score was calculated; not a current priority for IOM",
    "Already managed under MAPPA; IOM would duplicate that work",
    "Insufficient evidence of current offending: keep under review through the candidate list",
    "Offending is mainly driven by mental health needs: referred to liaison and diversion instead",
    "Due to move out of the area shortly",
]
DEFER_REASONS = [
    "Awaiting an updated police intelligence picture",
    "Awaiting the probation practitioner's assessment",
    "Panel ran out of time; carried over to the next panel",
]
PARTNER_REASONS = {
    "harbour-housing": ("housing.worker", "Tenancy at risk and repeated police call-outs; housing support alone is not enough"),
    "turning-point-wessex": ("drug.worker", "Drug-related acquisitive offending continues alongside treatment"),
    "second-chance-mentoring": ("vcs.mentor", "Mentee asks for more structured support; offending continues"),
}  # fmt: skip
PANEL_AGENCIES = [
    "wessex-police", "probation-wessex", "harbour-housing", "turning-point-wessex",
    "second-chance-mentoring", "wessex-council", "hmp-wessex",
]  # fmt: skip


class SchemeSimulator:
    def __init__(self, *, seed: int, as_of: dt.date, people: int, params: SchemeParameters) -> None:
        self.p = params
        self.as_of = as_of
        self.scale = people / 20_000
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0x10A]))
        # case management draws come from their own stream, so switching it off (or changing
        # its parameters) leaves the rest of the history as it was
        self.case_rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC0C]))
        self.seed = seed
        self.start = add_months(as_of, -12 * params.years)
        self.data = _Data(as_of)
        self.cohorts = {k: CohortDefinition.in_force(k, self.start) for k in COHORTS}
        if any(c is None for c in self.cohorts.values()):
            raise ValueError(f"No cohort definitions in force on {self.start}")
        self.capacity = {
            "fixed": max(2, round(params.capacity_fixed * self.scale)),
            "flex": max(1, round(params.capacity_flex * self.scale)),
            "free": max(1, round(params.capacity_free * self.scale)),
        }
        self.rag_policy = RagPolicy.in_force("rag", self.start)
        self.exit_policy = DeregistrationPolicy.in_force("deregistration", self.start)
        if self.rag_policy is None or self.exit_policy is None:
            raise ValueError(f"No RAG or de-registration policy in force on {self.start}")
        self.rag_rules = self.rag_policy.rules
        self.exit_rules = self.exit_policy.rules
        from openiom.partnership.models import Agency

        self.agency_ids = dict(Agency.objects.values_list("code", "id"))
        self.staff = _staff(sum(self.capacity.values()))
        self.personas = self.staff.pop("_personas")[0]
        self.caseload: dict[int, int] = defaultdict(int)
        self.refs: list[_Ref] = []
        self.regs: list[_Reg] = []
        self.live: dict[int, _Reg] = {}
        self.open: dict[int, _Ref] = {}
        self.last_closed: dict[int, tuple[dt.date, _Ref | None]] = {}
        self.panels: list[dt.date] = []
        self.scores: dict[str, pl.DataFrame] = {}
        self.engagement: dict[int, float] = {}
        self.casework_truth: list[dict[str, Any]] = []
        # per person: appointments (day, kept) and drug tests (day, result) across registrations,
        # for the RAG evidence windows; drug needs; whether the drug service works with them
        self.person_appointments: dict[int, list[tuple[dt.date, bool]]] = defaultdict(list)
        self.person_drug_tests: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
        self.drug_need: dict[int, bool] = {}
        self.drug_clients = {pid for pid, _s in self.data.caseloads.get("turning-point-wessex", [])}

    # ---- scoring -----------------------------------------------------------------------------
    def _score(self, day: dt.date) -> None:
        from openiom.scoring.models import CrimeHarmTable, ScoringPolicy, UnitCostTable

        inputs = self.data.frames_at(day, active_only=True)
        registered = {r.person for r in self.live.values()}
        for cohort, key in SCORED.items():
            policy = ScoringPolicy.in_force(key, day)
            if policy is None:
                continue
            refs = policy.config
            harm = CrimeHarmTable.objects.get(**refs["harm_table"]).config
            costs = UnitCostTable.objects.get(**refs["cost_table"]).config
            scored = engine.score(
                inputs,
                policy.config,
                day,
                harm=harm,
                costs=costs,
                registered=registered,
                breakdown=False,
            )
            self.scores[cohort] = scored.filter(pl.col("eligible")).select(
                "person_id", "total", "eligible_rank"
            )

    # ---- run ---------------------------------------------------------------------------------
    def run(self) -> None:
        day = self.start
        while day.weekday() != 1:  # panels meet on Tuesdays
            day += DAY
        next_score = self.start
        while day <= self.as_of:
            while next_score <= day - DAY:
                self._score(next_score)
                next_score += dt.timedelta(days=self.p.scoring_interval_days)
            self._advance(day)
            self._panel(day)
            self.panels.append(day)
            day += dt.timedelta(days=self.p.panel_interval_days)
        self._advance(self.as_of)
        if self.p.casework:
            for reg in self.live.values():
                self._casework_until(reg, self.as_of)
        self._pending_referrals(day)

    # ---- registrations between panels -------------------------------------------------------
    def _advance(self, until: dt.date) -> None:
        for reg in list(self.live.values()):
            self._advance_one(reg, until)

    def _change(self, reg: _Reg, to: str, on: dt.date, note: str, reason: str = "") -> None:
        reg.changes.append((reg.status, to, on, reason, note))
        reg.status, reg.status_since = to, on

    def _end(self, reg: _Reg, on: dt.date, reason: str, note: str = "") -> None:
        if self.p.casework:
            self._casework_until(reg, on)
        self._change(reg, RegistrationStatus.DEREGISTERED, on, note, reason)
        reg.end, reg.reason, reg.note = on, reason, note
        del self.live[reg.person]
        self.caseload[reg.lead_worker.pk] -= 1
        self.last_closed[reg.person] = (on, None)

    def _advance_one(self, reg: _Reg, until: dt.date) -> None:
        d, pid = self.data, reg.person
        while reg.status != RegistrationStatus.DEREGISTERED:
            assert reg.next_review is not None
            events: list[tuple[dt.date, str]] = [(reg.next_review, "review")]
            dod = d.dod.get(pid)
            if dod is not None:
                events.append((dod + 3 * DAY, "deceased"))
            if reg.status == RegistrationStatus.IN_CUSTODY and reg.custody_until is not None:
                events.append((reg.custody_until, "released"))
            elif reg.status == RegistrationStatus.ACTIVE:
                nxt = next(
                    (
                        e
                        for e in d.custody.get(pid, ())
                        if e[1] > (reg.status_since or reg.start) and (e[2] is None or e[2] > e[1])
                    ),
                    None,
                )
                if nxt is not None:
                    events.append((nxt[1], "custody"))
            on, what = min(events)
            if on > until or on > self.as_of:
                return
            if what == "deceased":
                self._end(reg, on, DeregistrationReason.DECEASED, "Notified of the person's death")
            elif what == "custody":
                episode = d.in_custody(pid, on)
                if episode is None:
                    reg.status_since = on  # released the same day: nothing to record
                    continue
                cid, received, released, length = episode
                if length is not None and length >= self.exit_rules.long_sentence_days:
                    reg.long_custody_episode = cid
                    exit_on = received + 7 * DAY
                    if exit_on <= until and exit_on <= self.as_of:
                        self._end(reg, exit_on, DeregistrationReason.LONG_CUSTODY)
                    else:
                        return
                    continue
                self._change(reg, RegistrationStatus.IN_CUSTODY, on, "Received into custody")
                reg.custody_until = released or dt.date.max
                # serving a long sentence after remand: checked again at each review
            elif what == "released":
                episode = d.in_custody(pid, on)
                if episode is not None:  # a further episode straight after (remand → sentence)
                    cid, _rec, released, length = episode
                    if length is not None and length >= self.exit_rules.long_sentence_days:
                        self._end(reg, on, DeregistrationReason.LONG_CUSTODY)
                        continue
                    reg.custody_until = released or dt.date.max
                    if reg.custody_until == on:
                        reg.custody_until = on + DAY
                    continue
                self._change(reg, RegistrationStatus.ACTIVE, on, "Released from custody")
                reg.custody_until = None
                reg.next_review = min(reg.next_review, on + 7 * DAY)
            else:
                self._review(reg, on)

    def _review(self, reg: _Reg, on: dt.date) -> None:
        step = dt.timedelta(days=self.p.rag_interval_days)
        if reg.status == RegistrationStatus.IN_CUSTODY:
            episode = self.data.in_custody(reg.person, on)
            if episode is not None and (episode[3] or 0) >= self.exit_rules.long_sentence_days:
                self._end(reg, on, DeregistrationReason.LONG_CUSTODY)
                return
            reg.next_review = on + step  # RAG paused while in custody
            return
        if self.rng.random() < self.p.p_moved_away_per_review:
            self._end(reg, on, DeregistrationReason.MOVED_AWAY, "Moved out of the Wessex area")
            return
        self._assess(reg, on)
        reg.next_review = on + step
        if self._green_exit_due(reg, on):
            self._end(reg, on, DeregistrationReason.GREEN_WITH_EXIT_PLAN)
        elif self.p.casework and len(reg.rags) > 1:
            self._maybe_hand_over(reg, on)

    @staticmethod
    def _status_on(reg: _Reg, day: dt.date) -> str:
        status = ""
        for _frm, to, on, _reason, _note in reg.changes:
            if on <= day:
                status = to
        return status

    def _casework_until(self, reg: _Reg, until: dt.date) -> None:
        """Appointments with the lead worker and drug tests up to `until` (from where the
        registration's contact log got to): while in the community only, at the interval the
        current RAG status sets; missed or positive more often with low engagement and right
        after an offence. These are the contacts the RAG suggestion reads."""
        p, rng, pid = self.p, self.case_rng, reg.person
        if reg.case_until is not None and until <= reg.case_until:
            return
        if pid not in self.engagement:  # ended before its first review (drawn apart)
            self.engagement[pid] = float(rng.beta(4, 2))
        engaged = self.engagement[pid]
        if pid not in self.drug_need:
            self.drug_need[pid] = pid in self.drug_clients or bool(rng.random() < p.p_drug_need)
        if reg.next_appointment is None:
            reg.next_appointment = reg.start + int(rng.integers(1, 4)) * DAY
            reg.next_drug_test = reg.start + int(rng.integers(2, 8)) * DAY
        intervals: dict[str, int] = {
            "red": p.appointment_interval_red,
            "amber": p.appointment_interval_amber,
            "green": p.appointment_interval_green,
        }

        def likelihood(day: dt.date, if_offending: float, base: float, months: float) -> float:
            """As `_reported`: high right after an offence or arrest (28 days), otherwise
            falling with the months since the last offence, more slowly for the less engaged."""
            since = day - 28 * DAY
            if self.data.offence_dates(pid, since, day) or _between(
                self.data.arrests.get(pid, []), since, day
            ):
                return if_offending
            before = self.data.offence_dates(pid, dt.date.min, day)
            quiet = (day - before[-1]).days / 30.4 if before else 24.0
            return max(0.01, base * math.exp(-quiet / months))

        while reg.next_appointment <= until:
            day = reg.next_appointment
            if self._status_on(reg, day) != RegistrationStatus.ACTIVE:
                reg.next_appointment = day + 7 * DAY
                continue
            p_miss = likelihood(day, 0.4, 0.35 * (1 - engaged) + 0.05, 4)
            kept = bool(rng.random() >= p_miss)
            reg.appointments.append((day, kept, reg.lead_agency, reg.lead_worker))
            self.person_appointments[pid].append((day, kept))
            status = str(reg.rags[-1].status) if reg.rags else "amber"
            step = intervals.get(status, p.appointment_interval_amber) + int(rng.integers(-1, 2))
            reg.next_appointment = day + step * DAY
        if self.drug_need[pid]:
            assert reg.next_drug_test is not None
            while reg.next_drug_test <= until:
                day = reg.next_drug_test
                if self._status_on(reg, day) == RegistrationStatus.ACTIVE:
                    p_pos = likelihood(day, 0.5, 0.35 * (1.4 - engaged), 3)
                    draw = rng.random()
                    result = (
                        "refused"
                        if draw < 0.03
                        else "positive"
                        if draw < 0.03 + p_pos
                        else "negative"
                    )
                    agency, worker = (
                        ("turning-point-wessex", self.personas["drug.worker"])
                        if pid in self.drug_clients
                        else (reg.lead_agency, reg.lead_worker)
                    )
                    reg.drug_tests.append((day, result, agency, worker))
                    self.person_drug_tests[pid].append((day, result))
                gap = max(1, round(float(rng.exponential(p.drug_test_interval_days))))
                reg.next_drug_test = day + gap * DAY
        reg.case_until = until

    def _recorded(
        self, reg: _Reg, on: dt.date, since: dt.date, reported: ReportedEvidence
    ) -> tuple[ReportedEvidence, bool]:
        """The reported evidence with appointments and drug tests from the contact log in the
        window (as `cohort.rag.gather_rag_evidence` reads recorded appointments)."""
        from dataclasses import replace

        self._casework_until(reg, on)
        pid = reg.person
        seen = [k for d, k in self.person_appointments.get(pid, ()) if since <= d <= on]
        recorded = bool(seen)
        if recorded:
            kept = sum(seen)
            reported = replace(
                reported, appointments_kept=kept, appointments_missed=len(seen) - kept
            )
        tests = [r for d, r in self.person_drug_tests.get(pid, ()) if since <= d <= on]
        results = [r for r in tests if r != "refused"]
        reported = replace(
            reported,
            drug_tests_negative=results.count("negative") if results else None,
            drug_tests_positive=results.count("positive") if results else None,
        )
        return reported, recorded

    def _maybe_hand_over(self, reg: _Reg, on: dt.date) -> None:
        """A change of lead worker at a review: a licence starting or ending may pass the lead
        between police and probation; otherwise a colleague in the same agency takes over."""
        rng = self.case_rng
        if rng.random() >= self.p.p_lead_change_per_review:
            return
        agency, reason = reg.lead_agency, ""
        supervised = self.data.supervised(reg.person, on)
        if rng.random() < self.p.p_lead_agency_change:
            if agency == "wessex-police" and supervised:
                agency, reason = "probation-wessex", "On licence now: probation take the lead"
            elif agency == "probation-wessex" and not supervised:
                agency, reason = "wessex-police", "Licence ended: police take the lead"
        others = [u for u in self.staff[agency] if u.pk != reg.lead_worker.pk]
        if not others:
            return
        worker = min(others, key=lambda u: (self.caseload[u.pk], u.pk))
        if not reason:
            reason = str(
                rng.choice(
                    [
                        "Lead worker left the IOM team",
                        "Caseloads rebalanced across the team",
                        "Lead worker on long-term leave",
                    ]
                )
            )
        reg.lead_changes.append((on, reg.lead_agency, reg.lead_worker, agency, worker, reason))
        self.caseload[reg.lead_worker.pk] -= 1
        self.caseload[worker.pk] += 1
        reg.lead_agency, reg.lead_worker = agency, worker

    def _reported(self, reg: _Reg, on: dt.date, offending: bool) -> ReportedEvidence:
        """What the lead worker reports: engagement improves with time since the last offence."""
        pid, rng = reg.person, self.rng
        since = [
            x
            for x, oid in self.data.offences.get(pid, ())
            if x <= on and oid not in self.data.removed
        ]
        quiet_months = ((on - since[-1]).days / 30.4) if since else 24.0
        engaged = self.engagement.setdefault(pid, float(rng.beta(4, 2)))
        arranged = int(rng.integers(3, 6))
        p_miss = 0.4 if offending else max(0.01, 0.35 * (1 - engaged) * math.exp(-quiet_months / 4))
        missed = int(rng.binomial(arranged, p_miss))
        tests = int(rng.integers(0, 3))
        p_pos = 0.5 if offending else 0.35 * math.exp(-quiet_months / 3)
        positive = int(rng.binomial(tests, p_pos)) if tests else 0
        housed = bool(rng.random() < min(0.85, 0.35 + 0.06 * quiet_months))
        employed = bool(rng.random() < min(0.4, 0.05 + 0.03 * quiet_months))
        return ReportedEvidence(
            appointments_kept=arranged - missed,
            appointments_missed=missed,
            drug_tests_negative=tests - positive if tests else None,
            drug_tests_positive=positive if tests else None,
            stable_accommodation=housed,
            in_employment=employed,
        )

    def _assess(self, reg: _Reg, on: dt.date) -> None:
        rules, d, pid = self.rag_rules, self.data, reg.person
        since = on - dt.timedelta(days=rules.window_days)
        current = on - dt.timedelta(days=rules.current_intelligence_days)
        offences = d.offence_dates(pid, since, on)
        arrests = _between(d.arrests.get(pid, []), since, on)
        intel = d.intel.get(pid, [])
        reported = self._reported(reg, on, bool(offences or arrests))
        recorded = False
        if self.p.casework:
            reported, recorded = self._recorded(reg, on, since, reported)
        evidence = RagEvidence(
            on=on,
            window_days=rules.window_days,
            current_intelligence_days=rules.current_intelligence_days,
            offence_dates=offences,
            arrest_dates=arrests,
            intelligence_dates=_between(intel, since, on),
            current_intelligence_count=len(_between(intel, current, on)),
            reported=reported,
            appointments_recorded=recorded,
        )
        suggested, summary, results = suggest(evidence, rules)
        decided, reason = suggested, f"Agreed with the suggestion. {summary}"
        first = not reg.rags
        if first and suggested == RagStatus.GREEN:
            decided = RagStatus.AMBER
            reason = "Newly registered: starts at amber until engagement is established"
        elif self.rng.random() < self.p.p_decision_differs:
            if suggested == RagStatus.GREEN:
                decided, reason = (
                    RagStatus.AMBER,
                    "Partners report concerns not yet in the records; keep at amber",
                )
            elif suggested == RagStatus.AMBER:
                decided, reason = (
                    RagStatus.RED,
                    "Disengaging from the plan according to partners; enforcement focus",
                )
            elif not offences and not arrests:
                decided, reason = (
                    RagStatus.AMBER,
                    "Intelligence is old and unconfirmed; engaging well otherwise",
                )
        reg.rags.append(
            RagAssessment(
                person_id=pid,
                status=decided,
                assessed_on=on,
                reason=reason,
                suggested_status=suggested,
                suggestion_reasons=[r.as_dict() for r in results],
                evidence=_jsonable(evidence.as_dict()),
                differs_from_suggestion=decided != suggested,
                policy=self.rag_policy,
                assessed_by=reg.lead_worker,
                assessed_by_agency_id=self.agency_ids[reg.lead_agency],
            )
        )
        green = [
            a
            for a in reg.rags[-self.p.exit_plan_after_green_reviews :]
            if a.status == RagStatus.GREEN
        ]
        if reg.exit_plan is None and len(green) >= self.p.exit_plan_after_green_reviews:
            reg.exit_plan = on

    def _green_exit_due(self, reg: _Reg, on: dt.date) -> bool:
        """The continuous_green_with_exit_plan rule, on the decided statuses."""
        start = green_run_start(reg.rags, on)
        if start is None:
            return False
        rules = self.exit_rules
        reached = (
            start + dt.timedelta(days=rules.green_days)
            if rules.green_days is not None
            else add_months(start, rules.green_months)
        )
        has_plan = reg.exit_plan is not None and reg.exit_plan <= on
        return on >= reached and (has_plan or not rules.exit_plan_required)

    # ---- referrals and panels ---------------------------------------------------------------
    def _available(self, pid: int, on: dt.date) -> bool:
        d = self.data
        if pid in self.live or pid in self.open or pid not in d.dob:
            return False
        if (dod := d.dod.get(pid)) is not None and dod <= on:
            return False
        if d.age(pid, on) < 18 or d.in_custody(pid, on) is not None:
            return False
        closed = self.last_closed.get(pid)
        return closed is None or (on - closed[0]).days >= self.p.cooling_off_days

    def _refer(
        self,
        pid: int,
        referrer: str,
        agency: str,
        reason: str,
        on: dt.date,
        score: float | None = None,
        proposed: str = "",
    ) -> _Ref:
        previous = self.last_closed.get(pid, (None, None))[1]
        new_info = ""
        if previous is not None:
            n = len(self.data.offence_dates(pid, previous.closed or on, on))
            new_info = (
                f"{n} offence(s) recorded since the panel of {previous.closed}"
                if n
                else "Circumstances have changed since the last panel"
            )
        ref = _Ref(
            person=pid,
            referrer=referrer,
            agency=agency,
            reason=reason,
            created=on,
            proposed=proposed,
            previous=previous,
            new_information=new_info,
            score=score,
        )
        ref.steps += [("", ReferralState.DRAFT, "Re-referral with new information" if previous else "Referral created", referrer, on),
                      (ReferralState.DRAFT, ReferralState.SUBMITTED, "Submitted to the coordinator", referrer, on)]  # fmt: skip
        self.refs.append(ref)
        self.open[pid] = ref
        return ref

    def _list(self, ref: _Ref, panel: dt.date) -> None:
        relisted = ref.state == ReferralState.LISTED
        ref.steps.append(
            (
                ref.state,
                ReferralState.LISTED,
                f"Moved to the panel on {panel}" if relisted else f"Listed for {panel}",
                "coordinator",
                panel - 5 * DAY if not relisted else ref.panel_date or panel,
            )
        )
        ref.state, ref.panel_date = ReferralState.LISTED, panel

    def _panel(self, panel: dt.date) -> None:
        rng, scale = self.rng, self.scale
        room = {
            c: self.capacity[c] - sum(1 for r in self.live.values() if r.cohort == c)
            for c in COHORTS
        }
        budget = max(1, round(self.p.max_adoptions_per_panel * scale))
        queue = [r for r in self.open.values() if r.state == ReferralState.LISTED]  # deferred
        # partner referrals since the last panel
        for _ in range(int(rng.poisson(self.p.partner_referrals_per_panel * scale))):
            code = str(rng.choice(list(PARTNER_REASONS)))
            pool = [
                pid
                for pid, start in self.data.caseloads.get(code, [])
                if start <= panel - 14 * DAY and self._available(pid, panel)
            ]
            if pool:
                pid = int(pool[int(rng.integers(len(pool)))])
                user, why = PARTNER_REASONS[code]
                ref = self._refer(
                    pid, user, code, why, panel - int(rng.integers(6, 13)) * DAY, proposed="free"
                )
                self._list(ref, panel)
                queue.append(ref)
        # top candidates from the latest scoring, referred by the coordinator, police or probation
        wanted = {c: max(0, min(room[c], budget) + (1 if room[c] > 0 else 0)) for c in SCORED}
        for cohort, scores in self.scores.items():
            taken = 0
            for pid, total, rank in scores.iter_rows():
                if taken >= wanted[cohort]:
                    break
                if not self._available(pid, panel):
                    continue
                on_licence = self.data.supervised(pid, panel)
                who, agency, why = (
                    ("probation.om", "probation-wessex", "On licence or an order and still offending")
                    if on_licence and rng.random() < 0.5
                    else ("police.officer", "wessex-police", "Prolific offender known to neighbourhood policing")
                    if rng.random() < 0.4
                    else ("coordinator", "probation-wessex", f"Ranked {rank} on the {cohort.title()} candidate list")
                )  # fmt: skip
                ref = self._refer(
                    pid,
                    who,
                    agency,
                    why,
                    panel - int(rng.integers(4, 10)) * DAY,
                    score=float(total),
                    proposed=cohort,
                )
                self._list(ref, panel)
                queue.append(ref)
                taken += 1
        adopted = 0
        for ref in sorted(queue, key=lambda r: (-(r.score or 0.0), r.person)):
            self._decide(ref, panel, room, adopted < budget)
            if ref.state == ReferralState.ADOPTED:
                adopted += 1

    def _decide(self, ref: _Ref, panel: dt.date, room: dict[str, int], may_adopt: bool) -> None:
        from openiom.people.models import Person

        rng = self.rng
        deferred_before = len(ref.decisions) > 0
        draw = rng.random()
        if draw < self.p.p_not_adopt:
            self._close(ref, panel, PanelOutcome.NOT_ADOPT, str(rng.choice(NOT_ADOPT_REASONS)))
            return
        if not deferred_before and draw < self.p.p_not_adopt + self.p.p_defer:
            self._defer(ref, panel, str(rng.choice(DEFER_REASONS)))
            return
        person = Person.objects.select_related("hub").get(pk=ref.person)
        order = [ref.proposed] if ref.proposed in SCORED else []
        order += [c for c in COHORTS if c not in order]
        for cohort in order:
            if room[cohort] <= 0 or not may_adopt:
                continue
            definition = self.cohorts[cohort]
            assert definition is not None
            results = check_eligibility(person, definition, on=panel, score=ref.score)
            if any(r.met == Met.NOT_MET for r in results):
                continue
            room[cohort] -= 1
            self._adopt(ref, panel, cohort, [r.as_dict() for r in results])
            return
        if deferred_before:
            self._close(
                ref,
                panel,
                PanelOutcome.NOT_ADOPT,
                "No place in a suitable cohort; partners to continue support and re-refer if offending continues",
            )
        else:
            self._defer(ref, panel, "The cohort is full; carried over to the next panel")

    def _attending(self) -> list[str]:
        return [
            a
            for a in PANEL_AGENCIES
            if a in ("wessex-police", "probation-wessex") or self.rng.random() < 0.7
        ]

    def _record(
        self, ref: _Ref, panel: dt.date, outcome: str, rationale: str, **extra: Any
    ) -> None:
        ref.decisions.append(
            {
                "decision": outcome,
                "decided_on": panel,
                "rationale": rationale,
                "present": self._attending(),
                **extra,
            }
        )

    def _defer(self, ref: _Ref, panel: dt.date, why: str) -> None:
        self._record(ref, panel, PanelOutcome.DEFER, why)
        ref.steps.append(
            (
                ReferralState.LISTED,
                ReferralState.LISTED,
                f"Deferred at the panel on {panel}: {why}",
                "coordinator",
                panel,
            )
        )
        ref.panel_date = panel + dt.timedelta(days=self.p.panel_interval_days)

    def _close(self, ref: _Ref, panel: dt.date, outcome: str, why: str) -> None:
        self._record(ref, panel, outcome, why)
        ref.steps.append(
            (ReferralState.LISTED, ReferralState.NOT_ADOPTED, why, "coordinator", panel)
        )
        ref.state, ref.outcome_reason, ref.closed = ReferralState.NOT_ADOPTED, why, panel
        del self.open[ref.person]
        self.last_closed[ref.person] = (panel, ref)

    def _adopt(
        self, ref: _Ref, panel: dt.date, cohort: str, eligibility: list[dict[str, str]]
    ) -> None:
        agency = "probation-wessex" if self.data.supervised(ref.person, panel) else "wessex-police"
        worker = min(self.staff[agency], key=lambda u: (self.caseload[u.pk], u.pk))
        self.caseload[worker.pk] += 1
        name = self.cohorts[cohort].name
        rationale = (
            f"Adopted into the {name}: meets the criteria; {ref.reason[0].lower()}{ref.reason[1:]}"
        )
        self._record(
            ref,
            panel,
            PanelOutcome.ADOPT,
            rationale,
            cohort=cohort,
            lead_agency=agency,
            lead_worker=worker,
            eligibility=eligibility,
        )
        ref.steps.append(
            (ReferralState.LISTED, ReferralState.ADOPTED, rationale, "coordinator", panel)
        )
        ref.state, ref.closed = ReferralState.ADOPTED, panel
        del self.open[ref.person]
        reg = _Reg(
            person=ref.person,
            cohort=cohort,
            start=panel,
            referral=ref,
            lead_agency=agency,
            lead_worker=worker,
            status_since=panel,
            next_review=panel,
        )
        reg.changes.append(("", RegistrationStatus.ACTIVE, panel, "", f"Registered in the {name}"))
        self.regs.append(reg)
        self.live[ref.person] = reg
        if self.p.iom_effect > 0:
            for day, oid in self.data.offences.get(ref.person, ()):
                if day >= panel and self.rng.random() < self.p.iom_effect:
                    self.data.removed.add(oid)
        self._advance_one(reg, panel)  # first RAG assessment on the day of registration

    def _pending_referrals(self, next_panel: dt.date) -> None:
        """Referrals awaiting the next panel on the as-of date (submitted, some listed)."""
        rng = self.rng
        for code, (user, why) in PARTNER_REASONS.items():
            pool = [
                pid
                for pid, start in self.data.caseloads.get(code, [])
                if start <= self.as_of - 14 * DAY and self._available(pid, self.as_of)
            ]
            if pool and rng.random() < 0.8:
                pid = int(pool[int(rng.integers(len(pool)))])
                ref = self._refer(
                    pid,
                    user,
                    code,
                    why,
                    self.as_of - int(rng.integers(0, 10)) * DAY,
                    proposed="free",
                )
                if rng.random() < 0.5:
                    self._list(ref, next_panel)
                    ref.steps[-1] = (*ref.steps[-1][:4], min(self.as_of, ref.steps[-1][4]))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- writing -------------------------------------------------------------------------------------


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _write(sim: SchemeSimulator) -> dict[str, int]:
    """Bulk-create the planned history; returns rows written per model."""
    from openiom.people.models import Involvement

    users = dict(sim.personas)
    for staff in sim.staff.values():
        users.update({u.get_username(): u for u in staff})
    coordinator = users["coordinator"]
    agency = sim.agency_ids
    user_agency = {
        "coordinator": agency["probation-wessex"],
        "probation.om": agency["probation-wessex"],
        "police.officer": agency["wessex-police"],
        **{u: agency[code] for code, (u, _w) in PARTNER_REASONS.items()},
    }
    counts: dict[str, int] = defaultdict(int)

    def create(model: type[models.Model], rows: list[Any]) -> list[Any]:
        made = model.objects.bulk_create(rows, batch_size=500)  # type: ignore[attr-defined]
        counts[model._meta.label] += len(made)
        return made

    cohort = sim.cohorts
    # referrals (previous referrals first: ids are needed for re-referral links)
    for ref in sim.refs:
        ref.row = Referral(
            person_id=ref.person,
            proposed_cohort=cohort[ref.proposed] if ref.proposed else None,
            referred_by=users[ref.referrer],
            referring_agency_id=agency[ref.agency],
            reason=ref.reason,
            evidence=f"Candidate score {ref.score:.1f}" if ref.score is not None else "",
            state=ref.state,
            new_information=ref.new_information,
            panel_date=ref.panel_date if ref.state != ReferralState.SUBMITTED else None,
            outcome_reason=ref.outcome_reason,
        )
    create(Referral, [r.row for r in sim.refs if r.row is not None])
    for ref in sim.refs:
        assert ref.row is not None
        ref.row.previous_referral_id = (
            ref.previous.row.pk if ref.previous and ref.previous.row else None
        )
        ref.row.created_at = _at(ref.created, 9)
        ref.row.submitted_at = _at(ref.created, 9)
        ref.row.closed_at = _at(ref.closed, 16) if ref.closed else None
    Referral.objects.bulk_update(
        [r.row for r in sim.refs if r.row is not None],
        ["previous_referral", "created_at", "submitted_at", "closed_at"],
        batch_size=500,
    )
    create(
        ReferralStateChange,
        [
            ReferralStateChange(
                referral=ref.row, from_state=a, to_state=b, reason=why,
                changed_by=users[who], changed_by_agency_id=user_agency[who],
            )
            for ref in sim.refs
            for a, b, why, who, _on in ref.steps
        ],
    )  # fmt: skip
    # panel decisions and attendance
    decisions: list[tuple[_Ref, dict[str, Any], PanelDecision]] = []
    for ref in sim.refs:
        for d in ref.decisions:
            adopt = d["decision"] == PanelOutcome.ADOPT
            decisions.append((ref, d, PanelDecision(
                referral=ref.row, person_id=ref.person, decision=d["decision"],
                decided_on=d["decided_on"], rationale=d["rationale"],
                cohort=cohort[d["cohort"]] if adopt else None,
                lead_agency_id=agency[d["lead_agency"]] if adopt else None,
                lead_worker=d["lead_worker"] if adopt else None,
                eligibility=d.get("eligibility", []),
                meeting_reference=f"IOM selection panel {d['decided_on']:%d %B %Y}",
                recorded_by=coordinator,
            )))  # fmt: skip
    create(PanelDecision, [p for _r, _d, p in decisions])
    create(
        PanelAttendance,
        [
            PanelAttendance(decision=p, agency_id=agency[a])
            for _r, d, p in decisions
            for a in d["present"]
        ],
    )
    adopted = {
        r.row.pk if r.row else None: p
        for r, d, p in decisions
        if d["decision"] == PanelOutcome.ADOPT
    }
    notes = []
    for ref, d, _p in decisions:
        outcome = {
            PanelOutcome.ADOPT: f"was adopted at the panel on {d['decided_on']}",
            PanelOutcome.NOT_ADOPT: f"was not adopted at the panel on {d['decided_on']}: {d['rationale']}",
            PanelOutcome.DEFER: f"was deferred at the panel on {d['decided_on']}: {d['rationale']}",
        }[d["decision"]]
        notes.append(Notification(
            user=users[ref.referrer], text=f"Your referral of person {ref.person} {outcome}"[:500],
            link=f"/cohort/referrals/{ref.row.pk}/",  # type: ignore[union-attr]
            read_at=_at(d["decided_on"] + 2 * DAY) if (sim.as_of - d["decided_on"]).days > 30 else None,
        ))  # fmt: skip
    create(Notification, notes)
    # registrations with their lead-agency involvement
    review_days = {k: c.rules.review_period_days for k, c in cohort.items() if c is not None}
    from openiom.simulation.casework import first_lead, write_contacts, write_lead_changes

    firsts = [first_lead(r) for r in sim.regs]
    involvements = create(Involvement, [
        Involvement(person_id=r.person, agency_id=agency[lead_agency], worker=lead_worker,
                    purpose=f"IOM lead agency ({cohort[r.cohort].name})",
                    start_date=r.start, end_date=r.end)
        for r, (lead_agency, lead_worker) in zip(sim.regs, firsts, strict=True)
    ])  # fmt: skip
    for reg, inv in zip(sim.regs, involvements, strict=True):
        last = reg.rags[-1].assessed_on if reg.rags else reg.start
        definition = cohort[reg.cohort]
        assert definition is not None and reg.referral.row is not None
        reg.row = Registration(
            person_id=reg.person, cohort=definition, cohort_key=reg.cohort,
            referral=reg.referral.row, panel_decision=adopted[reg.referral.row.pk],
            lead_agency_id=agency[reg.lead_agency], lead_worker=reg.lead_worker,
            lead_involvement=inv, start_date=reg.start,
            review_date=last + dt.timedelta(days=review_days[reg.cohort]),
            planned_end_date=add_months(reg.start, definition.rules.planned_registration_months),
            status=reg.status, status_since=reg.status_since or reg.start, end_date=reg.end,
            deregistration_reason=reg.reason, created_by=coordinator,
        )  # fmt: skip
    create(Registration, [r.row for r in sim.regs])
    for reg in sim.regs:
        assert reg.row is not None
        for a in reg.rags:
            a.registration = reg.row
    create(RagAssessment, [a for r in sim.regs for a in r.rags])
    create(ExitPlan, [
        ExitPlan(registration=r.row, recorded_on=r.exit_plan, recorded_by=r.lead_worker,
                 plan="Continue housing and recovery support through partners; mentor contact "
                      "monthly; probation or police contact if offending resumes")
        for r in sim.regs if r.exit_plan is not None
    ])  # fmt: skip
    changes: list[RegistrationStatusChange] = []
    reconsiderations: list[Reconsideration] = []
    for reg in sim.regs:
        for frm, b, on, reason, note in reg.changes:
            row = RegistrationStatusChange(
                registration=reg.row, from_status=frm, to_status=b, changed_on=on, reason=reason,
                note=note, changed_by=coordinator,
            )  # fmt: skip
            if b == RegistrationStatus.DEREGISTERED:
                assert reg.row is not None
                suggestion = suggest_exit(reg.row, on, sim.exit_policy)
                row.suggestion = suggestion.as_dict()
                row.deregistration_policy = sim.exit_policy
                if reason in suggestion.suggested_reasons:
                    pass
                elif reason in (
                    DeregistrationReason.GREEN_WITH_EXIT_PLAN,
                    DeregistrationReason.LONG_CUSTODY,
                ):
                    row.note = note or "Panel decision: " + suggestion.summary
                if reason == DeregistrationReason.LONG_CUSTODY:
                    rule = next(
                        (
                            x
                            for x in suggestion.results
                            if x.deregistration_reason == reason and x.suggests_exit
                        ),
                        None,
                    )
                    due = rule.reconsideration_due if rule else None
                    reconsiderations.append(Reconsideration(
                        person_id=reg.person, registration=reg.row,
                        custody_episode_id=rule.custody_episode_id if rule else reg.long_custody_episode,
                        expected_release_date=rule.expected_release_date if rule else None,
                        due_date=due or add_months(on, 36),
                        reason=rule.reason if rule else "Long custodial sentence: reconsider before release",
                        created_by=coordinator,
                    ))  # fmt: skip
            changes.append(row)
    create(RegistrationStatusChange, changes)
    create(Reconsideration, reconsiderations)
    if sim.p.casework:
        write_lead_changes(sim, create, coordinator)
        counts["casework.Contact"] += write_contacts(sim)
        from django.apps import apps

        housing_need: set[int] = set()
        if apps.is_installed("openiom.plans"):
            from openiom.simulation.plans import write_plans

            housing_need = write_plans(sim, create, users)
        if apps.is_installed("openiom.providers"):
            from openiom.simulation.providers import write_provider_referrals

            write_provider_referrals(sim, create, users, housing_need)
    return dict(counts)


def _store_scoring(sim: SchemeSimulator) -> list[int]:
    """The runs kept: the latest (weekly) run of each policy on the as-of date, and quarterly
    snapshots of the Fixed policy for `snapshot_quarters` quarters before it (each stored run
    keeps the policy's 5,000 candidates, so storing every 4-weekly run the panels used would
    cost minutes; those are scored in memory only)."""
    from openiom.accounts.actor import actor_for_user
    from openiom.scoring.models import ScoringPolicy
    from openiom.scoring.services import run_scoring

    actor = actor_for_user(sim.personas["coordinator"])
    runs = []
    dates = [(key, sim.as_of) for key in (*SCORED.values(), "free-cohort-scoring")]
    for q in range(1, sim.p.snapshot_quarters + 1):
        if add_months(sim.as_of, -3 * q) >= sim.start:
            dates.append((SCORED["fixed"], add_months(sim.as_of, -3 * q)))
    for key, day in sorted(dates, key=lambda x: (x[1], x[0])):
        policy = ScoringPolicy.in_force(key, day)
        if policy is None:
            continue
        run = run_scoring(
            actor=actor, policy=policy, as_of=day, inputs=sim.data.frames_at(day), trigger="weekly"
        )
        runs.append(run.pk)
    return runs


def _thin_files(out_dir: Path, removed_ids: list[str]) -> None:
    path = out_dir / "offences.csv"
    frame = pl.read_csv(path, infer_schema=False)
    frame.filter(~pl.col("offence_id").is_in(removed_ids)).write_csv(path)


def simulate_scheme(
    *,
    seed: int,
    as_of: dt.date,
    people: int,
    params: SchemeParameters | None = None,
    out_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the IOM scheme over the area in the database (inside the caller's transaction).

    Returns the manifest section: parameters, counts per model, stored scoring runs."""
    from django.utils import timezone

    from openiom.offending.models import Offence

    params = params or SchemeParameters()
    if as_of > timezone.localdate():
        raise ValueError(
            f"The IOM scheme cannot be simulated up to {as_of}: it is in the future, and "
            "cohort records may not be dated after today (use --as-of, or --no-scheme)"
        )
    if not 0.0 <= params.iom_effect <= 1.0:
        raise ValueError(f"iom_effect must be between 0 and 1, got {params.iom_effect}")
    sim = SchemeSimulator(seed=seed, as_of=as_of, people=people, params=params)
    sim.run()
    counts = _write(sim)
    removed: list[str] = []
    if sim.data.removed:
        ids = sorted(sim.data.removed)
        removed = list(Offence.objects.filter(pk__in=ids).values_list("source_id", flat=True))
        Offence.objects.filter(pk__in=ids).delete()
        if out_dir is not None:
            _thin_files(out_dir, removed)
    runs = _store_scoring(sim)
    live = [r for r in sim.regs if r.end is None]
    section = {
        "parameters": params.as_dict(),
        "start": sim.start.isoformat(),
        "capacity": sim.capacity,
        "panels": len(sim.panels),
        "counts": dict(sorted(counts.items())),
        "live_registrations": len(live),
        "offences_removed_by_iom_effect": len(removed),
        "scoring_runs_stored": len(runs),
        "registrations": len(sim.regs),
    }
    if sim.casework_truth:
        # the contact intensity the simulator used for each registration (its "truth")
        section["casework"] = {"registrations": sim.casework_truth}
    return section


def record_scheme_event(section: dict[str, Any], run: Any) -> None:
    """The one audit event for the bulk-created history (per-row events are not written)."""
    from openiom.audit.services import record

    record(
        "simulation.scheme_generated",
        actor=None,
        obj=run,
        username="manage.py simulate",
        details=section,
        context={
            "years": section["parameters"]["years"],
            "registrations": section["registrations"],
            "live": section["live_registrations"],
        },
    )
