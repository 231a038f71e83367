"""Serve the demo: print who can sign in, then run the development server."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiom.partnership.models import Agency
from openiom.partnership.setup import DEMO_PASSWORD, PERSONAS
from openiom.people.models import Person


class Command(BaseCommand):
    help = "Print the demo sign-in details and serve the app (demo mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("serve_demo runs only with OPENIOM_DEMO=1 (never in production)")
        agencies = {a.code: a.name for a in Agency.objects.all()}
        url = f"http://{options['addrport']}"
        lines = [
            "",
            f"openiom demo: {Person.objects.count():,} synthetic people in the area.",
            f"Open {url} and sign in with one of these users (password: {DEMO_PASSWORD}):",
            "",
        ]
        width = max(len(p.username) for p in PERSONAS)
        for p in PERSONAS:
            lines.append(
                f"  {p.username:<{width}}  {p.job_title} – {agencies.get(p.agency_code, p.agency_code)}"
            )
        lines += [
            "",
            f"API docs: {url}/api/docs   Background worker: started (imports, scoring runs).",
            "Stop with Ctrl+C.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        # Large imports and on-demand scoring runs are background tasks: run one worker beside
        # the server, as production runs `manage.py db_worker` beside the web processes.
        worker = subprocess.Popen(  # noqa: S603 (our own manage.py, fixed arguments)
            [sys.executable, str(settings.PROJECT_DIR / "manage.py"), "db_worker", "--no-reload"],
        )
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
