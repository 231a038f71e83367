"""Publishing versions, running and storing scores, selectors, command and task (database)."""

from __future__ import annotations

import copy
import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import CustodyEpisode
from openiom.scoring import defaults, engine, selectors
from openiom.scoring.models import (
    CandidateScore,
    CrimeHarmTable,
    RunStatus,
    ScoringPolicy,
    ScoringRun,
    UnitCostTable,
)
from openiom.scoring.services import publish_policy_version, run_scoring
from openiom.scoring.tasks import score_area_task
from openiom.scoring.validation import PolicyConfigError

AS_OF = dt.date(2025, 1, 1)
FIXED = defaults.POLICY_KEYS["fixed"]


@pytest.fixture
def area(make_person: Any, offence_code: Any) -> list[Any]:
    """Four people with different offending, arrests, intelligence and custody."""
    people = [make_person(date_of_birth=dt.date(1990 + i, 3, 1)) for i in range(4)]
    burglary, assault = offence_code("028/01"), offence_code("105/01")
    for i, person in enumerate(people):
        for k in range(i * 2 + 1):
            Offence.objects.create(
                person=person,
                offence_code=burglary if k % 2 == 0 else assault,
                offence_date=AS_OF - dt.timedelta(days=20 + 40 * k),
                disposal_type="community_order",
                disposal_date=AS_OF - dt.timedelta(days=10 + 40 * k),
            )
        Arrest.objects.create(
            person=person, arrest_date=AS_OF - dt.timedelta(days=5 + i), outcome="charged"
        )
    IntelligenceItem.objects.create(
        person=people[1],
        recorded_date=AS_OF - dt.timedelta(days=7),
        source_grade="1",
        intelligence_grade="A",
        handling_code="P",
        text="Seen with stolen goods.",
    )
    CustodyEpisode.objects.create(
        person=people[3],
        custody_type="sentenced",
        received_date=AS_OF - dt.timedelta(days=3),
        sentence_length_days=2000,
        expected_release_date=AS_OF + dt.timedelta(days=900),
    )
    return people


def _policy() -> ScoringPolicy:
    return ScoringPolicy.objects.get(key=FIXED, version=1)


def test_shipped_defaults_exist_with_sources(db: Any) -> None:
    for key in defaults.POLICY_KEYS.values():
        policy = ScoringPolicy.objects.get(key=key, version=1)
        assert "[U]" in policy.source
    harm = CrimeHarmTable.objects.get(key=defaults.HARM_KEY, version=1)
    assert harm.config["groups"]["034"] == {
        "days": 365.0,
        "status": "V2",
        "source": harm.config["groups"]["034"]["source"],
    }
    cost = UnitCostTable.objects.get(key=defaults.COST_KEY, version=1)
    assert cost.config["price_year"] == "2015/16"
    assert all(r["status"] in {"V2", "U"} for r in cost.config["categories"].values())


def test_publish_creates_next_version_and_audits(actor: Any) -> None:
    analyst = actor("analyst")
    config = copy.deepcopy(_policy().config)
    config["components"]["risk"]["weight"] = 40.0
    new = publish_policy_version(
        actor=analyst,
        model=ScoringPolicy,
        key=FIXED,
        config=config,
        effective_from=AS_OF,
        source="Panel decision [U]",
        change_note="Weight risk more.",
    )
    assert new.version == 2
    assert (
        _policy().config["components"]["risk"]["weight"]
        == defaults.policy_config("fixed")["components"]["risk"]["weight"]
    )
    event = AuditEvent.objects.get(event_type="scoring.policy_published")
    assert event.category == "alteration"
    assert event.after is not None
    assert event.after["config"]["components"]["risk"]["weight"] == 40.0
    with pytest.raises(PermissionError):
        new.save()


def test_publish_refuses_bad_config_with_every_error(actor: Any) -> None:
    config = copy.deepcopy(_policy().config)
    config["components"]["recency"]["half_life_days"] = 0
    config["components"]["frequency"]["windows"][0]["cap"] = "lots"
    config["eligibility"]["exclude_flags"] = ["vip"]
    with pytest.raises(PolicyConfigError) as err:
        publish_policy_version(
            actor=actor("coordinator"),
            model=ScoringPolicy,
            key=FIXED,
            config=config,
            effective_from=AS_OF,
            source="x",
            change_note="y",
        )
    text = str(err.value)
    assert "config.components.recency.half_life_days: must be greater than 0" in text
    assert "config.components.frequency.windows[0].cap: must be a number" in text
    assert "config.eligibility.exclude_flags" in text
    assert ScoringPolicy.objects.filter(key=FIXED).count() == 1


def test_publish_harm_table_needs_row_sources(actor: Any) -> None:
    harm = copy.deepcopy(CrimeHarmTable.objects.get(key=defaults.HARM_KEY).config)
    harm["categories"]["Robbery"] = {"days": 400}
    with pytest.raises(PolicyConfigError, match=r"config.categories\['Robbery'\].status"):
        publish_policy_version(
            actor=actor("analyst"),
            model=CrimeHarmTable,
            key=defaults.HARM_KEY,
            config=harm,
            effective_from=AS_OF,
            source="x",
            change_note="y",
        )


@pytest.mark.parametrize("username", ["probation.om", "housing.worker", "dpo", "admin"])
def test_only_coordinators_and_analysts_publish(actor: Any, username: str) -> None:
    with pytest.raises(AccessDenied):
        publish_policy_version(
            actor=actor(username),
            model=ScoringPolicy,
            key=FIXED,
            config=_policy().config,
            effective_from=AS_OF,
            source="x",
            change_note="y",
        )
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 1
    assert ScoringPolicy.objects.filter(key=FIXED).count() == 1


def test_run_scoring_stores_ranked_candidates(actor: Any, area: list[Any]) -> None:
    progress: list[int] = []
    run = run_scoring(
        actor=actor("analyst"),
        policy=_policy(),
        as_of=AS_OF,
        progress=lambda pct, note: progress.append(pct),
    )
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and run.progress == 100
    assert progress == sorted(progress) and progress[-1] == 100
    assert len(run.input_fingerprint) == 64
    assert run.people_scored >= len(area)
    stored = list(CandidateScore.objects.filter(run=run).order_by("rank"))
    assert [c.rank for c in stored] == sorted(c.rank for c in stored)
    totals = [c.total for c in stored]
    assert totals == sorted(totals, reverse=True)
    by_person = {c.person_id: c for c in stored}
    assert "long_custody" in by_person[area[3].pk].flags
    assert not by_person[area[3].pk].eligible
    # The most prolific person (area[2]) outranks the least (area[0]).
    assert by_person[area[2].pk].rank < by_person[area[0].pk].rank
    event = AuditEvent.objects.get(event_type="scoring.run")
    assert event.category == "combination"
    assert event.details["input_fingerprint"] == run.input_fingerprint


def test_rerunning_an_old_version_gives_the_identical_list(actor: Any, area: list[Any]) -> None:
    analyst = actor("analyst")
    first = run_scoring(actor=analyst, policy=_policy(), as_of=AS_OF)
    before = list(
        CandidateScore.objects.filter(run=first)
        .order_by("rank")
        .values_list("person_id", "rank", "total", "breakdown", "components")
    )
    config = copy.deepcopy(_policy().config)
    config["components"]["frequency"]["windows"][0]["offence_points"] = 10.0
    v2 = publish_policy_version(
        actor=analyst,
        model=ScoringPolicy,
        key=FIXED,
        config=config,
        effective_from=AS_OF,
        source="test [U]",
        change_note="more weight",
    )
    assert isinstance(v2, ScoringPolicy)
    changed = run_scoring(actor=analyst, policy=v2, as_of=AS_OF)
    again = run_scoring(actor=analyst, policy=_policy(), as_of=AS_OF)
    after_again = list(
        CandidateScore.objects.filter(run=again)
        .order_by("rank")
        .values_list("person_id", "rank", "total", "breakdown", "components")
    )
    assert after_again == before
    assert again.input_fingerprint == first.input_fingerprint
    # Stored runs are untouched by the new version, and the new version does score differently.
    assert (
        list(
            CandidateScore.objects.filter(run=first)
            .order_by("rank")
            .values_list("person_id", "rank", "total", "breakdown", "components")
        )
        == before
    )
    assert list(CandidateScore.objects.filter(run=changed).values_list("total", flat=True)) != [
        b[2] for b in before
    ]
    with pytest.raises(PermissionError):
        CandidateScore.objects.filter(run=first).update(total=0)
    with pytest.raises(PermissionError):
        CandidateScore.objects.filter(run=first).delete()


def test_partner_cannot_run_scoring(actor: Any, area: list[Any]) -> None:
    with pytest.raises(AccessDenied):
        run_scoring(actor=actor("housing.worker"), policy=_policy(), as_of=AS_OF)
    assert not ScoringRun.objects.exists()
    assert AuditEvent.objects.filter(event_type="access.denied").exists()


def test_selectors_filter_sort_and_explain(actor: Any, area: list[Any]) -> None:
    run = run_scoring(actor=actor("coordinator"), policy=_policy(), as_of=AS_OF)
    everyone = list(selectors.candidates(run=run))
    assert [c.rank for c in everyone] == sorted(c.rank for c in everyone)
    flagged = list(selectors.candidates(run=run, flags=["long_custody"]))
    assert [c.person_id for c in flagged] == [area[3].pk]
    assert area[3].pk not in [
        c.person_id for c in selectors.candidates(run=run, exclude_flags=["long_custody"])
    ]
    threshold = everyone[1].total
    assert all(c.total >= threshold for c in selectors.candidates(run=run, min_score=threshold))
    assert all(c.eligible for c in selectors.candidates(run=run, eligible_only=True))
    assert list(selectors.candidates(run=run, hub="nowhere")) == []
    by_total = [c.total for c in selectors.candidates(run=run, sort="total")]
    assert by_total == sorted(by_total)
    with pytest.raises(selectors.SelectorError):
        selectors.candidates(run=run, sort="shoe size")
    explanation = selectors.explain(person=area[2], run=run)
    assert explanation is not None
    stored = CandidateScore.objects.get(run=run, person=area[2])
    assert explanation.breakdown == stored.breakdown
    points = [c["points"] for c in explanation.components.values()]
    assert points == sorted(points, reverse=True)
    assert explanation.total == pytest.approx(sum(points))
    assert selectors.latest_run(policy_key=FIXED) == run


def test_db_loader_matches_file_loader(area: list[Any], tmp_path: Any) -> None:
    from_db = engine.load_frames_from_db(AS_OF)
    for name in ("people", "offences", "arrests", "intelligence", "custody"):
        getattr(from_db, name).write_parquet(tmp_path / f"{name}.parquet")
    from_files = engine.load_frames_from_files(tmp_path)
    cfg, harm, cost = _policy().config, defaults.HARM_TABLE, defaults.COST_TABLE
    a = engine.score(from_db, cfg, AS_OF, harm=harm, costs=cost)
    b = engine.score(from_files, cfg, AS_OF, harm=harm, costs=cost)
    assert a.select("person_id", "total", "breakdown").equals(
        b.select("person_id", "total", "breakdown")
    )
    assert from_db.offences.height == Offence.objects.count()


def test_command_and_task(area: list[Any]) -> None:
    out = StringIO()
    call_command("score_area", "--policy", FIXED, "--as-of", AS_OF.isoformat(), stdout=out)
    run = ScoringRun.objects.get()
    assert f"Run {run.pk}" in out.getvalue() and run.trigger == "command"
    with pytest.raises(Exception, match="not a date"):
        call_command("score_area", "--as-of", "next tuesday")
    with pytest.raises(Exception, match="No scoring policy"):
        call_command("score_area", "--policy", "nope", "--as-of", AS_OF.isoformat())
    run_id = score_area_task.call(policy_key=FIXED)
    weekly = ScoringRun.objects.get(pk=run_id)
    assert weekly.trigger == "weekly" and weekly.status == RunStatus.FINISHED
    assert CandidateScore.objects.filter(run=weekly).count() == weekly.candidates_stored > 0
