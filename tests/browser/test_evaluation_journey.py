"""Impact evaluation in a real browser, with axe-core on every page visited:

an analyst signs in → opens the board dashboard → starts an evaluation by uploading a small
table (first with a mistake, then correctly) → reads the report → downloads the PDF, whose text
holds the headline → downloads a CSV table.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from openiom.evaluation.models import Evaluation, EvaluationStatus
from tests.browser.conftest import Console, check_accessibility
from tests.browser.test_journeys import sign_in, sign_out
from tests.evaluation.test_dashboard import _rag, _register
from tests.evaluation.test_services import small_table

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_analyst_evaluates_an_uploaded_table(
    live_server: Any,
    browser: Any,
    personas: Any,
    password: str,
    make_person: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.TASKS = IMMEDIATE
    worker = personas["probation.om"]
    today = dt.date.today()
    first = _register(make_person(), "fixed", today - dt.timedelta(days=200), None, worker)
    _rag(first, "amber", today - dt.timedelta(days=200), worker)
    _register(make_person(), "flex", today - dt.timedelta(days=40), None, worker)
    upload = tmp_path / "mentoring.csv"
    small_table().write_csv(upload)

    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    console = Console(page)
    sign_in(page, base, "analyst", password)

    page.get_by_role("link", name="Evaluation", exact=True).click()
    page.wait_for_load_state()
    check_accessibility(page, "evaluation list")
    page.get_by_role("link", name="Board dashboard: the cohort over time").click()
    page.wait_for_load_state()
    assert page.get_by_role("img", name="Cohort size by scheme").is_visible()
    assert "tracking, not impact" in page.content()
    check_accessibility(page, "board dashboard")

    page.goto(f"{base}/evaluation/")
    page.get_by_role("link", name="Mechanisms: how much IOM each person received").click()
    page.wait_for_load_state()
    assert "Descriptive, not causal" in page.content()
    check_accessibility(page, "mechanisms")

    page.goto(f"{base}/evaluation/")
    page.get_by_role("button", name="Start a new evaluation").click()
    page.wait_for_load_state()
    check_accessibility(page, "choose the data")
    page.get_by_role("link", name="Evaluate an uploaded table").click()
    page.wait_for_load_state()
    check_accessibility(page, "upload form")

    page.get_by_label("Title").fill("Mentoring 2024")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_label("Treatment column").fill("treated")
    page.get_by_label("Outcome column").fill("reoffended")
    page.get_by_label("Covariate columns").fill("age, male, priors")
    page.get_by_role("button", name="Upload and run the evaluation").click()
    page.wait_for_load_state()
    assert "There is a problem" in page.content()
    assert "The table has no column called 'priors'" in page.content()
    check_accessibility(page, "upload form with errors")

    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_label("Covariate columns").fill("age, male, previous")
    page.get_by_label("Days to first reoffence column (optional)").fill("days")
    page.get_by_label("Reoffence event column (optional)").fill("event")
    page.get_by_label("Number of reoffences column (optional)").fill("reoffences")
    page.get_by_role("button", name="Upload and run the evaluation").click()
    page.wait_for_load_state()
    evaluation = Evaluation.objects.get()
    assert evaluation.status == EvaluationStatus.DONE, evaluation.error
    assert page.url == f"{base}/evaluation/{evaluation.pk}/"
    assert page.get_by_role("heading", name="Summary per 100 people").is_visible()
    assert page.get_by_role(
        "img", name="Love plot: standardised mean differences before and after matching"
    ).is_visible()
    check_accessibility(page, "evaluation report")

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download the report (PDF)").click()
    pdf = Path(pdf_download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
    assert evaluation.result is not None
    first_estimate = evaluation.result["estimates"][0]
    treated_per_100 = f"{100 * first_estimate['treated']:.1f}".removesuffix(".0")
    assert treated_per_100 in " ".join(text.split())

    page.get_by_text("Download a table as CSV").click()
    with page.expect_download() as csv_download:
        page.get_by_role(
            "link", name="Balance of each characteristic before and after matching (CSV)"
        ).click()
    rows = Path(csv_download.value.path()).read_text().splitlines()
    assert rows[0].startswith("Characteristic,Type") and len(rows) == 4

    sign_out(page)
    context.close()
    unexpected = [e for e in console.errors if not e.startswith("400 ") and "of 400" not in e]
    assert unexpected == []
