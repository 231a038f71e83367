"""`manage.py seed_demo_evaluation` (run by `make demo`): the demo opens with a real evaluation."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openiom.evaluation.models import Evaluation, EvaluationStatus

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 6, 30)


def _simulate(tmp_path: Any) -> None:
    from openiom.simulation.generator import Parameters
    from openiom.simulation.scheme import SchemeParameters
    from openiom.simulation.services import simulate_area

    simulate_area(
        people=2000,
        seed=5,
        as_of=AS_OF,
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


def test_runs_once_as_the_analyst_and_prints_the_headline(tmp_path: Any, personas: Any) -> None:
    _simulate(tmp_path)
    out = StringIO()
    call_command("seed_demo_evaluation", "--as-of", AS_OF.isoformat(), stdout=out)
    evaluation = Evaluation.objects.get()
    assert evaluation.status == EvaluationStatus.DONE
    assert evaluation.requested_by.username == "analyst"
    assert evaluation.result["headline"] in out.getvalue()
    assert evaluation.result["matching"]["n_treated_matched"] > 0

    again = StringIO()
    call_command("seed_demo_evaluation", stdout=again)
    assert "already been run" in again.getvalue() and Evaluation.objects.count() == 1


def test_needs_the_user(personas: Any) -> None:
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("seed_demo_evaluation", "--username", "nobody")
