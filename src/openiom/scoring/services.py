"""Scoring writes: publishing rule-set versions and running (and storing) scoring."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiom.audit.services import record
from openiom.scoring import engine
from openiom.scoring.models import (
    CandidateScore,
    CrimeHarmTable,
    RunStatus,
    ScoringPolicy,
    ScoringRun,
    UnitCostTable,
)
from openiom.scoring.permissions import ScoringAction, require_scoring
from openiom.scoring.validation import (
    PolicyConfigError,
    validate_cost_table,
    validate_harm_table,
    validate_scoring_policy,
)

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor

Progress = Callable[[int, str], None]

VALIDATORS: dict[type, Callable[[Any], None]] = {
    ScoringPolicy: validate_scoring_policy,
    CrimeHarmTable: validate_harm_table,
    UnitCostTable: validate_cost_table,
}


class ScoringError(RuntimeError):
    """A scoring run that cannot go ahead (missing tables, bad inputs), with the reason."""


def publish_policy_version(
    *,
    actor: Actor,
    model: type[ScoringPolicy] | type[CrimeHarmTable] | type[UnitCostTable],
    key: str,
    config: dict[str, Any],
    effective_from: dt.date,
    source: str,
    change_note: str,
    name: str | None = None,
) -> ScoringPolicy | CrimeHarmTable | UnitCostTable:
    """Validate and publish the next version of a rule set; earlier versions are never altered."""
    require_scoring(actor, ScoringAction.PUBLISH_POLICY)
    validator = VALIDATORS.get(model)
    if validator is None:
        raise ValueError(f"{model.__name__} is not a scoring rule set")
    errors: list[str] = []
    if not source.strip():
        errors.append("source: say where the values come from, with their status")
    if not change_note.strip():
        errors.append("change_note: say why this version is being made")
    try:
        validator(config)
    except PolicyConfigError as exc:
        errors += exc.errors
    latest = model.objects.filter(key=key).order_by("-version").first()
    if latest is None and name is None:
        errors.append(
            f"key: no {model._meta.verbose_name} called {key!r}; give a name to start one"
        )
    if model is ScoringPolicy and not errors:
        for table, table_model in (("harm_table", CrimeHarmTable), ("cost_table", UnitCostTable)):
            ref = config[table]
            if not table_model.objects.filter(key=ref["key"], version=ref["version"]).exists():
                errors.append(
                    f"config.{table}: {ref['key']} version {ref['version']} does not exist"
                )
    if errors:
        raise PolicyConfigError(errors)
    fields: dict[str, Any] = {}
    if model is ScoringPolicy:
        fields["strand"] = config["strand"]
    with transaction.atomic():
        try:
            version = model.objects.create(
                key=key,
                version=model.next_version_number(key),
                name=name or (latest.name if latest else key),
                effective_from=effective_from,
                source=source,
                change_note=change_note,
                config=config,
                created_by=actor.user if actor.user.pk else None,
                **fields,
            )
        except IntegrityError:
            raise PolicyConfigError(
                ["version: someone else published a version at the same moment; try again"]
            ) from None
        record(
            "scoring.policy_published",
            actor=actor,
            obj=version,
            before={"version": latest.version, "config": latest.config} if latest else None,
            after={"version": version.version, "config": config},
            context={"policy": version.name, "version": version.version},
            details={"key": key, "model": model._meta.label_lower, "change_note": change_note},
        )
    return version


def _tables(policy: ScoringPolicy) -> tuple[CrimeHarmTable, UnitCostTable]:
    refs = policy.config
    harm = CrimeHarmTable.objects.filter(
        key=refs["harm_table"]["key"], version=refs["harm_table"]["version"]
    ).first()
    cost = UnitCostTable.objects.filter(
        key=refs["cost_table"]["key"], version=refs["cost_table"]["version"]
    ).first()
    if harm is None or cost is None:
        raise ScoringError(f"{policy}: its crime-harm or unit-cost table version does not exist")
    return harm, cost


def registered_person_ids(as_of: dt.date) -> set[int]:
    """People already on an IOM cohort on the date (empty until the cohort app provides them)."""
    try:
        from openiom.cohort import selectors as cohort_selectors
    except ImportError:
        return set()
    finder = getattr(cohort_selectors, "registered_person_ids", None)
    return set(finder(as_of=as_of)) if finder is not None else set()


def create_run(
    *, actor: Actor | None, policy: ScoringPolicy, as_of: dt.date, trigger: str = "on_demand"
) -> ScoringRun:
    require_scoring(actor, ScoringAction.RUN_SCORING)
    harm, cost = _tables(policy)
    return ScoringRun.objects.create(
        policy=policy,
        harm_table=harm,
        cost_table=cost,
        as_of=as_of,
        requested_by=actor.user if actor is not None and actor.user.pk else None,
        trigger=trigger,
    )


def _set(run: ScoringRun, **fields: Any) -> None:
    # Progress is saved outside any long transaction so watchers see it.
    for k, v in fields.items():
        setattr(run, k, v)
    ScoringRun.objects.filter(pk=run.pk).update(**fields)


def execute_run(
    run: ScoringRun,
    *,
    actor: Actor | None,
    progress: Progress | None = None,
    inputs: engine.ScoringInputs | None = None,
) -> ScoringRun:
    """Load, score and store one queued run; on failure the run is marked failed with the reason."""

    def step(pct: int, note: str) -> None:
        _set(run, progress=pct, progress_note=note[:200])
        if progress is not None:
            progress(pct, note)

    if run.status != RunStatus.QUEUED:
        raise ScoringError(f"run {run.pk} is {run.status}; only a queued run can be executed")
    _set(run, status=RunStatus.RUNNING, started_at=timezone.now())
    try:
        step(5, "Reading offending, arrests, custody and intelligence")
        if inputs is None:
            inputs = engine.load_frames_from_db(run.as_of)
        step(30, "Fingerprinting the inputs")
        fingerprint = engine.fingerprint(inputs)
        step(40, "Scoring")
        config = run.policy.config
        assert run.harm_table is not None and run.cost_table is not None
        scored = engine.score(
            inputs,
            config,
            run.as_of,
            harm=run.harm_table.config,
            costs=run.cost_table.config,
            registered=registered_person_ids(run.as_of),
            breakdown=int(config.get("store", {}).get("max_candidates", 5000)),
        )
        step(75, "Storing candidates")
        store = config.get("store", {})
        top = scored.filter(scored["total"] > float(store.get("min_total", 0.0))).head(
            int(store.get("max_candidates", 5000))
        )
        rows = [
            CandidateScore(
                run=run,
                person_id=r["person_id"],
                rank=r["rank"],
                total=r["total"],
                eligible=r["eligible"],
                ogrs3_2yr=None
                if r["ogrs3_2yr"] is None or math.isnan(r["ogrs3_2yr"])
                else r["ogrs3_2yr"],
                ogrs3_band=r["ogrs3_band"] or "",
                components=engine.components_json(r, config),
                breakdown=r["breakdown"],
                flags=[f for f in (r["flags"] or "").split(",") if f],
            )
            for r in top.iter_rows(named=True)
        ]
        with transaction.atomic():
            CandidateScore.objects.bulk_create(rows, batch_size=1000)
            finished = {
                "status": RunStatus.FINISHED,
                "progress": 100,
                "progress_note": "Finished",
                "finished_at": timezone.now(),
                "input_fingerprint": fingerprint,
                "input_counts": inputs.counts(),
                "people_scored": scored.height,
                "eligible_count": int(scored["eligible"].sum()),
                "candidates_stored": len(rows),
            }
            _set(run, **finished)
            record(
                "scoring.run",
                actor=actor,
                obj=run,
                username="" if actor is not None else f"scoring ({run.trigger})",
                context={"people": scored.height, "policy": str(run.policy), "as_of": run.as_of},
                details={
                    "policy_id": run.policy_id,
                    "harm_table_id": run.harm_table_id,
                    "cost_table_id": run.cost_table_id,
                    "input_fingerprint": fingerprint,
                    "input_counts": inputs.counts(),
                    "candidates_stored": len(rows),
                },
            )
        if progress is not None:
            progress(100, "Finished")
    except Exception as exc:
        _set(
            run,
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    return run


def run_scoring(
    *,
    actor: Actor | None,
    policy: ScoringPolicy,
    as_of: dt.date,
    progress: Progress | None = None,
    trigger: str = "on_demand",
    inputs: engine.ScoringInputs | None = None,
) -> ScoringRun:
    """Score the area now (synchronously) and store the run; see tasks.score_area_task for queued runs."""
    run = create_run(actor=actor, policy=policy, as_of=as_of, trigger=trigger)
    return execute_run(run, actor=actor, progress=progress, inputs=inputs)
