"""Asking for, running and re-running evaluations (services, task, audit, permissions).

Flat-table runs use the real engine on a small simulated table; database mode is tested here
with `comparison.build_frame` replaced (the Django layer's own behaviour: configuration stored,
selection passed through, attrition stages kept). The end-to-end database mode on a simulated
area is H3's test_known_truth.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

import numpy as np
import polars as pl
import pytest

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.evaluation import services, tasks
from openiom.evaluation.methods.types import EvaluationSpec, MatchingSpec
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus
from openiom.evaluation.services import EvaluationError

pytestmark = pytest.mark.django_db

SPEC = EvaluationSpec(
    treatment="treated",
    outcome="reoffended",
    covariates=("age", "male", "previous"),
    frequency="reoffences",
    time="days",
    event="event",
    label="Test programme",
)


def small_table(n: int = 600, seed: int = 1) -> pl.DataFrame:
    """People with a treatment that depends on their history (selection on observables)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 60, n)
    previous = rng.poisson(5, n)
    male = rng.integers(0, 2, n)
    treated = rng.random(n) < 1 / (1 + np.exp(-(-2 + 0.15 * previous - 0.02 * (age - 30))))
    reoffended = rng.random(n) < 1 / (1 + np.exp(-(-1 + 0.1 * previous - 0.3 * treated)))
    return pl.DataFrame(
        {
            "id": np.arange(n),
            "treated": treated.astype(int),
            "reoffended": reoffended.astype(int),
            "reoffences": np.where(reoffended, rng.poisson(2, n) + 1, 0),
            "days": np.where(reoffended, rng.integers(1, 365, n), 365),
            "event": reoffended.astype(int),
            "age": age,
            "male": male,
            "previous": previous,
            "unused_notes": ["n/a"] * n,
        }
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def table_evaluation(
    actor: Any, frame: pl.DataFrame | None = None, spec: EvaluationSpec = SPEC
) -> Evaluation:
    frame = small_table() if frame is None else frame
    data = csv_bytes(frame)
    read = services.read_upload(data, "people.csv")
    table = services.store_input_table(
        actor=actor, data=data, name="people.csv", frame=read, columns=services.spec_columns(spec)
    )
    return services.request_evaluation(
        actor=actor,
        title="Test evaluation",
        kind=EvaluationKind.TABLE,
        spec=spec,
        input_table=table,
    )


def test_spec_round_trips_through_json() -> None:
    spec = dataclasses.replace(
        SPEC, matching=MatchingSpec(ratio=2, replace=True, caliper_sd=None, exact=("male",))
    )
    data = services.spec_to_dict(spec)
    assert data["matching"]["exact"] == ["male"] and data["covariates"] == [
        "age",
        "male",
        "previous",
    ]
    assert services.spec_from_dict(data) == spec
    with pytest.raises(EvaluationError, match="unknown settings"):
        services.spec_from_dict({**data, "surprise": 1})


def test_selection_round_trips_through_json() -> None:
    from openiom.evaluation.comparison import TreatmentSelection

    selection = TreatmentSelection(
        cohorts=("fixed", "flex"),
        registered_from=dt.date(2023, 1, 1),
        registered_to=dt.date(2023, 12, 31),
        lead_agency="probation-wessex",
    )
    stored = services.selection_to_dict(selection)
    assert stored["registered_from"] == "2023-01-01" and stored["cohorts"] == ["fixed", "flex"]
    assert services.selection_from_dict(stored) == selection


def test_table_evaluation_runs_and_is_audited(actor: Any) -> None:
    analyst = actor("analyst")
    evaluation = table_evaluation(analyst)
    assert evaluation.status == EvaluationStatus.QUEUED
    # Only the named columns are kept (the id and notes are not).
    assert evaluation.input_table is not None
    assert (
        "unused_notes" not in evaluation.input_table.columns
        and "id" not in evaluation.input_table.columns
    )
    stages: list[tuple[str, float]] = []
    services.run_evaluation(evaluation, actor=analyst, progress=lambda s, f: stages.append((s, f)))
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.DONE, evaluation.error
    assert evaluation.progress_fraction == 1.0 and evaluation.finished_at is not None
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    result = evaluation.result
    assert result is not None
    assert result["headline"].startswith("Test programme")
    assert result["attrition"][0] == [
        "rows in the table",
        int(small_table()["treated"].sum()),
        600 - int(small_table()["treated"].sum()),
    ]
    assert [e["measure"] for e in result["estimates"]] == ["one_year_rate", "frequency"]
    kept = small_table().select(services.spec_columns(SPEC))
    assert evaluation.data_fingerprint == services.frame_fingerprint(kept)
    assert evaluation.input_rows == 600
    assert evaluation.software["openiom"] and evaluation.software["numpy"] == np.__version__
    kinds = list(
        AuditEvent.objects.filter(
            object_id__in=[str(evaluation.pk), str(evaluation.input_table_id)]
        )
        .values_list("event_type", flat=True)
        .order_by("id")
    )
    assert kinds == ["evaluation.table_uploaded", "evaluation.requested", "evaluation.run"]


def test_a_rerun_of_a_stored_configuration_gives_the_same_numbers(actor: Any) -> None:
    analyst = actor("analyst")
    first = table_evaluation(analyst)
    services.run_evaluation(first, actor=analyst)
    first.refresh_from_db()
    again = services.rerun_evaluation(actor=actor("coordinator"), evaluation=first)
    assert again.pk != first.pk and again.rerun_of_id == first.pk
    assert again.config == first.config and again.input_table_id == first.input_table_id
    services.run_evaluation(again, actor=actor("coordinator"))
    again.refresh_from_db()
    assert again.status == EvaluationStatus.DONE
    assert again.data_fingerprint == first.data_fingerprint
    assert again.result == first.result  # every number, including bootstrap intervals
    first.refresh_from_db()
    assert first.status == EvaluationStatus.DONE  # the original is untouched


def test_bad_data_fails_with_row_column_and_reason(actor: Any) -> None:
    frame = small_table().with_columns(
        pl.when(pl.col("id") == 7).then(2).otherwise(pl.col("treated")).alias("treated")
    )
    evaluation = table_evaluation(actor("analyst"), frame)
    services.run_evaluation(evaluation, actor=actor("analyst"))
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.FAILED
    # Person 7 is the 8th data row: row 9 counting the header as row 1.
    assert evaluation.error == "Row 9, column 'treated': must be 0 or 1 (found 2)"
    assert evaluation.result is None
    event = AuditEvent.objects.get(event_type="evaluation.run", object_id=str(evaluation.pk))
    assert "failed" in event.summary


def test_unexpected_errors_are_stored_and_raised(
    actor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openiom.evaluation.methods import pipeline

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "evaluate_frame", broken)
    evaluation = table_evaluation(actor("analyst"))
    with pytest.raises(RuntimeError):
        services.run_evaluation(evaluation, actor=actor("analyst"))
    evaluation.refresh_from_db()
    assert (
        evaluation.status == EvaluationStatus.FAILED
        and evaluation.error == "RuntimeError: disk full"
    )


def test_only_a_queued_evaluation_runs(actor: Any) -> None:
    evaluation = table_evaluation(actor("analyst"))
    services.run_evaluation(evaluation, actor=actor("analyst"))
    with pytest.raises(EvaluationError, match="only a queued evaluation"):
        services.run_evaluation(evaluation, actor=actor("analyst"))


def test_partners_cannot_ask_and_the_refusal_is_audited(actor: Any) -> None:
    with pytest.raises(AccessDenied):
        services.request_evaluation(
            actor=actor("housing.worker"), title="x", kind=EvaluationKind.TABLE, spec=SPEC
        )
    assert AuditEvent.objects.filter(
        event_type="access.denied", details__action="run evaluation"
    ).exists()
    assert not Evaluation.objects.exists()


def test_request_checks_its_inputs(actor: Any) -> None:
    analyst = actor("analyst")
    cases = [
        ({"title": " ", "kind": EvaluationKind.TABLE}, "title"),
        ({"title": "T", "kind": EvaluationKind.TABLE}, "file"),
        ({"title": "T", "kind": EvaluationKind.DATABASE}, "selection"),
        ({"title": "T", "kind": "other"}, "kind"),
    ]
    for kwargs, field in cases:
        with pytest.raises(EvaluationError) as caught:
            services.request_evaluation(actor=analyst, spec=SPEC, **kwargs)
        assert caught.value.field == field


def test_uploads_are_checked(actor: Any) -> None:
    with pytest.raises(EvaluationError, match="must be a CSV"):
        services.read_upload(b"a,b\n1,2\n", "people.xlsx")
    with pytest.raises(EvaluationError, match="binary data"):
        services.read_upload(b"a,b\n\x00\x01", "people.csv")
    with pytest.raises(EvaluationError, match="is empty"):
        services.read_upload(b"", "people.csv")


def test_database_mode_passes_the_selection_and_keeps_attrition(
    actor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openiom.evaluation import comparison

    seen: dict[str, Any] = {}
    frame = (
        small_table()
        .rename(
            {"reoffences": "reoffences", "days": "days_to_reoffence", "event": "reoffence_event"}
        )
        .with_columns(harm_days=pl.col("reoffences") * 10.0)
    )
    # Every comparison person was registered on IOM during their own follow-up: the report says so.
    frame = frame.with_columns(registered_in_follow_up=pl.col("treated") == 0)

    def fake_build_frame(
        *, selection: Any, as_of: dt.date, covariates: Any = None, progress: Any = None
    ) -> Any:
        seen.update(selection=selection, as_of=as_of, covariates=list(covariates))
        if progress is not None:
            progress("building", 0.5)
        return frame, [
            ("registrations selected", 150, 0),
            ("matched to data", 140, 0),
            ("eligible / outcome window complete", 130, 460),
        ]

    monkeypatch.setattr(comparison, "build_frame", fake_build_frame)
    selection = comparison.TreatmentSelection(
        cohorts=("fixed",), registered_from=dt.date(2023, 1, 1), registered_to=dt.date(2023, 12, 31)
    )
    spec = services.database_spec(covariates=["age", "male", "previous"], label="Fixed 2023")
    evaluation = services.request_evaluation(
        actor=actor("coordinator"),
        title="Fixed 2023",
        kind=EvaluationKind.DATABASE,
        spec=spec,
        selection=selection,
        as_of=dt.date(2026, 1, 1),
    )
    assert (
        evaluation.config["selection"]["cohorts"] == ["fixed"]
        and evaluation.config["as_of"] == "2026-01-01"
    )
    tasks.run_evaluation_task.call(evaluation_id=evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.DONE, evaluation.error
    assert seen == {
        "selection": selection,
        "as_of": dt.date(2026, 1, 1),
        "covariates": ["age", "male", "previous"],
    }
    stages = [row[0] for row in evaluation.result["attrition"]]
    assert stages == [
        "registrations selected",
        "matched to data",
        "eligible / outcome window complete",
        "complete covariates",
        "matched",
    ]
    assert [e["measure"] for e in evaluation.result["estimates"]] == [
        "one_year_rate",
        "frequency",
        "harm",
    ]
    used = evaluation.result["matching"]["n_controls_used"]
    assert any(
        c.startswith(f"{used} of the {used} matched comparison people (100%) were themselves")
        for c in evaluation.result["caveats"]
    )


def test_the_task_skips_an_evaluation_that_already_ran(actor: Any) -> None:
    evaluation = table_evaluation(actor("analyst"))
    assert tasks.run_evaluation_task.call(evaluation_id=evaluation.pk) == evaluation.pk
    evaluation.refresh_from_db()
    finished = evaluation.finished_at
    tasks.run_evaluation_task.call(evaluation_id=evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.finished_at == finished


def test_database_mode_on_a_simulated_area_reruns_to_the_same_numbers(
    tmp_path: Any, actor: Any
) -> None:
    """The real chain: a small simulated area and IOM scheme → comparison.build_frame →
    evaluate_frame, stored; running the stored configuration again gives identical numbers."""
    from openiom.evaluation.comparison import ATTRITION_STAGES, TreatmentSelection
    from openiom.simulation.generator import Parameters
    from openiom.simulation.scheme import SchemeParameters
    from openiom.simulation.services import simulate_area

    as_of = dt.date(2025, 6, 30)
    simulate_area(
        people=2000,
        seed=3,
        as_of=as_of,
        manifest_dir=tmp_path,
        params=Parameters(history_years=6.0),
        scheme_params=SchemeParameters(
            years=2,
            scoring_interval_days=91,
            rag_interval_days=56,
            snapshot_quarters=0,
            capacity_fixed=300,
            capacity_flex=150,
            capacity_free=60,
            max_adoptions_per_panel=100,
        ),
    )
    analyst = actor("analyst")
    spec = services.database_spec(
        covariates=["age", "sex", "offences_last_year", "ogrs3_2yr"], label="All cohorts"
    )
    first = services.request_evaluation(
        actor=analyst,
        title="All cohorts to 2023",
        kind=EvaluationKind.DATABASE,
        spec=spec,
        selection=TreatmentSelection(registered_to=dt.date(2023, 12, 31)),
        as_of=as_of,
    )
    services.run_evaluation(first, actor=analyst)
    first.refresh_from_db()
    assert first.status == EvaluationStatus.DONE, first.error
    assert first.result is not None
    stages = [row[0] for row in first.result["attrition"]]
    assert stages[:3] == list(ATTRITION_STAGES)
    assert stages[-2:] == ["complete covariates", "matched"]
    assert first.result["matching"]["n_treated_matched"] > 0
    again = services.rerun_evaluation(actor=analyst, evaluation=first)
    services.run_evaluation(again, actor=analyst)
    again.refresh_from_db()
    assert again.data_fingerprint == first.data_fingerprint
    assert again.result == first.result
