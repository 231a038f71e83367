"""Background evaluations (django-tasks): the page asks, a worker runs, progress is saved."""

from __future__ import annotations

from django_tasks import task

from openiom.evaluation.models import Evaluation, EvaluationStatus
from openiom.evaluation.services import run_evaluation


@task()
def run_evaluation_task(evaluation_id: int) -> int:
    """Run one queued evaluation as the person who asked for it (or the system)."""
    evaluation = Evaluation.objects.select_related("input_table", "requested_by").get(
        pk=evaluation_id
    )
    if evaluation.status != EvaluationStatus.QUEUED:
        return evaluation.pk  # already run (a retried task): nothing to do
    actor = None
    if evaluation.requested_by is not None:
        from openiom.accounts.actor import actor_for_user

        actor = actor_for_user(evaluation.requested_by)
    run_evaluation(evaluation, actor=actor)
    return evaluation.pk


def enqueue_evaluation(evaluation: Evaluation) -> None:
    """Queue the run of an evaluation that `services.request_evaluation` stored."""
    run_evaluation_task.enqueue(evaluation_id=evaluation.pk)
