"""Every persona on every caseload page and endpoint; the API uses the same selectors."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openiom.audit.models import AuditEvent
from tests.caseloads.test_caseloads import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

CASEWORKERS = [
    "police.officer",
    "probation.om",
    "coordinator",
    "housing.worker",
    "drug.worker",
    "vcs.mentor",
]
NO_CASELOAD = ["analyst", "dpo", "admin"]
EVERYONE = CASEWORKERS + NO_CASELOAD


@pytest.mark.parametrize("username", EVERYONE)
@pytest.mark.parametrize("scope", ["", "mine", "team", "agency", "cohort"])
def test_caseload_page_for_every_persona_and_scope(
    client_for: Any, username: str, scope: str
) -> None:
    query = f"?scope={scope}" if scope else ""
    response = client_for(username).get(reverse("caseloads:caseload") + query)
    if username in NO_CASELOAD:
        expected = 403
    elif scope == "cohort":
        expected = 200 if username == "coordinator" else 403
    else:
        expected = 200
    assert response.status_code == expected
    if expected == 403:
        assert AuditEvent.objects.filter(event_type="access.denied").exists()


def test_caseload_page_signed_out(client: Any) -> None:
    response = client.get(reverse("caseloads:caseload"))
    assert response.status_code == 302 and "next=" in response["Location"]


@pytest.mark.parametrize("username", EVERYONE)
def test_caseload_api_for_every_persona(as_persona: Any, username: str) -> None:
    response = as_persona(username).get("/api/caseloads")
    assert response.status_code == (403 if username in NO_CASELOAD else 200)
    cohort = as_persona(username).get("/api/caseloads?scope=cohort")
    assert cohort.status_code == (200 if username == "coordinator" else 403)


@pytest.mark.parametrize("username", EVERYONE)
def test_contribution_api_for_every_persona(as_persona: Any, username: str) -> None:
    response = as_persona(username).get("/api/caseloads/contribution")
    assert response.status_code == (200 if username in {"coordinator", "analyst"} else 403)


def test_api_anonymous_is_refused(client: Any) -> None:
    assert client.get("/api/caseloads").status_code == 401
    assert client.get("/api/caseloads/contribution").status_code == 401


def test_api_caseload_matches_the_page_selector(
    world: Any,  # noqa: F811
    as_token: Any,
) -> None:
    body = as_token("coordinator").get("/api/caseloads?scope=cohort&overdue=true").json()
    assert body["scope"] == "cohort"
    assert body["count"] == len(body["rows"]) == 4
    assert body["with_overdue_work"] == 4
    assert body["filters"]["overdue"] is True
    assert {r["person"].split()[-1].title() for r in body["rows"]} == {
        "Caseb",
        "Casec",
        "Cased",
        "Caseg",
    }
    mine = as_token("probation.om").get("/api/caseloads").json()
    assert mine["count"] == len(mine["rows"]) == mine["tab_counts"]["mine"] == 3
    assert set(mine["tab_counts"]) == {"mine", "team", "agency"}
    assert (
        as_token("probation.om").get("/api/caseloads?scope=team").json()["count"]
        == (mine["tab_counts"]["team"])
    )
    row = next(r for r in mine["rows"] if r["overdue_actions"])
    assert row["has_overdue_work"] is True and row["cohort"] == "fixed"


def test_api_bad_query_is_a_field_error(as_token: Any) -> None:
    response = as_token("coordinator").get("/api/caseloads?scope=all&rag=blue")
    assert response.status_code == 422
    fields = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert fields == {("query", "scope"), ("query", "rag")}
    bad = as_token("coordinator").get("/api/caseloads/contribution?first=2026-10&last=2026-01")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "last"]


def test_api_contribution_shape(as_token: Any) -> None:
    body = as_token("analyst").get("/api/caseloads/contribution?first=2026-09&last=2026-11").json()
    assert [m["start"] for m in body["months"]] == ["2026-09-01", "2026-10-01", "2026-11-01"]
    assert body["whole_range"]["start"] == "2026-09-01"
    assert body["whole_range"]["end"] == "2026-11-30"
    assert {"agency", "actions_owned", "completed", "overdue", "contacts"} <= set(
        body["months"][0]["agencies"][0]
    )
