"""The stored evaluation: immutable once it has ended, kept (never deleted), commented columns."""

from __future__ import annotations

from typing import Any

import pytest

from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus, InputTable
from openiom.partnership.models import Partnership

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluation(personas: Any) -> Evaluation:
    return Evaluation.objects.create(
        partnership=Partnership.objects.get(),
        requested_by=personas["analyst"],
        title="Fixed cohort 2024",
        kind=EvaluationKind.DATABASE,
        config={"spec": {}, "selection": {}, "as_of": "2026-01-01"},
    )


def test_a_queued_evaluation_records_progress(evaluation: Evaluation) -> None:
    assert evaluation.status == EvaluationStatus.QUEUED and evaluation.percent == 0
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=EvaluationStatus.RUNNING, progress_stage="matching", progress_fraction=0.456
    )
    evaluation.refresh_from_db()
    assert evaluation.percent == 46 and evaluation.progress_stage == "matching"
    evaluation.title = "Renamed while running"
    evaluation.save()


@pytest.mark.parametrize("status", [EvaluationStatus.DONE, EvaluationStatus.FAILED])
def test_an_ended_evaluation_cannot_change(evaluation: Evaluation, status: str) -> None:
    Evaluation.objects.filter(pk=evaluation.pk).update(status=status, result={"headline": "x"})
    evaluation.refresh_from_db()
    evaluation.result = {"headline": "edited"}
    with pytest.raises(PermissionError, match="run it again"):
        evaluation.save()
    with pytest.raises(PermissionError, match="run it again"):
        Evaluation.objects.filter(pk=evaluation.pk).update(result={"headline": "edited"})
    evaluation.refresh_from_db()
    assert evaluation.result == {"headline": "x"}
    assert evaluation.ended


def test_evaluations_are_never_deleted(evaluation: Evaluation) -> None:
    with pytest.raises(PermissionError):
        evaluation.delete()
    with pytest.raises(PermissionError):
        Evaluation.objects.all().delete()
    assert Evaluation.objects.filter(pk=evaluation.pk).exists()


def test_headline_comes_from_the_result(evaluation: Evaluation) -> None:
    assert evaluation.headline == ""
    evaluation.result = {"headline": "Between 2 and 8 fewer proven reoffenders per 100 people"}
    assert evaluation.headline.startswith("Between 2 and 8")


def test_every_column_is_commented() -> None:
    for model in (Evaluation, InputTable):
        assert model._meta.db_table_comment
        for f in model._meta.concrete_fields:
            if f.primary_key:
                continue
            assert f.db_comment, f"{model.__name__}.{f.name} has no db_comment"
