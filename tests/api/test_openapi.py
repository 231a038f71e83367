"""The OpenAPI description and its documentation page."""

from __future__ import annotations


def test_the_openapi_schema_lists_the_endpoints_and_both_ways_to_authenticate(client, db):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "openiom API"
    assert {
        "/api/people",
        "/api/people/{person_id}",
        "/api/people/{person_id}/offences",
        "/api/people/{person_id}/intelligence",
        "/api/audit/events",
        "/api/me",
        "/api/tokens/{token_id}",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"] == {
        "BearerTokenAuth": {"type": "http", "scheme": "bearer"},
        "SessionActorAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
    }
    detail = schema["components"]["schemas"]["PersonDetail"]
    # Offending and intelligence are optional: absent when the reader may not see them.
    assert {"offences", "arrests", "intelligence"}.isdisjoint(detail["required"])
    assert {"aliases", "involvements", "may_see_intelligence"} <= set(detail["required"])


def test_the_docs_page_renders(client, db):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"/api/openapi.json" in response.content


def test_the_docs_use_bundled_assets_not_a_cdn(client, db, settings):
    # Without "ninja" in INSTALLED_APPS, django-ninja links Swagger UI from cdn.jsdelivr.net,
    # which a closed network (or a strict proxy) blocks.
    assert "ninja" in settings.INSTALLED_APPS
    page = client.get("/api/docs").content.decode()

    assert "cdn.jsdelivr.net" not in page and "django-ninja.dev" not in page
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in page
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
