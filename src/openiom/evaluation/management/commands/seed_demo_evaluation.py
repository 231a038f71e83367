"""manage.py seed_demo_evaluation: the demo's first matched evaluation of the simulated scheme."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from openiom.accounts.actor import actor_for_user
from openiom.evaluation import services
from openiom.evaluation.comparison import DEFAULT_COVARIATES, TreatmentSelection
from openiom.evaluation.models import Evaluation, EvaluationKind, EvaluationStatus
from openiom.partnership.setup import ensure_personas


class Command(BaseCommand):
    help = (
        "As the demo analyst, evaluate every registration of the simulated IOM scheme against a "
        "matched comparison group (database mode), unless an evaluation has already been run."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="analyst", help="Who runs it (default analyst).")
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="Date the outcomes are judged at, YYYY-MM-DD (default today).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if Evaluation.objects.filter(status=EvaluationStatus.DONE).exists():
            self.stdout.write("An evaluation has already been run; nothing to do.")
            return
        ensure_personas()
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}; run seed_demo_users first")
        actor = actor_for_user(user)
        evaluation = services.request_evaluation(
            actor=actor,
            title="The IOM scheme: every registration against a matched comparison group",
            kind=EvaluationKind.DATABASE,
            spec=services.database_spec(covariates=list(DEFAULT_COVARIATES), label="IOM cohort"),
            selection=TreatmentSelection(label="IOM cohort"),
            as_of=options["as_of"] or timezone.localdate(),
        )
        evaluation = services.run_evaluation(evaluation, actor=actor)
        result = evaluation.result
        if evaluation.status != EvaluationStatus.DONE or result is None:
            raise CommandError(f"The demo evaluation failed: {evaluation.error}")
        self.stdout.write(f"Evaluation {evaluation.pk}: {result['headline']}")
