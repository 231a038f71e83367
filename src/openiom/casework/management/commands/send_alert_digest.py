"""manage.py send_alert_digest: email each recipient one digest of their unread alerts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiom.casework.alerts import send_digest


class Command(BaseCommand):
    help = "Email each worker one digest of their unread alerts (Django's email backend)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = send_digest()
        self.stdout.write(f"Sent {count} alert digest{'' if count == 1 else 's'}.")
