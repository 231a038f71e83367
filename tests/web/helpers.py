from __future__ import annotations

import re
from typing import Any

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def html(response: Any) -> str:
    return response.content.decode()


def assert_csp_safe(response: Any) -> str:
    """No inline scripts, style attributes or style elements; the strict policy header is set."""
    body = html(response)
    assert not INLINE_SCRIPT.search(body), INLINE_SCRIPT.search(body)
    assert not STYLE_ATTRIBUTE.search(body), STYLE_ATTRIBUTE.search(body)
    assert not STYLE_ELEMENT.search(body)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    return body
