"""In a real browser with axe-core: a coordinator runs scoring, reads the list, an explanation
and the disproportionality check; an analyst audits a score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openiom.scoring.models import ScoringRun
from tests.browser.conftest import Console, check_accessibility
from tests.browser.test_journeys import sign_in, sign_out
from tests.scoring_web.conftest import AS_OF, IMMEDIATE, build_area

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_coordinator_scores_and_analyst_audits(
    live_server: Any,
    browser: Any,
    personas: Any,
    password: str,
    make_person: Any,
    offence_code: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.TASKS = IMMEDIATE
    build_area(make_person, offence_code, n=8)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = Console(page)

    sign_in(page, base, "coordinator", password)
    page.goto(f"{base}/scoring/")
    check_accessibility(page, "scoring index")
    page.get_by_role("link", name="Run scoring now").click()
    page.wait_for_load_state()
    check_accessibility(page, "run scoring form")
    options = page.locator("#id_policy option").all_inner_texts()
    free = next(o for o in options if o.lower().startswith("free"))
    page.get_by_label("Scoring policy").select_option(label=free)
    page.get_by_label("Date to score as of").fill(AS_OF.strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Run scoring").click()
    page.wait_for_load_state()
    run = ScoringRun.objects.get()
    assert page.url == f"{base}/scoring/runs/{run.pk}/"
    assert "This list is an indicator only" in page.content()
    check_accessibility(page, "candidate list")

    page.get_by_role("link", name="Score", exact=True).click()
    page.wait_for_load_state()
    check_accessibility(page, "candidate list sorted")
    page.get_by_label("Flag").select_option("none")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    check_accessibility(page, "candidate list filtered")

    page.goto(f"{base}/scoring/runs/{run.pk}/")
    page.get_by_role("link", name="Why ranked 1").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="ranked 1st?").is_visible()
    check_accessibility(page, "explanation")

    page.goto(f"{base}/scoring/runs/{run.pk}/")
    page.get_by_role("link", name="Check this run for disproportionality").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Ethnicity (self-defined)").is_visible()
    check_accessibility(page, "run disproportionality")

    page.goto(f"{base}/scoring/policies/")
    check_accessibility(page, "rule sets")
    page.locator("a[href*='/scoring/policies/harm/']").first.click()
    page.wait_for_load_state()
    check_accessibility(page, "harm table")
    sign_out(page)

    sign_in(page, base, "analyst", password)
    page.goto(f"{base}/scrutiny/score-audit")
    check_accessibility(page, "score audit form")
    page.get_by_role("button", name="Audit the score").click()
    page.wait_for_load_state()
    assert "There is a problem" in page.content()
    check_accessibility(page, "score audit errors")
    upload = tmp_path / "scores.csv"
    rows = [(i % 9, int(i % 3 == 0 or i % 9 > 6), "AB"[i % 2]) for i in range(40)]
    upload.write_text("risk,reoffended,group\n" + "".join(f"{s},{y},{g}\n" for s, y, g in rows))
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_label("Score column").fill("risk")
    page.get_by_label("Outcome column").fill("reoffended")
    page.get_by_label("Threshold").fill("5")
    page.get_by_label("Group column (optional)").fill("group")
    page.get_by_role("button", name="Audit the score").click()
    page.wait_for_load_state()
    assert page.get_by_role("img", name="ROC curve").is_visible()
    check_accessibility(page, "score audit results")
    sign_out(page)
    context.close()
    unexpected = [e for e in console.errors if not e.startswith("400 ") and "of 400" not in e]
    assert unexpected == []
