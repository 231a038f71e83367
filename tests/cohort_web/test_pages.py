"""Every cohort page renders for the personas allowed it and refuses (audited) the others."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.partnership.setup import PERSONAS
from tests.web.helpers import assert_csp_safe, html

ALL = [p.username for p in PERSONAS]
STAFF = [u for u in ALL if u != "admin"]
SEES_PERSON = [
    "police.officer",
    "probation.om",
    "coordinator",
    "housing.worker",
    "analyst",
    "dpo",
]
CASE_MANAGERS = ["police.officer", "probation.om", "coordinator"]
COORDINATOR = ["coordinator"]


def urls(registration: Any) -> dict[str, tuple[str, list[str]]]:
    reg, ref, person = registration.pk, registration.referral_id, registration.person_id
    return {
        "register": (reverse("cohort:register"), STAFF),
        "my referrals": (reverse("cohort:my_referrals"), STAFF),
        "queue": (reverse("cohort:queue"), COORDINATOR),
        "referral": (reverse("cohort:referral", args=[ref]), SEES_PERSON),
        "registration": (reverse("cohort:registration", args=[reg]), SEES_PERSON),
        "assess RAG": (reverse("cohort:assess_rag", args=[reg]), CASE_MANAGERS),
        "exit plan": (reverse("cohort:exit_plan", args=[reg]), CASE_MANAGERS),
        "de-register": (reverse("cohort:deregister", args=[reg]), COORDINATOR),
        "status": (reverse("cohort:status", args=[reg]), COORDINATOR),
        "policies": (reverse("cohort:policies"), STAFF),
        "RAG policy": (reverse("cohort:policy", args=["rag", "rag"]), STAFF),
        "Fixed cohort": (reverse("cohort:policy", args=["cohort", "fixed"]), STAFF),
        "exit policy": (
            reverse("cohort:policy", args=["deregistration", "deregistration"]),
            STAFF,
        ),
        "publish RAG": (reverse("cohort:publish", args=["rag", "rag"]), COORDINATOR),
        "publish cohort": (reverse("cohort:publish", args=["cohort", "fixed"]), COORDINATOR),
        "publish exit": (
            reverse("cohort:publish", args=["deregistration", "deregistration"]),
            COORDINATOR,
        ),
        "new cohort": (reverse("cohort:new_cohort"), COORDINATOR),
        "refer": (reverse("cohort:refer", args=[person]), SEES_PERSON),
        "messages": (reverse("cohort:notifications"), ALL),
    }


PAGES = [
    "register",
    "my referrals",
    "queue",
    "referral",
    "registration",
    "assess RAG",
    "exit plan",
    "de-register",
    "status",
    "policies",
    "RAG policy",
    "Fixed cohort",
    "exit policy",
    "publish RAG",
    "publish cohort",
    "publish exit",
    "new cohort",
    "refer",
    "messages",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("username", ALL)
def test_page_renders_for_allowed_and_refuses_others(
    client_for: Any, registration: Any, page: str, username: str
) -> None:
    url, allowed = urls(registration)[page]
    denied_before = AuditEvent.objects.filter(event_type="access.denied").count()
    response = client_for(username).get(url)
    body = assert_csp_safe(response)
    if username in allowed:
        assert response.status_code == 200, body[:2000]
        assert '<main class="govuk-main-wrapper" id="main-content">' in body
        assert AuditEvent.objects.filter(event_type="access.denied").count() == denied_before
    else:
        assert response.status_code == 403
        assert "You cannot see this page" in body
        assert "Dean" not in body
        denied = AuditEvent.objects.filter(event_type="access.denied").order_by("-id").first()
        assert denied is not None and denied.actor_username == username
        assert AuditEvent.objects.filter(event_type="access.denied").count() == denied_before + 1


def test_anonymous_users_are_sent_to_sign_in(client: Any, registration: Any) -> None:
    for url, _allowed in urls(registration).values():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign-in"))


def test_missing_things_are_404(client_for: Any, db: Any) -> None:
    client = client_for("coordinator")
    for url in (
        reverse("cohort:referral", args=[99999]),
        reverse("cohort:registration", args=[99999]),
        reverse("cohort:decision", args=[99999]),
        reverse("cohort:policy", args=["rag", "nope"]),
        reverse("cohort:policy", args=["nonsense", "rag"]),
        reverse("cohort:publish", args=["nonsense", "rag"]),
        reverse("cohort:refer", args=[99999]),
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    ("username", "links"),
    [
        ("coordinator", ["cohort:queue", "cohort:register", "cohort:notifications"]),
        ("housing.worker", ["cohort:my_referrals", "cohort:register", "cohort:notifications"]),
        ("analyst", ["cohort:my_referrals", "cohort:register"]),
    ],
)
def test_navigation_links(client_for: Any, db: Any, username: str, links: list[str]) -> None:
    body = html(client_for(username).get(reverse("core:home")))
    for name in links:
        assert f'href="{reverse(name)}"' in body


def test_administrator_has_no_cohort_navigation(client_for: Any, db: Any) -> None:
    body = html(client_for("admin").get(reverse("core:home")))
    assert reverse("cohort:register") not in body
    assert reverse("cohort:my_referrals") not in body


def test_register_page_is_audited_and_lists_the_registration(
    client_for: Any, registration: Any
) -> None:
    response = client_for("coordinator").get(reverse("cohort:register"))
    body = assert_csp_safe(response)
    assert "WALSH, Dean" in body
    assert reverse("cohort:registration", args=[registration.pk]) in body
    assert "1 registration" in body
    event = AuditEvent.objects.get(event_type="cohort.register_consulted")
    assert event.actor_username == "coordinator"


def test_partner_register_shows_only_people_they_work_with(
    client_for: Any, registration: Any
) -> None:
    assert "WALSH, Dean" in html(client_for("housing.worker").get(reverse("cohort:register")))
    body = html(client_for("drug.worker").get(reverse("cohort:register")))
    assert "WALSH, Dean" not in body
    assert "No registrations" in body


def test_register_sorting_sets_aria_sort_and_toggles(
    client_for: Any, registration: Any, make_person: Any
) -> None:
    client = client_for("coordinator")
    body = html(client.get(reverse("cohort:register") + "?sort=review&dir=desc"))
    assert 'aria-sort="descending"' in body
    assert body.count("aria-sort=") == 1
    assert "sort=review&amp;dir=asc" in body  # selecting it again reverses the order
    assert "sort=name&amp;dir=asc" in body
    body = html(client.get(reverse("cohort:register") + "?sort=name"))
    assert 'aria-sort="ascending"' in body


def test_register_filters(client_for: Any, registration: Any) -> None:
    client = client_for("coordinator")
    base = reverse("cohort:register")
    assert "WALSH, Dean" in html(client.get(base + "?cohort=fixed&rag=none"))
    assert "WALSH, Dean" not in html(client.get(base + "?cohort=flex"))
    assert "WALSH, Dean" not in html(client.get(base + "?rag=red"))
    assert "WALSH, Dean" not in html(client.get(base + "?status=deregistered"))
    assert "WALSH, Dean" in html(client.get(base + "?status=all"))


@pytest.mark.parametrize(
    "query",
    [
        "?rag=purple",
        "?cohort=<script>",
        "?lead_agency=abc",
        "?hub=999999",
        "?status=gone",
        "?sort=password",
        "?dir=sideways",
    ],
)
def test_register_rejects_hostile_filters_without_a_500(
    client_for: Any, registration: Any, query: str
) -> None:
    response = client_for("coordinator").get(reverse("cohort:register") + query)
    assert response.status_code == 400
    body = assert_csp_safe(response)
    assert "There is a problem" in body or "Select" in body


def test_register_page_number_out_of_range_is_the_last_page(
    client_for: Any, registration: Any
) -> None:
    response = client_for("coordinator").get(reverse("cohort:register") + "?page=999")
    assert response.status_code == 200
    assert "WALSH, Dean" in html(response)


def test_queue_filter(client_for: Any, listed: Any) -> None:
    client = client_for("coordinator")
    assert "WALSH, Dean" in html(client.get(reverse("cohort:queue")))
    assert "WALSH, Dean" in html(client.get(reverse("cohort:queue") + "?state=listed"))
    assert "WALSH, Dean" not in html(client.get(reverse("cohort:queue") + "?state=submitted"))
    response = client.get(reverse("cohort:queue") + "?state=bogus")
    assert response.status_code == 400
    assert "Select a state from the list" in html(response)


def test_registration_page_shows_history_and_exit_suggestion(
    client_for: Any, registration: Any
) -> None:
    response = client_for("coordinator").get(reverse("cohort:registration", args=[registration.pk]))
    body = assert_csp_safe(response)
    assert "Fixed cohort registration" in body
    assert "Exit suggestion" in body
    assert "No RAG status recorded yet" in body
    assert "Registered in the Fixed cohort" in body  # the first status change
    assert AuditEvent.objects.filter(event_type="cohort.history_consulted").count() == 1
    assert AuditEvent.objects.filter(event_type="rag.suggestion_consulted").count() == 1


def test_partner_sees_registration_without_actions_or_exit_suggestion(
    client_for: Any, registration: Any
) -> None:
    body = html(
        client_for("housing.worker").get(reverse("cohort:registration", args=[registration.pk]))
    )
    assert "Fixed cohort registration" in body
    assert "Exit suggestion" not in body
    assert reverse("cohort:assess_rag", args=[registration.pk]) not in body
    assert reverse("cohort:deregister", args=[registration.pk]) not in body


def test_policy_pages_show_versions_and_sources(client_for: Any, db: Any) -> None:
    client = client_for("analyst")
    body = html(client.get(reverse("cohort:policies")))
    assert "Fixed cohort" in body and "RAG" in body
    body = html(client.get(reverse("cohort:policy", args=["deregistration", "deregistration"])))
    assert "3 months" in body
    assert "Shipped default" in body
    assert "Publish a new version" not in body  # analysts cannot publish
    coordinator = html(client_for("coordinator").get(reverse("cohort:policy", args=["rag", "rag"])))
    assert "Publish a new version" in coordinator


def test_cohort_register_shows_disproportionality_to_those_who_may_see_scores(
    client: Any, personas: dict[str, Any], make_person: Any
) -> None:
    client.force_login(personas["coordinator"])
    assert client.get(reverse("cohort:register")).status_code == 200  # nobody in the area yet
    for n in range(6):
        make_person(sex="M" if n % 2 else "F")
    client.force_login(personas["coordinator"])
    body = client.get(reverse("cohort:register")).content.decode()
    assert 'id="disproportionality-summary-heading"' in body
    assert reverse("scrutiny:cohort_disproportionality") in body
    assert AuditEvent.objects.filter(event_type="scrutiny.disproportionality_consulted").exists()

    client.force_login(personas["probation.om"])
    body = client.get(reverse("cohort:register")).content.decode()
    assert 'id="disproportionality-summary-heading"' not in body
