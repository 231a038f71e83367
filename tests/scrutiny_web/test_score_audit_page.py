"""The score-audit page: results match a hand count, hostile uploads get clear errors."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from openiom.audit.models import AuditEvent
from tests.web.helpers import assert_csp_safe, html

# Positives score 3, 4, 5; negatives 1, 2, 4. Pairs won: 2 + 2.5 (a tie) + 3 = 7.5 of 9.
ROWS = [(3, 1, "A"), (4, 1, "B"), (5, 1, "A"), (1, 0, "B"), (2, 0, "A"), (4, 0, "B")]
CSV = "risk,reoffended,group\n" + "".join(f"{s},{y},{g}\n" for s, y, g in ROWS)


def post(client: Any, content: bytes, name: str = "scores.csv", **fields: str) -> Any:
    data = {
        "file": SimpleUploadedFile(name, content),
        "score": "risk",
        "outcome": "reoffended",
        "threshold": "4",
        "group": "group",
        "probability": "auto",
    } | fields
    return client.post(reverse("scrutiny:score_audit"), data)


def test_form_page(client_for: Any, db: Any) -> None:
    body = assert_csp_safe(client_for("analyst").get(reverse("scrutiny:score_audit")))
    assert "Your file is not stored" in body
    assert 'enctype="multipart/form-data"' in body


def test_audit_of_a_small_csv(client_for: Any, db: Any) -> None:
    response = post(client_for("analyst"), CSV.encode())
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert f"{7.5 / 9:.3f}" in body  # 0.833
    assert body.count('role="img"') == 2
    assert "Calibration table" in body and "Error rates by group" in body
    assert ">A *</th>" in body and ">B *</th>" in body  # 3 people each: too few
    event = AuditEvent.objects.get(event_type="scrutiny.score_audited")
    assert event.details["file_sha256"] == hashlib.sha256(CSV.encode()).hexdigest()
    assert event.details["result"] == "audited"
    assert "reoffended,group" not in str(event.details)  # not the contents


def test_audit_of_parquet_with_a_benchmark(client_for: Any, db: Any) -> None:
    rows = [(i % 7, int(i % 3 == 0), "AB"[i % 2], i % 5) for i in range(60)]
    frame = pl.DataFrame(rows, schema=["risk", "reoffended", "group", "priors"], orient="row")
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    response = post(
        client_for("analyst"), buffer.getvalue(), name="scores.parquet", predictors="priors"
    )
    body = assert_csp_safe(response)
    assert "Transparent benchmark" in body and "priors" in body and "Coefficients" in body


@pytest.mark.parametrize(
    ("content", "name", "fields", "message"),
    [
        (CSV.encode(), "scores.csv", {"score": "score"}, "Missing column(s): score"),
        (
            b"risk,reoffended,group\n1,maybe,A\n2,0,B\n",
            "scores.csv",
            {},
            "Outcome column &#x27;reoffended&#x27; must be binary",
        ),
        (b"\x00\x01\x02\xff\xfe junk \x00", "scores.csv", {}, "does not look like a CSV file"),
        (b"PAR1 not really", "scores.parquet", {}, "could not be read as parquet"),
        (b"", "scores.csv", {}, "The selected file is empty"),
        (b"risk,reoffended\n", "scores.csv", {"group": ""}, "The table has no rows"),
        (CSV.encode(), "scores.xlsx", {}, "must be a CSV or Parquet file"),
        (CSV.encode(), "scores.csv", {"threshold": "high"}, "Threshold must be a number"),
        (
            b"risk,reoffended,group\n1,1,A\n2,1,B\n",
            "scores.csv",
            {},
            "Every row has outcome 1",
        ),
    ],
)
def test_hostile_uploads_get_clear_errors(
    client_for: Any, db: Any, content: bytes, name: str, fields: dict[str, str], message: str
) -> None:
    response = post(client_for("analyst"), content, name=name, **fields)
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert "There is a problem" in body
    assert message in body, body.split("There is a problem")[1][:800]
    assert "Traceback" not in body
    assert "\x00" not in body


def test_refused(client_for: Any, db: Any) -> None:
    client = client_for("police.officer")
    assert client.get(reverse("scrutiny:score_audit")).status_code == 403
    assert post(client, CSV.encode()).status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 2
    assert not AuditEvent.objects.filter(event_type="scrutiny.score_audited").exists()


def test_refused_uploads_are_audited_too(client_for: Any, db: Any) -> None:
    post(client_for("coordinator"), b"\x00junk", name="x.csv")
    event = AuditEvent.objects.get(event_type="scrutiny.score_audited")
    assert event.details["result"] == "refused"
    assert event.details["file_sha256"] == hashlib.sha256(b"\x00junk").hexdigest()
    assert html  # imported helper used elsewhere
