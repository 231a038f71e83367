"""The provider referral state machine, lawful basis validation and the receiving agency's
involvement (opened when sent, ended when closed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.people.models import Involvement
from openiom.providers.models import (
    ProviderReferral,
    ProviderReferralState,
    ProviderReferralStateChange,
)
from openiom.providers.services import TRANSITIONS, ProviderReferralTransitionError
from tests.providers.conftest import CONSENT_DAY, PATHS, agency

pytestmark = pytest.mark.django_db

STATES = list(PATHS)
# Which states each step may be taken from, and where it goes.
VALID: dict[str, tuple[set[str], str]] = {
    "accept": ({"sent"}, "accepted"),
    "start": ({"accepted"}, "in_progress"),
    "complete": ({"in_progress"}, "completed"),
    "decline": ({"sent"}, "declined"),
    "end_early": ({"accepted", "in_progress"}, "ended_early"),
    "withdraw": ({"sent", "accepted"}, "withdrawn"),
}
# The natural actor of each step (end early: both sides are tested separately).
BY = {
    "accept": "housing.worker",
    "start": "housing.worker",
    "complete": "housing.worker",
    "decline": "housing.worker",
    "end_early": "housing.worker",
    "withdraw": "probation.om",
}


def test_the_table_of_steps_is_the_one_tested():
    assert set(TRANSITIONS) == set(VALID)
    for name, (froms, to) in VALID.items():
        assert set(TRANSITIONS[name].from_states) == froms
        assert TRANSITIONS[name].to_state == to


# --- Sending ------------------------------------------------------------------------------------


def test_sending_records_the_referral_history_audit_and_an_involvement(referral, reg, personas):
    today = timezone.localdate()
    assert referral.state == "sent" and referral.closed_at is None
    assert referral.person == reg.person and referral.registration == reg
    assert referral.sent_by == personas["probation.om"]
    assert referral.sending_agency == agency("probation-wessex")
    inv = referral.involvement
    assert inv is not None
    assert (inv.person, inv.agency, inv.worker, inv.start_date, inv.end_date) == (
        reg.person,
        agency("harbour-housing"),
        None,
        today,
        None,
    )
    assert inv.purpose == f"Provider referral #{referral.pk}: Housing"
    [change] = ProviderReferralStateChange.objects.filter(referral=referral)
    assert (change.from_state, change.to_state, change.changed_by) == (
        "",
        "sent",
        personas["probation.om"],
    )
    sent = AuditEvent.objects.get(event_type="provider_referral.sent")
    assert sent.person_id == reg.person_id and sent.category == "disclosure"
    assert "Harbour Housing" in sent.summary and "Consent given on 20/03/2026" in sent.summary
    assert AuditEvent.objects.filter(
        event_type="involvement.started", object_id=str(inv.pk)
    ).exists()


def test_a_named_receiving_worker_gets_the_involvement(send, personas):
    referral = send(receiving_worker=personas["housing.worker"])
    assert referral.involvement.worker == personas["housing.worker"]


def test_a_receiving_worker_of_another_agency_is_refused(send, personas):
    with pytest.raises(ValidationError) as caught:
        send(receiving_worker=personas["drug.worker"])
    assert "receiving_worker" in caught.value.message_dict
    assert (
        "not a case worker at Harbour Housing" in caught.value.message_dict["receiving_worker"][0]
    )
    assert (
        not ProviderReferral.objects.exists()
        and not Involvement.objects.filter(agency=agency("harbour-housing")).exists()
    )


def test_a_second_active_referral_for_the_same_service_and_agency_is_refused(send):
    first = send()
    with pytest.raises(ValidationError) as caught:
        send()
    assert f"(referral {first.pk})" in caught.value.message_dict["receiving_agency"][0]
    assert ProviderReferral.objects.count() == 1
    # Another service at the same agency is fine.
    assert send(service_type="mentoring").pk != first.pk


def test_the_database_keeps_one_active_referral_per_service(referral):
    with pytest.raises(IntegrityError):
        ProviderReferral.objects.create(
            person=referral.person,
            registration=referral.registration,
            service_type=referral.service_type,
            receiving_agency=referral.receiving_agency,
            reason="again",
            sent_by=referral.sent_by,
            sending_agency=referral.sending_agency,
            legal_basis="cda_1998_s115",
        )


def test_no_referral_under_an_ended_registration(send, reg, actor):
    from openiom.cohort import services as cohort_services

    cohort_services.deregister(
        actor=actor("coordinator"), registration=reg, reason="moved_away", on=dt.date(2026, 4, 1)
    )
    reg.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        send()
    assert "no longer registered" in caught.value.message_dict["registration"][0]


@pytest.mark.parametrize(
    ("fields", "fix"),
    [
        ({"service_type": "dentistry"}, "service_type"),
        ({"receiving_agency": None}, "receiving_agency"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 4001}, "reason"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(send, fields, fix):
    with pytest.raises(ValidationError) as caught:
        send(**fields)
    assert set(caught.value.message_dict) == {fix}
    assert caught.value.message_dict[fix][0].startswith(f"{fix}: ")
    assert not ProviderReferral.objects.exists()
    assert not AuditEvent.objects.filter(event_type="provider_referral.sent").exists()


# --- Lawful basis -------------------------------------------------------------------------------

NO_CONSENT = {"consent_given_on": None, "consent_recorded_how": ""}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (NO_CONSENT, "legal_basis", "record the person's consent"),
        ({"consent_recorded_how": ""}, "consent_recorded_how", "how the person's consent"),
        ({"consent_given_on": None}, "consent_given_on", "date the person gave consent"),
        (
            {"consent_given_on": dt.date.today() + dt.timedelta(days=1)},
            "consent_given_on",
            "cannot be in the future",
        ),
        ({"consent_recorded_how": "telepathy"}, "consent_recorded_how", "not a way"),
        ({**NO_CONSENT, "legal_basis": "magna_carta"}, "legal_basis", "not a legal basis"),
        ({**NO_CONSENT, "legal_basis": "other"}, "legal_basis_detail", "describe the legal"),
        (
            {**NO_CONSENT, "legal_basis_detail": "Because"},
            "legal_basis",
            "choose the legal basis",
        ),
    ],
)
def test_the_lawful_basis_is_required_and_checked(send, fields, field, message):
    with pytest.raises(ValidationError) as caught:
        send(**fields)
    errors = caught.value.message_dict
    assert field in errors, errors
    assert any(message in m for m in errors[field]), errors
    assert not ProviderReferral.objects.exists()
    assert not Involvement.objects.filter(agency=agency("harbour-housing")).exists()


@pytest.mark.parametrize(
    "basis", ["cda_1998_s115", "ukgdpr_6_1_e_dpa_sch1_p6", "oma_2007_s14", "other"]
)
def test_a_legal_basis_without_consent_is_enough(send, basis):
    referral = send(**NO_CONSENT, legal_basis=basis, legal_basis_detail="Risk of reoffending")
    assert referral.legal_basis == basis and referral.consent_given_on is None
    assert referral.lawful_basis_text.startswith("Without consent under ")


def test_consent_is_enough(referral):
    assert (referral.consent_given_on, referral.consent_recorded_how) == (
        CONSENT_DAY,
        "signed_form",
    )
    assert referral.legal_basis == ""


def test_the_database_refuses_a_referral_without_a_lawful_basis(referral):
    with pytest.raises(IntegrityError):
        ProviderReferral.objects.create(
            person=referral.person,
            registration=referral.registration,
            service_type="mentoring",
            receiving_agency=referral.receiving_agency,
            reason="no basis",
            sent_by=referral.sent_by,
            sending_agency=referral.sending_agency,
        )


# --- The state machine --------------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_every_path_reaches_its_state_with_a_history_row_per_step(in_state, state):
    referral = in_state(state)
    changes = list(ProviderReferralStateChange.objects.filter(referral=referral))
    assert [c.to_state for c in changes] == ["sent"] + [VALID[a][1] for a, _by, _r in PATHS[state]]
    assert [c.from_state for c in changes][1:] == [c.to_state for c in changes][:-1]
    closed = state in ProviderReferralState.closed_states()
    assert (referral.closed_at is not None) == closed
    if state in {"declined", "ended_early", "withdrawn"}:
        assert referral.closing_reason == PATHS[state][-1][2] == changes[-1].reason
    if state == "completed":
        assert referral.closing_reason == "Tenancy signed"


@pytest.mark.parametrize(("state", "action"), [(s, a) for s in STATES for a in VALID])
def test_every_step_from_every_state(in_state, involve, step, state, action):
    """Valid steps move the referral; invalid ones raise a clear error and write nothing.

    Housing also works with the person under another involvement here, so its worker passes the
    policy even once the referral is closed and the state machine itself is what answers.
    """
    involve(in_state("sent").person, "housing.worker")
    referral = in_state(state)
    froms, to = VALID[action]
    reason = "Because" if TRANSITIONS[action].reason != "none" else ""
    if state in froms:
        done = step(referral, action, by=BY[action], reason=reason)
        assert done.state == to
        assert ProviderReferral.objects.get(pk=referral.pk).state == to
        assert AuditEvent.objects.filter(event_type=TRANSITIONS[action].event).count() == 1
        return
    changes = ProviderReferralStateChange.objects.count()
    events = AuditEvent.objects.count()
    with pytest.raises(ProviderReferralTransitionError) as caught:
        step(referral, action, by=BY[action], reason=reason)
    state_label = ProviderReferralState(state).label.lower()
    assert f"This referral is {state_label}" in str(caught.value)
    assert ProviderReferral.objects.get(pk=referral.pk).state == state
    assert ProviderReferralStateChange.objects.count() == changes
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("state", ["accepted", "in_progress"])
def test_the_sending_side_may_end_early_too(in_state, step, state):
    referral = step(in_state(state), "end_early", by="probation.om", reason="Recalled")
    assert referral.state == "ended_early"
    assert referral.involvement.end_date == timezone.localdate() - dt.timedelta(days=1)


@pytest.mark.parametrize("action", ["decline", "end_early", "withdraw"])
def test_closing_steps_need_a_reason(in_state, step, action):
    state = "accepted" if action == "end_early" else "sent"
    referral = in_state(state)
    with pytest.raises(ValidationError) as caught:
        step(referral, action, by=BY[action], reason="  ")
    assert caught.value.message_dict["reason"][0].startswith("reason: say why")
    referral.refresh_from_db()
    assert referral.state == state and referral.involvement.end_date is None


def test_completion_takes_an_optional_note(in_state, step):
    referral = step(in_state("in_progress"), "complete", reason="")
    assert referral.state == "completed" and referral.closing_reason == ""


def test_an_unknown_step_is_a_field_error(referral, step):
    with pytest.raises(ValidationError) as caught:
        step(referral, "teleport")
    assert "action" in caught.value.message_dict


# --- Who may take each step ---------------------------------------------------------------------

RECEIVING_ONLY = ["accept", "decline"]


@pytest.mark.parametrize(
    "username", ["probation.om", "coordinator", "police.officer", "drug.worker", "vcs.mentor"]
)
@pytest.mark.parametrize("action", RECEIVING_ONLY)
def test_only_the_receiving_agency_responds(referral, step, username, action):
    with pytest.raises(AccessDenied):
        step(referral, action, by=username, reason="x")
    assert ProviderReferral.objects.get(pk=referral.pk).state == "sent"
    assert AuditEvent.objects.filter(event_type="access.denied").exists()


@pytest.mark.parametrize("username", ["analyst", "dpo", "admin"])
def test_analysts_dpos_and_admins_take_no_step(referral, step, username):
    for action in VALID:
        with pytest.raises(AccessDenied):
            step(referral, action, by=username, reason="x")
    assert ProviderReferral.objects.get(pk=referral.pk).state == "sent"


@pytest.mark.parametrize("username", ["housing.worker", "drug.worker", "vcs.mentor"])
def test_only_the_sending_side_withdraws(referral, step, username):
    with pytest.raises(AccessDenied):
        step(referral, "withdraw", by=username, reason="x")


@pytest.mark.parametrize("username", ["probation.om", "coordinator", "police.officer"])
def test_the_sending_side_withdraws(referral, step, username):
    assert step(referral, "withdraw", by=username, reason="No longer needed").state == "withdrawn"


def test_a_named_worker_responds_but_not_their_colleague_without_access(send, personas, step):
    from django.contrib.auth import get_user_model

    from openiom.accounts.models import Membership

    colleague = get_user_model().objects.create_user("housing.colleague")
    Membership.objects.create(
        user=colleague, agency=agency("harbour-housing"), role="partner_worker"
    )
    referral = send(receiving_worker=personas["housing.worker"])
    from openiom.accounts.actor import actor_for_user
    from openiom.providers.services import transition

    with pytest.raises(AccessDenied):
        transition(actor=actor_for_user(colleague), referral=referral, action="accept")
    assert step(referral, "accept").state == "accepted"


@pytest.mark.parametrize("username", ["housing.worker", "drug.worker", "vcs.mentor"])
def test_partners_do_not_send(send, username):
    with pytest.raises(AccessDenied):
        send(by=username)
    assert not ProviderReferral.objects.exists()


@pytest.mark.parametrize("username", ["analyst", "dpo", "admin"])
def test_analysts_dpos_and_admins_do_not_send(send, username):
    with pytest.raises(AccessDenied):
        send(by=username)


@pytest.mark.parametrize("username", ["probation.om", "coordinator", "police.officer"])
def test_the_lead_worker_and_core_case_managers_send(send, username, personas):
    assert send(by=username).sent_by == personas[username]


def test_a_partner_lead_worker_sends(send, reg, personas):
    from openiom.cohort.models import Registration

    Registration.objects.filter(pk=reg.pk).update(lead_worker=personas["vcs.mentor"])
    reg.refresh_from_db()
    referral = send(by="vcs.mentor", registration=reg)
    assert referral.sending_agency == agency("second-chance-mentoring")
