"""Recorded appointments feed the RAG suggestion (rule: missed appointments → red; full
attendance at arranged appointments counts towards green)."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.casework.services import record_contact
from openiom.cohort.models import RagPolicy, RagStatus
from openiom.cohort.rag import ReportedEvidence, Verdict, suggest_rag

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 3, 30)


def _suggest(person, reported=None):
    policy = RagPolicy.in_force("rag", ON)
    assert policy is not None
    return suggest_rag(person, on=ON, policy=policy, reported=reported)


def _appointment(actor, person, day: dt.date, attendance: str) -> None:
    record_contact(
        actor=actor("probation.om"),
        person=person,
        kind="appointment",
        contact_date=day,
        attendance=attendance,
    )


def test_rag_rule_missed_appointments_uses_recorded_contacts_and_suggests_red(actor, make_person):
    person = make_person()
    # The worker reports full attendance and a home: green.
    reported = ReportedEvidence(
        appointments_kept=3, appointments_missed=0, stable_accommodation=True
    )
    assert _suggest(person, reported).status == RagStatus.GREEN
    # A missed appointment recorded in the window overrides the report: red.
    _appointment(actor, person, ON - dt.timedelta(days=5), "kept")
    _appointment(actor, person, ON - dt.timedelta(days=2), "missed")
    suggestion = _suggest(person, reported)
    assert suggestion.status == RagStatus.RED
    missed = next(r for r in suggestion.results if r.rule == "missed_appointments")
    assert missed.verdict == Verdict.RED
    assert "recorded contacts" in missed.reason
    assert suggestion.evidence.appointments_recorded is True
    assert suggestion.evidence.reported.appointments_missed == 1


def test_rag_rule_full_attendance_from_recorded_contacts_supports_green(actor, make_person):
    person = make_person()
    reported = ReportedEvidence(stable_accommodation=True)
    # No appointment data at all: full attendance is unknown, so amber.
    assert _suggest(person, reported).status == RagStatus.AMBER
    _appointment(actor, person, ON - dt.timedelta(days=10), "kept")
    _appointment(actor, person, ON - dt.timedelta(days=3), "kept")
    _appointment(actor, person, ON, "planned")  # planned ones do not count
    suggestion = _suggest(person, reported)
    assert suggestion.status == RagStatus.GREEN
    attendance = next(r for r in suggestion.results if r.rule == "full_attendance")
    assert attendance.reason.startswith("Attended all 2 arranged appointments")


def test_appointments_outside_the_window_leave_the_reported_evidence_in_charge(actor, make_person):
    person = make_person()
    _appointment(actor, person, ON - dt.timedelta(days=200), "missed")
    reported = ReportedEvidence(appointments_kept=2, appointments_missed=0, in_employment=True)
    suggestion = _suggest(person, reported)
    assert suggestion.status == RagStatus.GREEN
    assert suggestion.evidence.appointments_recorded is False
