"""Mechanisms ("dosage", seed 003's realist evaluation): how much IOM each person received.

`dosage(...)` gives, per registration: days registered; days at each RAG status (red, amber,
green, and not yet assessed); days in custody while registered; **contact intensity** from the
case-management contact log (contacts per month registered, by kind; appointments kept and
missed; drug tests and the share positive); **continuity of the lead worker** (changes of lead
worker and lead agency recorded within the registration, plus differences from the person's
previous registration); and the number of **agencies** that worked with the person during the
registration (involvements, contacts made and plan actions owned). The appointments the lead
worker *reports* at each RAG review are kept as a second, independent measure. The cohort summary
and the outcomes broken down by bands of these measures are **descriptive, not causal**: RAG
status follows offending (someone who reoffends is moved to red), agencies join when problems
appear, and engagement reflects motivation — so an association between "dose" and outcome does
not show that more of something would reduce reoffending (`DESCRIPTIVE_NOTE`).

Contacts count when they took place during the registration (on or after its start, on or before
its end or `as_of`): every kind counts except appointments, which count as contacts only when
kept (missed and still-planned appointments are counted separately). Days at a RAG status: an
assessment's status applies from its date until the next assessment or the end of the
registration (its end date, or `as_of` while it is current); days before the first assessment are
"not assessed". Custody days come from the registration's status history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from openiom.evaluation.methods.types import _plain
from openiom.evaluation.outcomes import require_columns

DESCRIPTIVE_NOTE = (
    "Descriptive, not causal: these figures show how outcomes differ between people who "
    "received different amounts of IOM, not what more or less IOM would cause. RAG status "
    "follows offending, agencies become involved when problems appear and engagement reflects "
    "motivation, so the groups differ in ways other than the 'dose'."
)
CONTACTS_NOTE = (
    "Contacts per month come from the case-management contact log: every contact during the "
    "registration except appointments, which count when kept (missed ones are shown "
    "separately). 'Appointments reported' are the kept and missed appointments the lead worker "
    "reported at each RAG review, a separate measure."
)
LEAD_CHANGES_NOTE = (
    "Lead worker changes count the handovers recorded within the registration plus a different "
    "lead worker from the person's previous registration."
)
CONTACT_KINDS = (
    "home_visit",
    "appointment",
    "phone_call",
    "drug_test",
    "curfew_check",
    "bail_check",
    "prison_visit",
)
RAG_STATUSES = ("red", "amber", "green")
MONTH_DAYS = 30.4375


@dataclass
class Dosage:
    """Per-registration dose measures, a cohort summary and outcomes by band."""

    as_of: dt.date
    people: pl.DataFrame
    summary: dict[str, Any]
    bands: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    label: str = DESCRIPTIVE_NOTE

    def to_dict(self) -> dict[str, Any]:
        return dict(
            _plain(
                {
                    "as_of": self.as_of.isoformat(),
                    "label": self.label,
                    "summary": self.summary,
                    "bands": self.bands,
                    "notes": self.notes,
                }
            )
        )


def _spells(events: pl.DataFrame, regs: pl.DataFrame, *, date: str, value: str) -> pl.DataFrame:
    """Days per (registration_id, value): each event's value holds from its date to the next
    event of the registration or the registration's stop date, clipped to the registration."""
    ordered = (
        events.select("registration_id", pl.col(date).alias("_from"), pl.col(value).alias("_v"))
        .join(regs.select("registration_id", "start_date", "_stop"), on="registration_id")
        .sort("registration_id", "_from")
        .with_columns(pl.col("_from").shift(-1).over("registration_id").alias("_next"))
    )
    start = pl.max_horizontal("_from", "start_date")
    end = pl.min_horizontal(pl.coalesce("_next", "_stop"), pl.col("_stop"))
    return (
        ordered.with_columns((end - start).dt.total_days().clip(lower_bound=0).alias("_days"))
        .group_by("registration_id", "_v")
        .agg(pl.col("_days").sum())
    )


def _band_table(
    frame: pl.DataFrame, measure: str, label: str, band: pl.Expr, order: list[str]
) -> list[dict[str, Any]]:
    grouped = (
        frame.with_columns(band.alias("_band"))
        .group_by("_band")
        .agg(
            pl.len().alias("registrations"),
            pl.col("complete").sum().alias("complete"),
            pl.col("reoffended").filter(pl.col("complete")).mean().alias("reoffending_rate"),
            pl.col("reoffences").filter(pl.col("complete")).mean().alias("reoffences_per_person"),
        )
    )
    rows = {r["_band"]: r for r in grouped.iter_rows(named=True)}
    out = []
    for name in order:
        r = rows.get(name)
        if r is None:
            continue
        out.append(
            {
                "measure": measure,
                "label": label,
                "band": name,
                "registrations": int(r["registrations"]),
                "complete": int(r["complete"]),
                "reoffending_rate": r["reoffending_rate"],
                "reoffences_per_person": r["reoffences_per_person"],
            }
        )
    return out


def dosage(
    registrations: pl.DataFrame,
    *,
    rag: pl.DataFrame,
    status_changes: pl.DataFrame,
    involvements: pl.DataFrame,
    as_of: dt.date,
    appointments: pl.DataFrame | None = None,
    outcomes: pl.DataFrame | None = None,
    contacts: pl.DataFrame | None = None,
    lead_changes: pl.DataFrame | None = None,
    plan_actions: pl.DataFrame | None = None,
) -> Dosage:
    """Dose measures per registration (see the module docstring).

    registrations: registration_id, person_id, start_date, end_date (empty while current),
        lead_agency, lead_worker
    rag: registration_id, assessed_on, status (red / amber / green)
    status_changes: registration_id, changed_on, to_status (active, in_custody, ...)
    involvements: person_id, agency, start_date, end_date
    appointments: registration_id, appointments_kept, appointments_missed (one row per RAG
        review; empty = not reported) — optional
    outcomes: registration_id, complete, reoffended, reoffences (from
        `outcomes.proven_outcomes` with the registration date as index) — optional; without it
        no outcome bands are given.
    contacts: registration_id, contact_date, kind, attendance (appointments: planned / kept /
        missed), drug_test_result (negative / positive / refused), agency — optional; without
        it the contact measures are empty (not recorded)
    lead_changes: registration_id, changed_on, from_worker, from_agency, to_worker, to_agency
        (one row per handover within a registration) — optional
    plan_actions: registration_id, owner_agency, created_on (actions in the registration's
        management plan) — optional
    """
    for frame, name, columns in (
        (
            registrations,
            "registrations",
            (
                "registration_id",
                "person_id",
                "start_date",
                "end_date",
                "lead_agency",
                "lead_worker",
            ),
        ),
        (rag, "rag", ("registration_id", "assessed_on", "status")),
        (status_changes, "status_changes", ("registration_id", "changed_on", "to_status")),
        (involvements, "involvements", ("person_id", "agency", "start_date", "end_date")),
        (
            appointments,
            "appointments",
            ("registration_id", "appointments_kept", "appointments_missed"),
        ),
        (outcomes, "outcomes", ("registration_id", "complete", "reoffended", "reoffences")),
        (
            contacts,
            "contacts",
            ("registration_id", "contact_date", "kind", "attendance", "drug_test_result", "agency"),
        ),
        (
            lead_changes,
            "lead_changes",
            (
                "registration_id",
                "changed_on",
                "from_worker",
                "from_agency",
                "to_worker",
                "to_agency",
            ),
        ),
        (plan_actions, "plan_actions", ("registration_id", "owner_agency", "created_on")),
    ):
        if frame is not None:
            require_columns(frame, columns, name)
    regs = registrations.with_columns(
        pl.min_horizontal(pl.coalesce("end_date", pl.lit(as_of)), pl.lit(as_of)).alias("_stop")
    ).filter(pl.col("start_date") <= as_of)
    regs = regs.with_columns(
        (pl.col("_stop") - pl.col("start_date")).dt.total_days().alias("days_registered")
    )
    people = regs.select(
        "registration_id", "person_id", "start_date", "end_date", "days_registered"
    )

    rag_days = _spells(rag, regs, date="assessed_on", value="status")
    for status in RAG_STATUSES:
        part = rag_days.filter(pl.col("_v") == status).select(
            "registration_id", pl.col("_days").alias(f"days_{status}")
        )
        people = people.join(part, on="registration_id", how="left")
    people = people.with_columns(pl.col([f"days_{s}" for s in RAG_STATUSES]).fill_null(0))
    people = people.with_columns(
        (pl.col("days_registered") - pl.sum_horizontal([f"days_{s}" for s in RAG_STATUSES]))
        .clip(lower_bound=0)
        .alias("days_not_assessed")
    )
    custody = (
        _spells(status_changes, regs, date="changed_on", value="to_status")
        .filter(pl.col("_v") == "in_custody")
        .select("registration_id", pl.col("_days").alias("days_in_custody"))
    )
    people = people.join(custody, on="registration_id", how="left").with_columns(
        pl.col("days_in_custody").fill_null(0)
    )
    share = pl.col("days_registered").cast(pl.Float64)
    people = people.with_columns(
        pl.when(share > 0).then(pl.col("days_red") / share).otherwise(None).alias("share_red"),
        pl.when(share > 0).then(pl.col("days_green") / share).otherwise(None).alias("share_green"),
    )

    window = regs.select("registration_id", "start_date", "_stop")

    def during(frame: pl.DataFrame, date: str) -> pl.DataFrame:
        """Rows of `frame` dated within their registration (start to end or as_of)."""
        return frame.join(window, on="registration_id").filter(
            (pl.col(date) >= pl.col("start_date")) & (pl.col(date) <= pl.col("_stop"))
        )

    # Agencies: involvements overlapping the registration, contacts made and plan actions owned
    # during it.
    agency_rows = [
        regs.select("registration_id", "person_id", "start_date", "_stop")
        .join(
            involvements.select(
                "person_id",
                "agency",
                pl.col("start_date").alias("_is"),
                pl.col("end_date").alias("_ie"),
            ),
            on="person_id",
        )
        .filter(
            (pl.col("_is") <= pl.col("_stop"))
            & (pl.col("_ie").is_null() | (pl.col("_ie") >= pl.col("start_date")))
        )
        .select("registration_id", pl.col("agency").cast(pl.String))
    ]
    if contacts is not None:
        agency_rows.append(
            during(contacts, "contact_date").select(
                "registration_id", pl.col("agency").cast(pl.String)
            )
        )
    if plan_actions is not None:
        agency_rows.append(
            plan_actions.join(window, on="registration_id")
            .filter(pl.col("created_on") <= pl.col("_stop"))
            .select("registration_id", pl.col("owner_agency").cast(pl.String).alias("agency"))
        )
    agencies = (
        pl.concat(agency_rows)
        .group_by("registration_id")
        .agg(pl.col("agency").n_unique().alias("agencies_involved"))
    )
    people = people.join(agencies, on="registration_id", how="left").with_columns(
        pl.col("agencies_involved").fill_null(0).cast(pl.Int32)
    )

    # Continuity of the lead worker: handovers within the registration, and whether it started
    # with a different lead from the one the person's previous registration ended with.
    ends = regs.select(
        "registration_id",
        "person_id",
        "start_date",
        pl.col("lead_worker").alias("_first_w"),
        pl.col("lead_agency").cast(pl.String).alias("_first_a"),
        pl.col("lead_worker").alias("_last_w"),
        pl.col("lead_agency").cast(pl.String).alias("_last_a"),
    )
    if lead_changes is not None and lead_changes.height:
        handovers = lead_changes.select(
            "registration_id",
            "changed_on",
            "from_worker",
            pl.col("from_agency").cast(pl.String),
            "to_worker",
            pl.col("to_agency").cast(pl.String),
        ).sort("registration_id", "changed_on")
        first = handovers.group_by("registration_id").agg(
            pl.col("from_worker").first().alias("_fw"), pl.col("from_agency").first().alias("_fa")
        )
        inside = during(handovers, "changed_on")
        last = inside.group_by("registration_id").agg(
            pl.col("to_worker").last().alias("_lw"), pl.col("to_agency").last().alias("_la")
        )
        ends = (
            ends.join(first, on="registration_id", how="left")
            .join(last, on="registration_id", how="left")
            .with_columns(
                pl.coalesce("_fw", "_first_w").alias("_first_w"),
                pl.coalesce("_fa", "_first_a").alias("_first_a"),
                # the lead on the registration's last day: the last handover by then, or the
                # first lead when none had happened yet
                pl.coalesce("_lw", "_fw", "_last_w").alias("_last_w"),
                pl.coalesce("_la", "_fa", "_last_a").alias("_last_a"),
            )
            .drop("_fw", "_fa", "_lw", "_la")
        )
        within = inside.group_by("registration_id").agg(
            pl.len().cast(pl.Int32).alias("lead_worker_changes_within"),
            (pl.col("from_agency") != pl.col("to_agency"))
            .sum()
            .cast(pl.Int32)
            .alias("lead_agency_changes_within"),
        )
        people = people.join(within, on="registration_id", how="left")
    else:
        people = people.with_columns(
            pl.lit(None, dtype=pl.Int32).alias("lead_worker_changes_within"),
            pl.lit(None, dtype=pl.Int32).alias("lead_agency_changes_within"),
        )
    people = people.with_columns(
        pl.col("lead_worker_changes_within", "lead_agency_changes_within").fill_null(0)
    )
    between = (
        ends.sort("person_id", "start_date", "registration_id")
        .with_columns(
            (pl.col("_first_w") != pl.col("_last_w").shift(1).over("person_id"))
            .fill_null(False)
            .cast(pl.Int32)
            .alias("_w"),
            (pl.col("_first_a") != pl.col("_last_a").shift(1).over("person_id"))
            .fill_null(False)
            .cast(pl.Int32)
            .alias("_a"),
        )
        .with_columns(
            pl.col("_w").cum_sum().over("person_id").alias("lead_worker_changes_between"),
            pl.col("_a").cum_sum().over("person_id").alias("lead_agency_changes_between"),
        )
        .select("registration_id", "lead_worker_changes_between", "lead_agency_changes_between")
    )
    people = people.join(between, on="registration_id", how="left").with_columns(
        (pl.col("lead_worker_changes_between") + pl.col("lead_worker_changes_within")).alias(
            "lead_worker_changes"
        ),
        (pl.col("lead_agency_changes_between") + pl.col("lead_agency_changes_within")).alias(
            "lead_agency_changes"
        ),
    )

    # Contact intensity from the contact log.
    months = pl.col("days_registered").cast(pl.Float64) / MONTH_DAYS
    per_month = [f"{k}_per_month" for k in CONTACT_KINDS]
    contact_counts = [
        "contacts",
        "appointments_kept",
        "appointments_missed",
        "drug_tests",
        "drug_tests_positive",
        "drug_tests_negative",
    ]
    if contacts is not None:
        made = during(contacts, "contact_date")
        kind, attendance = pl.col("kind"), pl.col("attendance")
        took_place = (kind != "appointment") | (attendance == "kept")
        counted = made.group_by("registration_id").agg(
            took_place.sum().alias("contacts"),
            *[((kind == k) & took_place).sum().alias(f"_{k}") for k in CONTACT_KINDS],
            ((kind == "appointment") & (attendance == "kept")).sum().alias("appointments_kept"),
            ((kind == "appointment") & (attendance == "missed")).sum().alias("appointments_missed"),
            (kind == "drug_test").sum().alias("drug_tests"),
            ((kind == "drug_test") & (pl.col("drug_test_result") == "positive"))
            .sum()
            .alias("drug_tests_positive"),
            ((kind == "drug_test") & (pl.col("drug_test_result") == "negative"))
            .sum()
            .alias("drug_tests_negative"),
        )
        people = people.join(counted, on="registration_id", how="left").with_columns(
            pl.col([*contact_counts, *[f"_{k}" for k in CONTACT_KINDS]]).fill_null(0).cast(pl.Int64)
        )
        positive_or_negative = pl.col("drug_tests_positive") + pl.col("drug_tests_negative")
        arranged = pl.col("appointments_kept") + pl.col("appointments_missed")
        people = people.with_columns(
            pl.when(months > 0)
            .then(pl.col("contacts") / months)
            .otherwise(None)
            .alias("contacts_per_month"),
            *[
                pl.when(months > 0)
                .then(pl.col(f"_{k}") / months)
                .otherwise(None)
                .alias(f"{k}_per_month")
                for k in CONTACT_KINDS
            ],
            pl.when(arranged > 0)
            .then(pl.col("appointments_kept") / arranged)
            .otherwise(None)
            .alias("appointment_attendance"),
            pl.when(positive_or_negative > 0)
            .then(pl.col("drug_tests_positive") / positive_or_negative)
            .otherwise(None)
            .alias("drug_tests_positive_share"),
        ).drop([f"_{k}" for k in CONTACT_KINDS])
    else:
        people = people.with_columns(
            *[pl.lit(None, dtype=pl.Int64).alias(c) for c in contact_counts],
            *[
                pl.lit(None, dtype=pl.Float64).alias(c)
                for c in (
                    "contacts_per_month",
                    *per_month,
                    "appointment_attendance",
                    "drug_tests_positive_share",
                )
            ],
        )

    if appointments is not None and appointments.height:
        reported = appointments.group_by("registration_id").agg(
            (pl.col("appointments_kept").fill_null(0) + pl.col("appointments_missed").fill_null(0))
            .sum()
            .alias("_arranged"),
            pl.col("appointments_kept").fill_null(0).sum().alias("_kept"),
            (
                pl.col("appointments_kept").is_not_null()
                | pl.col("appointments_missed").is_not_null()
            )
            .sum()
            .alias("_reports"),
        )
        people = people.join(reported, on="registration_id", how="left")
    else:
        people = people.with_columns(
            pl.lit(None, dtype=pl.Int64).alias(c) for c in ("_arranged", "_kept", "_reports")
        )
    has = pl.col("_reports").fill_null(0) > 0
    people = people.with_columns(
        pl.when(has & (months > 0))
        .then(pl.col("_arranged") / months)
        .otherwise(None)
        .alias("appointments_reported_per_month"),
        pl.when(has & (pl.col("_arranged") > 0))
        .then(pl.col("_kept") / pl.col("_arranged"))
        .otherwise(None)
        .alias("appointments_kept_share"),
    ).drop("_arranged", "_kept", "_reports")

    n = people.height
    positive = int(people["drug_tests_positive"].fill_null(0).sum())
    tested = positive + int(people["drug_tests_negative"].fill_null(0).sum())
    summary: dict[str, Any] = {
        "registrations": n,
        "people": people["person_id"].n_unique(),
        "mean_days_registered": people["days_registered"].mean() if n else None,
        **{
            f"mean_days_{s}": people[f"days_{s}"].mean() if n else None
            for s in (*RAG_STATUSES, "not_assessed", "in_custody")
        },
        "mean_agencies_involved": people["agencies_involved"].mean() if n else None,
        "registrations_after_a_lead_worker_change": int((people["lead_worker_changes"] > 0).sum()),
        "registrations_with_a_lead_change_within": int(
            (people["lead_worker_changes_within"] > 0).sum()
        ),
        "mean_lead_worker_changes_within": (
            people["lead_worker_changes_within"].mean() if n else None
        ),
        "mean_contacts_per_month": people["contacts_per_month"].mean(),
        **{f"mean_{k}_per_month": people[f"{k}_per_month"].mean() for k in CONTACT_KINDS},
        "registrations_with_contacts": int((people["contacts"].fill_null(0) > 0).sum()),
        "mean_appointment_attendance": people["appointment_attendance"].mean(),
        "drug_tests": int(people["drug_tests"].fill_null(0).sum()),
        "drug_tests_positive_share": positive / tested if tested else None,
        "mean_appointments_reported_per_month": people["appointments_reported_per_month"].mean(),
        "registrations_with_reported_appointments": int(
            people["appointments_reported_per_month"].is_not_null().sum()
        ),
    }

    bands: list[dict[str, Any]] = []
    if outcomes is not None:
        joined = people.join(
            outcomes.select("registration_id", "complete", "reoffended", "reoffences"),
            on="registration_id",
            how="left",
        ).with_columns(pl.col("complete").fill_null(False))
        red = pl.col("share_red")
        bands += _band_table(
            joined,
            "share_red",
            "Share of the registration at red",
            pl.when(red.is_null())
            .then(pl.lit("not assessed"))
            .when(red == 0)
            .then(pl.lit("never red"))
            .when(red < 0.25)
            .then(pl.lit("under a quarter"))
            .otherwise(pl.lit("a quarter or more")),
            ["never red", "under a quarter", "a quarter or more", "not assessed"],
        )
        ag = pl.col("agencies_involved")
        bands += _band_table(
            joined,
            "agencies_involved",
            "Agencies working with the person",
            pl.when(ag <= 1)
            .then(pl.lit("one or none"))
            .when(ag == 2)
            .then(pl.lit("two"))
            .otherwise(pl.lit("three or more")),
            ["one or none", "two", "three or more"],
        )
        lw = pl.col("lead_worker_changes")
        bands += _band_table(
            joined,
            "lead_worker_changes",
            "Lead worker changes (within the registration and since the previous one)",
            pl.when(lw == 0).then(pl.lit("none")).otherwise(pl.lit("one or more")),
            ["none", "one or more"],
        )
        if contacts is not None:
            cm = pl.col("contacts_per_month")
            bands += _band_table(
                joined,
                "contacts_per_month",
                "Contacts per month registered",
                pl.when(cm.is_null())
                .then(pl.lit("no time registered"))
                .when(cm < 2)
                .then(pl.lit("under 2"))
                .when(cm < 4)
                .then(pl.lit("2 to under 4"))
                .when(cm < 8)
                .then(pl.lit("4 to under 8"))
                .otherwise(pl.lit("8 or more")),
                ["under 2", "2 to under 4", "4 to under 8", "8 or more", "no time registered"],
            )
            at = pl.col("appointment_attendance")
            bands += _band_table(
                joined,
                "appointment_attendance",
                "Share of appointments kept",
                pl.when(at.is_null())
                .then(pl.lit("no appointments"))
                .when(at < 0.5)
                .then(pl.lit("under half"))
                .when(at < 0.8)
                .then(pl.lit("half to under 80%"))
                .otherwise(pl.lit("80% or more")),
                ["under half", "half to under 80%", "80% or more", "no appointments"],
            )
        ap = pl.col("appointments_reported_per_month")
        bands += _band_table(
            joined,
            "appointments_reported_per_month",
            "Appointments reported per month registered",
            pl.when(ap.is_null())
            .then(pl.lit("not reported"))
            .when(ap < 2)
            .then(pl.lit("under 2"))
            .when(ap < 4)
            .then(pl.lit("2 to under 4"))
            .otherwise(pl.lit("4 or more")),
            ["under 2", "2 to under 4", "4 or more", "not reported"],
        )
    notes = [DESCRIPTIVE_NOTE, CONTACTS_NOTE, LEAD_CHANGES_NOTE]
    if contacts is None:
        notes.append("No contact log was given, so contact intensity is not shown.")
    if lead_changes is None:
        notes.append(
            "No lead worker changes were given, so only changes between registrations count."
        )
    if outcomes is None:
        notes.append("No outcomes were given, so outcomes are not broken down by band.")
    return Dosage(as_of=as_of, people=people, summary=summary, bands=bands, notes=notes)


def cohort_dosage(
    *,
    as_of: dt.date,
    cohorts: Iterable[str] = (),
    registered_from: dt.date | None = None,
    registered_to: dt.date | None = None,
    lead_agency: str | None = None,
) -> Dosage:
    """`dosage` for the area's registrations from the database (filters as in
    `comparison.TreatmentSelection`; every matching registration), with proven outcomes from
    each registration date."""
    from django.utils import timezone

    from openiom.casework.models import Contact
    from openiom.cohort.models import (
        LeadWorkerChange,
        RagAssessment,
        Registration,
        RegistrationStatusChange,
    )
    from openiom.evaluation.outcomes import load_offences, proven_outcomes
    from openiom.people.models import Involvement
    from openiom.plans.models import PlanAction

    qs = Registration.objects.filter(start_date__lte=as_of)
    names = list(cohorts)
    if names:
        from django.db.models import Q

        qs = qs.filter(Q(cohort_key__in=names) | Q(cohort__name__in=names))
    if registered_from is not None:
        qs = qs.filter(start_date__gte=registered_from)
    if registered_to is not None:
        qs = qs.filter(start_date__lte=registered_to)
    if lead_agency:
        qs = qs.filter(lead_agency__code=lead_agency)
    reg_rows = list(
        qs.values_list(
            "id", "person_id", "start_date", "end_date", "lead_agency__code", "lead_worker_id"
        )
    )
    registrations = pl.DataFrame(
        reg_rows,
        schema={
            "registration_id": pl.Int64,
            "person_id": pl.Int64,
            "start_date": pl.Date,
            "end_date": pl.Date,
            "lead_agency": pl.String,
            "lead_worker": pl.Int64,
        },
        orient="row",
    )
    ids = registrations["registration_id"].to_list()
    person_ids = registrations["person_id"].unique().to_list()
    rag_rows = list(
        RagAssessment.objects.filter(registration_id__in=ids, assessed_on__lte=as_of).values_list(
            "registration_id",
            "assessed_on",
            "status",
            "evidence__reported__appointments_kept",
            "evidence__reported__appointments_missed",
        )
    )
    rag_all = pl.DataFrame(
        rag_rows,
        schema={
            "registration_id": pl.Int64,
            "assessed_on": pl.Date,
            "status": pl.String,
            "appointments_kept": pl.Int64,
            "appointments_missed": pl.Int64,
        },
        orient="row",
    )
    status_changes = pl.DataFrame(
        list(
            RegistrationStatusChange.objects.filter(
                registration_id__in=ids, changed_on__lte=as_of
            ).values_list("registration_id", "changed_on", "to_status")
        ),
        schema={"registration_id": pl.Int64, "changed_on": pl.Date, "to_status": pl.String},
        orient="row",
    )
    involvements = pl.DataFrame(
        list(
            Involvement.objects.filter(person_id__in=person_ids, start_date__lte=as_of).values_list(
                "person_id", "agency__code", "start_date", "end_date"
            )
        ),
        schema={
            "person_id": pl.Int64,
            "agency": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
        },
        orient="row",
    )
    contacts = pl.DataFrame(
        list(
            Contact.objects.filter(registration_id__in=ids, contact_date__lte=as_of).values_list(
                "registration_id",
                "contact_date",
                "kind",
                "attendance",
                "drug_test_result",
                "agency__code",
            )
        ),
        schema={
            "registration_id": pl.Int64,
            "contact_date": pl.Date,
            "kind": pl.String,
            "attendance": pl.String,
            "drug_test_result": pl.String,
            "agency": pl.String,
        },
        orient="row",
    )
    lead_changes = pl.DataFrame(
        list(
            LeadWorkerChange.objects.filter(registration_id__in=ids).values_list(
                "registration_id",
                "changed_on",
                "from_worker_id",
                "from_agency__code",
                "to_worker_id",
                "to_agency__code",
            )
        ),
        schema={
            "registration_id": pl.Int64,
            "changed_on": pl.Date,
            "from_worker": pl.Int64,
            "from_agency": pl.String,
            "to_worker": pl.Int64,
            "to_agency": pl.String,
        },
        orient="row",
    )
    plan_actions = pl.DataFrame(
        [
            (reg_id, agency, timezone.localtime(created).date())
            for reg_id, agency, created in PlanAction.objects.filter(
                plan__registration_id__in=ids
            ).values_list("plan__registration_id", "owner_agency__code", "created_at")
        ],
        schema={"registration_id": pl.Int64, "owner_agency": pl.String, "created_on": pl.Date},
        orient="row",
    )
    offences = load_offences(person_ids, as_of=as_of)
    outcomes = proven_outcomes(
        offences,
        registrations.select(
            "registration_id", "person_id", pl.col("start_date").alias("index_date")
        ),
        as_of=as_of,
    )
    return dosage(
        registrations,
        rag=rag_all.select("registration_id", "assessed_on", "status"),
        status_changes=status_changes,
        involvements=involvements,
        appointments=rag_all.select("registration_id", "appointments_kept", "appointments_missed"),
        outcomes=outcomes,
        contacts=contacts,
        lead_changes=lead_changes,
        plan_actions=plan_actions,
        as_of=as_of,
    )
