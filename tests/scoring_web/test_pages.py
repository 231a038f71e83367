"""Scoring pages: candidate lists, explanations, running scoring, rule sets; permission and audit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.partnership.models import Hub
from openiom.scoring.models import (
    CandidateScore,
    CrimeHarmTable,
    RunStatus,
    ScoringPolicy,
    ScoringRun,
)
from openiom.scoring.services import create_run
from tests.scoring_web.conftest import AS_OF, FREE
from tests.web.helpers import assert_csp_safe, html

REFUSED = ["police.officer", "probation.om", "housing.worker", "vcs.mentor", "dpo", "admin"]


def ranks_in(body: str) -> list[int]:
    table = body.split('id="candidates"')[1].split("</table>")[0]
    return [
        int(r) for r in re.findall(r"<tr class=\"govuk-table__row\">\s*<td[^>]*>(\d+)</td>", table)
    ]


@pytest.mark.parametrize("username", ["coordinator", "analyst"])
def test_candidate_list_is_shown_and_audited(
    client_for: Any, run: ScoringRun, username: str
) -> None:
    response = client_for(username).get(reverse("scoring:run", args=[run.pk]))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert (
        "This list is an indicator only. It needs professional judgement before anyone is referred."
        in body
    )
    stored = list(CandidateScore.objects.filter(run=run).order_by("rank"))
    assert ranks_in(body) == [c.rank for c in stored]
    for c in stored:
        assert reverse("scoring:explanation", args=[run.pk, c.person_id]) in body
        assert reverse("people:detail", args=[c.person_id]) in body
    assert run.input_fingerprint in body
    assert 'aria-sort="ascending"' in body  # rank, the default sort
    event = AuditEvent.objects.get(event_type="scoring.candidates_consulted")
    assert event.category == "consultation"
    assert event.actor_username == username
    assert event.details["person_ids"] == [c.person_id for c in stored]
    assert "Long custody" in body and "Not eligible" in body


def test_index_lists_the_latest_run_per_policy(client_for: Any, run: ScoringRun) -> None:
    response = client_for("coordinator").get(reverse("scoring:index"))
    body = assert_csp_safe(response)
    assert reverse("scoring:run", args=[run.pk]) in body
    assert "Run scoring now" in body
    body = html(client_for("coordinator").get(reverse("scoring:index"), {"strand": "fixed"}))
    assert "Run 1</a>" not in body.split("runs-heading")[1]


@pytest.mark.parametrize("username", REFUSED)
def test_refused_personas_get_403_and_the_refusal_is_audited(
    client_for: Any, run: ScoringRun, username: str
) -> None:
    client = client_for(username)
    person_id = run.candidates.first().person_id
    urls = [
        reverse("scoring:index"),
        reverse("scoring:run", args=[run.pk]),
        reverse("scoring:explanation", args=[run.pk, person_id]),
        reverse("scoring:run_new"),
        reverse("scoring:publish", args=["policy", FREE]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
    assert AuditEvent.objects.filter(event_type="access.denied").count() == len(urls)
    assert (
        not AuditEvent.objects.filter(event_type__startswith="scoring.")
        .exclude(event_type="scoring.run")
        .exists()
    )
    assert client.post(reverse("scoring:run_new"), {"policy": run.policy_id}).status_code == 403


def test_sorting_by_score_and_aria_sort(client_for: Any, run: ScoringRun) -> None:
    client = client_for("analyst")
    body = html(client.get(reverse("scoring:run", args=[run.pk]), {"sort": "total"}))
    stored = list(CandidateScore.objects.filter(run=run).order_by("total", "-rank"))
    assert ranks_in(body) == [c.rank for c in stored]
    header = re.search(r'<th[^>]*aria-sort="(\w+)"[^>]*><a[^>]*>Score</a>', body)
    assert header is not None and header.group(1) == "ascending"
    # The Score header now links to the opposite order.
    assert "sort=-total" in body
    body = html(client.get(reverse("scoring:run", args=[run.pk]), {"sort": "surname"}))
    names = [c.person.surname for c in CandidateScore.objects.filter(run=run)]
    assert ranks_in(body) == [
        c.rank for c in sorted(run.candidates.all(), key=lambda c: (c.person.surname, c.rank))
    ]
    assert len(names) == len(ranks_in(body))


def test_filters(client_for: Any, run: ScoringRun, area: list[Any]) -> None:
    client = client_for("coordinator")
    url = reverse("scoring:run", args=[run.pk])
    custody = CandidateScore.objects.get(run=run, person=area[-1])
    assert "long_custody" in custody.flags
    body = html(client.get(url, {"flag": "long_custody"}))
    assert ranks_in(body) == [custody.rank]
    body = html(client.get(url, {"flag": "none"}))
    assert custody.rank not in ranks_in(body)
    body = html(client.get(url, {"eligible": "on"}))
    assert ranks_in(body) == [c.rank for c in run.candidates.filter(eligible=True)]
    top = run.candidates.order_by("rank").first()
    body = html(client.get(url, {"min_score": str(top.total)}))
    assert ranks_in(body) == [top.rank]
    assert "Clear filters" in body
    # Hub: nobody is in the south hub.
    assert Hub.objects.filter(code="south").exists()
    body = html(client.get(url, {"hub": "south"}))
    assert "0 candidates match the filters" in body
    response = client.get(url, {"min_score": "lots"})
    assert response.status_code == 400
    assert "Minimum score must be a number" in html(response)


def test_explanation_matches_the_stored_breakdown(client_for: Any, run: ScoringRun) -> None:
    third = CandidateScore.objects.get(run=run, rank=3)
    response = client_for("coordinator").get(
        reverse("scoring:explanation", args=[run.pk, third.person_id])
    )
    body = assert_csp_safe(response)
    person = third.person
    assert f"Why is {person.first_names} {person.surname.upper()} ranked 3rd?" in body
    for part in third.breakdown.split(";"):
        assert part.strip().replace("'", "&#x27;") in body
    table = body.split('id="components"')[1].split("</table>")[0]
    for name, component in third.components.items():
        points = f"{float(component['points']):.4f}".rstrip("0").rstrip(".")
        assert f">{points}</td>" in table, name
    assert f"{run.policy.name} version {run.policy.version}" in body
    assert run.input_fingerprint in body
    event = AuditEvent.objects.get(event_type="scoring.explanation_consulted")
    assert event.person_id == third.person_id and event.category == "consultation"
    assert "ranked 3" in event.summary


def test_explanation_of_someone_not_in_the_run_is_404(client_for: Any, run: ScoringRun) -> None:
    response = client_for("coordinator").get(reverse("scoring:explanation", args=[run.pk, 999999]))
    assert response.status_code == 404


def test_run_on_demand_with_the_immediate_backend(
    client_for: Any, area: list[Any], immediate_tasks: None
) -> None:
    client = client_for("analyst")
    form = client.get(reverse("scoring:run_new"))
    assert_csp_safe(form)
    policy = ScoringPolicy.objects.get(key=FREE, version=1)
    response = client.post(
        reverse("scoring:run_new"), {"policy": policy.pk, "as_of": AS_OF.strftime("%d/%m/%Y")}
    )
    assert response.status_code == 302
    run = ScoringRun.objects.get()
    assert response["Location"] == reverse("scoring:run", args=[run.pk])
    assert run.status == RunStatus.FINISHED and run.requested_by is not None
    body = html(client.get(response["Location"]))
    assert ranks_in(body) == list(range(1, run.candidates_stored + 1))
    assert AuditEvent.objects.filter(event_type="scoring.run", object_id=str(run.pk)).exists()


def test_run_form_errors(client_for: Any, area: list[Any], immediate_tasks: None) -> None:
    client = client_for("coordinator")
    response = client.post(reverse("scoring:run_new"), {"policy": "", "as_of": "31/02/2025"})
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert "Select a scoring policy" in body
    assert "must be a real date" in body
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    policy = ScoringPolicy.objects.get(key=FREE, version=1)
    response = client.post(
        reverse("scoring:run_new"), {"policy": policy.pk, "as_of": tomorrow.strftime("%d/%m/%Y")}
    )
    assert "must be today or in the past" in html(response)
    assert not ScoringRun.objects.exists()


def test_progress_page_refreshes_until_finished_and_shows_failure(
    client_for: Any, actor: Any, area: list[Any]
) -> None:
    policy = ScoringPolicy.objects.get(key=FREE, version=1)
    run = create_run(actor=actor("coordinator"), policy=policy, as_of=AS_OF)
    client = client_for("coordinator")
    response = client.get(reverse("scoring:run", args=[run.pk]))
    body = assert_csp_safe(response)
    assert response["Refresh"] == "5"
    assert "<meta" not in body.split("<body")[1]
    assert "0% complete" in body and "Stop refreshing" in body
    response = client.get(reverse("scoring:run", args=[run.pk]), {"refresh": "off"})
    assert "Refresh" not in response
    ScoringRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error="ScoringError: no")
    response = client.get(reverse("scoring:run", args=[run.pk]))
    body = assert_csp_safe(response)
    assert "The scoring run failed" in body and "ScoringError: no" in body
    assert "Refresh" not in response


def test_policy_pages_show_versions_sources_and_status(client_for: Any, db: Any) -> None:
    client = client_for("probation.om")  # rule sets are policy: anyone with a role may read them
    body = assert_csp_safe(client.get(reverse("scoring:policies")))
    assert "[U]" in body
    body = assert_csp_safe(client.get(reverse("scoring:policy", args=["harm", "crime-harm-index"])))
    assert "[V2]" in body and "Robbery" in body and "365" in body
    body = assert_csp_safe(client.get(reverse("scoring:policy", args=["policy", FREE])))
    assert "In force" in body and "Publish a new version" not in body
    assert client.get(reverse("scoring:policy", args=["nope", FREE])).status_code == 404


def test_publish_a_policy_version_never_changes_stored_runs(
    client_for: Any, run: ScoringRun
) -> None:
    client = client_for("coordinator")
    url = reverse("scoring:publish", args=["policy", FREE])
    assert_csp_safe(client.get(url))
    policy = run.policy
    data: dict[str, Any] = {
        "effective_from": "1/2/2025",
        "source": "Partnership board decision 12/2024 [U]",
        "change_note": "More weight on recency",
        "harm_table": f"{policy.config['harm_table']['key']}:1",
        "cost_table": f"{policy.config['cost_table']['key']}:1",
    }
    from openiom.scoring.forms import POLICY_FIELDS, field_name, get_path

    for path, _label, _integer in POLICY_FIELDS:
        data[field_name(path)] = get_path(policy.config, path)
    data[field_name("components.recency.weight")] = "30"
    response = client.post(url, data)
    assert response.status_code == 302, html(response)[-2000:]
    new = ScoringPolicy.objects.get(key=FREE, version=2)
    assert new.config["components"]["recency"]["weight"] == 30
    run.refresh_from_db()
    assert run.policy.version == 1 and run.policy.config["components"]["recency"]["weight"] == 20
    event = AuditEvent.objects.get(event_type="scoring.policy_published")
    assert event.actor_username == "coordinator"
    diff = html(client.get(reverse("scoring:policy_diff", args=["policy", FREE])))
    assert "components.recency.weight" in diff and "1 setting changed" in diff


def test_publish_errors_are_specific(client_for: Any, db: Any) -> None:
    client = client_for("analyst")
    url = reverse("scoring:publish", args=["harm", "crime-harm-index"])
    response = client.post(
        url, {"effective_from": "", "source": "", "change_note": "x", "config": "{"}
    )
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert "Enter the date the new version applies from" in body
    assert "The table is not valid JSON" in body
    bad = '{"default": {"days": -1, "status": "Q", "source": ""}, "categories": {}}'
    response = client.post(
        url, {"effective_from": "1/1/2025", "source": "x [U]", "change_note": "x", "config": bad}
    )
    body = html(response)
    assert response.status_code == 400
    assert "config.default.status: must be one of V, V2, U" in body
    assert "config.default.days: must be at least 0" in body
    assert CrimeHarmTable.objects.filter(key="crime-harm-index").count() == 1
