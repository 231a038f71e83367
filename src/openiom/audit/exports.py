"""CSV exports of the audit trail and the data-protection officer's reports.

Streamed, so a large search is never held in memory; every cell passes through
openiom.core.csv_safety so text a user typed cannot run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from openiom.audit.models import AuditEvent
from openiom.audit.unusual import Report
from openiom.core.csv_safety import safe_row

CHUNK = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(filename: str, rows: Iterable[list[Any]]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(safe_row(row)) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _time(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _json(value: Any) -> str:
    return "" if value in (None, {}) else json.dumps(value, ensure_ascii=False, sort_keys=True)


EVENT_HEADER = [
    "Event ID",
    "Time (UK)",
    "Event type",
    "Category",
    "Summary",
    "Username",
    "Role",
    "Agency",
    "Object type",
    "Object ID",
    "Person ID",
    "Details",
    "Before",
    "After",
    "Request ID",
    "Client address",
]


def event_rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    yield EVENT_HEADER
    for e in events.select_related("actor_agency").iterator(chunk_size=CHUNK):
        yield [
            e.pk,
            _time(e.occurred_at),
            e.event_type,
            e.category,
            e.summary,
            e.actor_username,
            e.actor_role,
            e.actor_agency.name if e.actor_agency else "",
            e.object_type,
            e.object_id,
            e.person_id,
            _json(e.details),
            _json(e.before),
            _json(e.after),
            e.request_id,
            e.ip_address or "",
        ]


def viewer_rows(events: QuerySet[AuditEvent]) -> Iterator[list[Any]]:
    yield ["Time (UK)", "Username", "Role", "Agency", "Event type", "What they saw", "Event ID"]
    for e in events.select_related("actor_agency").iterator(chunk_size=CHUNK):
        yield [
            _time(e.occurred_at),
            e.actor_username,
            e.actor_role,
            e.actor_agency.name if e.actor_agency else "",
            e.event_type,
            e.summary,
            e.pk,
        ]


def unusual_access_rows(report: Report) -> Iterator[list[Any]]:
    yield [
        "Flag",
        "Username",
        "Role",
        "Agency",
        "Person ID",
        "Views",
        "First day",
        "Last day",
        "Usual daily views (median)",
        "Why flagged",
    ]
    for f in report.flags:
        yield [
            f.kind_label,
            f.username,
            f.role,
            f.agency_name,
            f.person_id,
            f.views,
            f.first_day.isoformat(),
            f.last_day.isoformat(),
            "" if f.median is None else f"{f.median:g}",
            f.explanation,
        ]
