"""Settings read from the environment fail loudly on bad values and are safe in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENIOM_", "DEBUG", "SECRET_KEY"))
    }
    clean.update(env)
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='openiom.settings'; from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "perhaps"}, "DEBUG='perhaps' is not a boolean"),
        ({"OPENIOM_ENV": "staging"}, "must be development, test or production"),
        (
            {"OPENIOM_ENV": "production", "ALLOWED_HOSTS": "iom.example.org"},
            "SECRET_KEY must be set",
        ),
        (
            {
                "OPENIOM_ENV": "production",
                "SECRET_KEY": "x" * 60,
                "ALLOWED_HOSTS": "a",
                "OPENIOM_DEMO": "1",
            },
            "OPENIOM_DEMO cannot be switched on with production settings",
        ),
        (
            {
                "OPENIOM_ENV": "production",
                "SECRET_KEY": "x" * 60,
                "ALLOWED_HOSTS": "a",
                "DEBUG": "1",
            },
            "DEBUG must be off",
        ),
    ],
)
def test_bad_settings_fail_loudly(env: dict[str, str], message: str) -> None:
    result = _load_settings({**env, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_defaults_are_safe() -> None:
    result = _load_settings(
        {
            "OPENIOM_ENV": "production",
            "SECRET_KEY": "k" * 60,
            "ALLOWED_HOSTS": "iom.example.org",
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "31536000"]
