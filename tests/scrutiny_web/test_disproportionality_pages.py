"""Disproportionality pages and API: the figures are the module's, checked by hand."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from openiom.audit.models import AuditEvent
from openiom.scoring.models import CandidateScore, RunStatus, ScoringPolicy, ScoringRun
from openiom.scrutiny.disproportionality import DisproportionalityConfig, disproportionality
from openiom.scrutiny.selectors import cohort_populations, run_populations
from tests.scoring_web.conftest import FREE
from tests.web.helpers import assert_csp_safe, html

AS_OF = dt.date(2025, 1, 1)


@pytest.fixture
def hand_run(make_person: Any) -> ScoringRun:
    """40 eligible people: 20 White (IC1/W1) and 20 Black (IC3/B1). The top 15 are 10 Black and
    5 White, so the Black:White RRI is (10/20)/(5/20) = 2.0."""
    policy = ScoringPolicy.objects.get(key=FREE, version=1)
    run = ScoringRun.objects.create(
        policy=policy,
        as_of=AS_OF,
        status=RunStatus.FINISHED,
        people_scored=40,
        eligible_count=40,
        candidates_stored=40,
        finished_at=timezone.now(),
        input_fingerprint="f" * 64,
    )
    black = [
        make_person(ethnicity_officer_defined="IC3", ethnicity_self_defined="B1") for _ in range(20)
    ]
    white = [
        make_person(ethnicity_officer_defined="IC1", ethnicity_self_defined="W1") for _ in range(20)
    ]
    order = black[:10] + white[:5] + black[10:] + white[5:]
    for rank, person in enumerate(order, start=1):
        CandidateScore.objects.create(
            run=run,
            person=person,
            rank=rank,
            total=100.0 - rank,
            eligible=True,
            components={},
            breakdown="",
            flags=[],
        )
    return run


def test_run_page_matches_the_module_and_a_hand_count(
    client_for: Any, hand_run: ScoringRun
) -> None:
    response = client_for("coordinator").get(
        reverse("scrutiny:run_disproportionality", args=[hand_run.pk]), {"top": 15}
    )
    assert response.status_code == 200
    body = assert_csp_safe(response)
    # By hand: a=10 of n1=20 Black, c=5 of n2=20 White.
    rri = (10 / 20) / (5 / 20)
    se = math.sqrt(1 / 10 - 1 / 20 + 1 / 5 - 1 / 20)
    low, high = rri * math.exp(-1.959964 * se), rri * math.exp(1.959964 * se)
    assert rri == 2.0 and round(low, 2) == 0.83 and round(high, 1) == 4.8
    assert (
        "Black people were selected at 2.0 times the rate of White people (95% CI 0.83 to 4.8)."
        in body
    )
    assert "2.0 (0.83 to 4.8)" in body
    pops = run_populations(run=hand_run, top_n=15)
    report = disproportionality(
        selected=pops.selected, eligible=pops.eligible, config=DisproportionalityConfig(as_of=AS_OF)
    )
    for dim in report.dimensions:
        for c in dim.categories:
            assert c.sentence.replace("'", "&#x27;") in body
    black = report.dimension("ethnicity_self_defined").categories
    assert next(c for c in black if c.category == "Black").rri == pytest.approx(2.0)
    event = AuditEvent.objects.get(event_type="scrutiny.disproportionality_consulted")
    assert event.details["top_n"] == 15


def test_run_api_matches_the_page(client_for: Any, hand_run: ScoringRun) -> None:
    data = (
        client_for("analyst")
        .get(f"/api/scrutiny/runs/{hand_run.pk}/disproportionality", {"top": 15})
        .json()
    )
    assert data["selected_total"] == 15 and data["eligible_total"] == 40
    dim = next(d for d in data["dimensions"] if d["dimension"] == "ethnicity_officer_defined")
    black = next(c for c in dim["categories"] if c["category"] == "Black")
    assert black["rri"] == pytest.approx(2.0)
    assert black["rri_ci_low"] == pytest.approx(0.8322, abs=1e-3)


def test_bad_top_n_is_an_error(client_for: Any, hand_run: ScoringRun) -> None:
    response = client_for("coordinator").get(
        reverse("scrutiny:run_disproportionality", args=[hand_run.pk]), {"top": "0"}
    )
    assert response.status_code == 400
    assert "Number selected must be 1 or more" in html(response)


def test_scored_run_page(client_for: Any, run: ScoringRun) -> None:
    response = client_for("analyst").get(reverse("scrutiny:run_disproportionality", args=[run.pk]))
    body = assert_csp_safe(response)
    assert "Ethnicity (officer-defined)" in body and "Age band" in body
    assert "Too few to interpret" in body


def test_cohort_page_uses_registered_people(
    client_for: Any, make_person: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [
        make_person(ethnicity_officer_defined="IC1", ethnicity_self_defined="W1") for _ in range(10)
    ]
    people += [
        make_person(ethnicity_officer_defined="IC3", ethnicity_self_defined="B1") for _ in range(10)
    ]
    dead = make_person(current_status="deceased", date_of_death=dt.date(2024, 6, 1))
    registered = {p.pk for p in people[:2] + people[10:16]}
    monkeypatch.setattr(
        "openiom.cohort.selectors.registered_person_ids", lambda *, as_of: registered
    )
    pops = cohort_populations(as_of=dt.date(2025, 1, 1))
    assert dead.pk not in set(pops.eligible["person_id"].to_list())
    assert set(pops.selected["person_id"].to_list()) == registered
    response = client_for("coordinator").get(
        reverse("scrutiny:cohort_disproportionality"), {"as_of": "1/1/2025"}
    )
    body = assert_csp_safe(response)
    # Black 6 of 10, White 2 of 10: RRI 3.0 (too few White selected to interpret).
    assert "3.0 (" in body and "Too few to interpret" in body
    api = (
        client_for("coordinator")
        .get("/api/scrutiny/cohort/disproportionality", {"as_of": "2025-01-01"})
        .json()
    )
    assert api["selected_total"] == 8 and api["eligible_total"] == 20


@pytest.mark.parametrize("username", ["police.officer", "housing.worker", "dpo"])
def test_refused(client_for: Any, hand_run: ScoringRun, username: str) -> None:
    client = client_for(username)
    urls = [
        reverse("scrutiny:run_disproportionality", args=[hand_run.pk]),
        reverse("scrutiny:cohort_disproportionality"),
        f"/api/scrutiny/runs/{hand_run.pk}/disproportionality",
        "/api/scrutiny/cohort/disproportionality",
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert AuditEvent.objects.filter(event_type="access.denied").count() == len(urls)
    assert not AuditEvent.objects.filter(
        event_type="scrutiny.disproportionality_consulted"
    ).exists()


def test_summary_include_renders(hand_run: ScoringRun) -> None:
    from django.template.loader import render_to_string

    pops = run_populations(run=hand_run, top_n=15)
    report = disproportionality(
        selected=pops.selected, eligible=pops.eligible, config=DisproportionalityConfig(as_of=AS_OF)
    )
    text = render_to_string(
        "scrutiny/_disproportionality_summary.html",
        {"disproportionality": report, "disproportionality_url": "/x"},
    )
    assert "Black people were selected at 2.0 times the rate of White people" in text
    assert "style=" not in text
