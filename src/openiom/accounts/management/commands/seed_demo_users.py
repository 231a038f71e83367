"""manage.py seed_demo_users: create the demo's named staff and print who they are."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from openiom.accounts.models import Role
from openiom.partnership.models import Agency
from openiom.partnership.setup import DEMO_PASSWORD, PERSONAS, ensure_personas


class Command(BaseCommand):
    help = "Create the demo users (one per persona) with the demo password, and list them."

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "Demo users have a published password; they are never created in production."
            )
        ensure_personas()
        agencies = {a.code: a.name for a in Agency.objects.all()}
        rows = [("Username", "Role", "Agency")] + [
            (p.username, Role(p.role).label, agencies.get(p.agency_code, p.agency_code))
            for p in PERSONAS
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for n, row in enumerate(rows):
            self.stdout.write(
                "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            )
            if n == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        self.stdout.write(f"\nPassword for every demo user: {DEMO_PASSWORD}")
