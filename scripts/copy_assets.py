#!/usr/bin/env python3
"""Copy GOV.UK Frontend (from npm) into static files. Third-party assets are never committed."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
TARGET = ROOT / "src" / "openiom" / "static" / "vendor" / "govuk-frontend"
FILES = [
    "govuk-frontend.min.css",
    "govuk-frontend.min.css.map",
    "govuk-frontend.min.js",
    "govuk-frontend.min.js.map",
]


def main() -> int:
    if not SOURCE.is_dir():
        print(f"{SOURCE} is missing: run 'npm ci' first", file=sys.stderr)
        return 1
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    for name in FILES:
        if (SOURCE / name).exists():
            shutil.copy2(SOURCE / name, TARGET / name)
    shutil.copytree(SOURCE / "assets", TARGET / "assets")
    # The stylesheet refers to /assets/...; point it at the copy beside it under /static/.
    css = TARGET / "govuk-frontend.min.css"
    if css.exists():
        css.write_text(
            css.read_text(encoding="utf-8").replace("url(/assets/", "url(assets/"), encoding="utf-8"
        )
    missing = [n for n in FILES[::2] if not (TARGET / n).exists()]
    if missing:
        print(f"GOV.UK Frontend files missing from the npm package: {missing}", file=sys.stderr)
        return 1
    print(f"Copied GOV.UK Frontend into {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
