"""Debian's chromium driven by Playwright, with axe-core from npm for accessibility checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def govuk_assets(settings: Any) -> None:
    """Serve GOV.UK Frontend (copied by scripts/copy_assets.py into openiom/static/vendor)."""
    from django.contrib.staticfiles import finders

    vendor = ROOT / "src" / "openiom" / "static"
    if not (vendor / "vendor" / "govuk-frontend" / "govuk-frontend.min.css").exists():
        pytest.skip("GOV.UK Frontend assets are missing (make assets)")
    if finders.find("vendor/govuk-frontend/govuk-frontend.min.css") is None:
        settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, vendor]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch, govuk_assets: None) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make chromium)")
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    # Playwright's sync API runs an event loop; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Console:
    """Collects browser console errors (a CSP violation is reported there)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "response",
            lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )


def check_accessibility(page: Any, name: str) -> None:
    """Run axe-core on the current page; fail listing every violation."""
    # Injected through the DevTools protocol, so the page's strict CSP still applies to the page.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
    if violations:
        print(f"axe violations on {name} ({page.url}):\n{json.dumps(violations, indent=2)}")
    assert violations == [], f"{len(violations)} accessibility violations on {name}"
    assert result["passes"], f"axe ran no checks on {name}"
