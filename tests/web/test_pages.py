"""Every persona gets the layout, navigation and pages their role allows; all CSP-safe."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from openiom.core.views import server_error
from openiom.partnership.setup import PERSONAS
from tests.web.helpers import assert_csp_safe, html

USERNAMES = [p.username for p in PERSONAS]


@pytest.mark.parametrize("username", USERNAMES)
def test_home_shows_who_and_which_role(client_for: Any, username: str) -> None:
    persona = next(p for p in PERSONAS if p.username == username)
    response = client_for(username).get(reverse("core:home"))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert f"{persona.first_name} {persona.last_name}" in body
    assert "Sign out" in body
    assert 'class="govuk-phase-banner"' in body
    from openiom.partnership.models import Agency

    assert Agency.objects.get(code=persona.agency_code).name in body


@pytest.mark.parametrize(
    ("username", "search", "imports_allowed", "audit"),
    [
        ("police.officer", True, False, False),
        ("coordinator", True, True, False),
        ("analyst", True, True, False),
        ("housing.worker", True, False, False),
        ("dpo", True, False, True),
        ("admin", False, False, True),
    ],
)
def test_navigation_follows_role(
    client_for: Any, username: str, search: bool, imports_allowed: bool, audit: bool
) -> None:
    body = html(client_for(username).get(reverse("core:home")))
    assert (f'href="{reverse("people:search")}"' in body) is search
    assert (f'href="{reverse("audit:log")}"' in body) is audit
    from django.urls import NoReverseMatch

    try:
        imports_url = reverse("imports:batch_list")
    except NoReverseMatch:  # the imports pages are not installed
        return
    assert (f'href="{imports_url}"' in body) is imports_allowed


@pytest.mark.parametrize("username", USERNAMES)
def test_search_page_renders_or_refuses(client_for: Any, username: str) -> None:
    response = client_for(username).get(reverse("people:search"))
    if username == "admin":
        assert response.status_code == 403
        assert "You cannot see this page" in html(response)
    else:
        assert response.status_code == 200
        assert_csp_safe(response)


def test_anonymous_users_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign-in"))


def test_sign_in_page_is_csp_safe(client: Client, db: Any) -> None:
    response = client.get(reverse("accounts:sign-in"))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert 'autocomplete="current-password"' in body
    assert "Sign out" not in body


def test_demo_banner_only_in_demo_mode(client_for: Any, settings: Any) -> None:
    client = client_for("police.officer")
    assert "This is a demonstration" not in html(client.get(reverse("core:home")))
    settings.DEMO_MODE = True
    assert "This is a demonstration" in html(client.get(reverse("core:home")))


def test_home_counts_people_the_actor_can_see(
    client_for: Any, make_person: Any, involve: Any
) -> None:
    make_person()
    make_person(current_status="custody")
    mine = make_person()
    involve(mine, "housing.worker")
    police = html(client_for("police.officer").get(reverse("core:home")))
    housing = html(client_for("housing.worker").get(reverse("core:home")))
    assert '<span class="app-stat__number">3</span> in total' in police
    assert '<span class="app-stat__number">1</span> in custody' in police
    assert '<span class="app-stat__number">1</span> in total' in housing


def test_unknown_page_is_a_govuk_404(client_for: Any) -> None:
    response = client_for("police.officer").get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in assert_csp_safe(response)


def test_500_page_needs_no_database(django_assert_num_queries: Any, db: Any) -> None:
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()


def test_security_headers_on_pages(client_for: Any) -> None:
    response = client_for("police.officer").get(reverse("core:home"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
