"""Provider referral endpoints: the same policy, services and audit as the pages.

Errors: 403 when the policy refuses (audited), 404 for an unknown referral, person or
registration, 409 for a step the referral's state does not allow, 422 for bad input.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Path, Router, Schema, Status

from openiom.access.policy import ProviderReferralAction
from openiom.access.services import require
from openiom.cohort.models import Registration
from openiom.partnership.models import Agency
from openiom.people.api import MAX_ID, PERSON_ID, actor_of
from openiom.people.models import Person
from openiom.providers import selectors, services
from openiom.providers.models import (
    ConsentMethod,
    LegalBasis,
    ProviderReferral,
    ProviderReferralState,
    ServiceType,
)

router = Router(tags=["providers"])

REFERRAL_ID = Path(..., ge=1, le=MAX_ID, description="The provider referral's id.")


class StateChangeOut(Schema):
    from_state: str
    to_state: ProviderReferralState
    reason: str
    changed_by: str
    changed_by_agency: str | None
    changed_at: dt.datetime


class ProviderReferralOut(Schema):
    id: int
    person_id: int
    registration_id: int
    service_type: ServiceType
    receiving_agency: str
    receiving_worker: str | None
    reason: str
    sent_by: str
    sending_agency: str
    sent_at: dt.datetime
    consent_given_on: dt.date | None
    consent_recorded_how: str
    legal_basis: str
    legal_basis_detail: str
    state: ProviderReferralState
    closing_reason: str
    closed_at: dt.datetime | None


class ProviderReferralDetailOut(ProviderReferralOut):
    history: list[StateChangeOut]


class ProviderReferralIn(Schema):
    registration_id: int
    service_type: ServiceType
    receiving_agency: str  # the agency's code
    receiving_worker: str | None = None  # a username
    reason: str
    consent_given_on: dt.date | None = None
    consent_recorded_how: ConsentMethod | Literal[""] = ""
    legal_basis: LegalBasis | Literal[""] = ""
    legal_basis_detail: str = ""


class TransitionIn(Schema):
    action: Literal["accept", "start", "complete", "decline", "end_early", "withdraw"]
    reason: str = ""


def _out(r: ProviderReferral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "person_id": r.person_id,
        "registration_id": r.registration_id,
        "service_type": r.service_type,
        "receiving_agency": r.receiving_agency.code,
        "receiving_worker": r.receiving_worker.get_username() if r.receiving_worker else None,
        "reason": r.reason,
        "sent_by": r.sent_by.get_username(),
        "sending_agency": r.sending_agency.code,
        "sent_at": r.sent_at,
        "consent_given_on": r.consent_given_on,
        "consent_recorded_how": r.consent_recorded_how,
        "legal_basis": r.legal_basis,
        "legal_basis_detail": r.legal_basis_detail,
        "state": r.state,
        "closing_reason": r.closing_reason,
        "closed_at": r.closed_at,
    }


def _detail(referral: ProviderReferral) -> dict[str, Any]:
    out = _out(referral)
    out["history"] = [
        {
            "from_state": c.from_state,
            "to_state": c.to_state,
            "reason": c.reason,
            "changed_by": c.changed_by.get_username(),
            "changed_by_agency": c.changed_by_agency.code if c.changed_by_agency else None,
            "changed_at": c.changed_at,
        }
        for c in selectors.history(referral)
    ]
    return out


@router.get(
    "/inbox",
    response=list[ProviderReferralOut],
    summary="Active referrals to my agency",
    description="Oldest first; only people you may see. Analysts, DPOs and administrators: 403. "
    "Audited.",
)
def inbox(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(r) for r in selectors.agency_inbox(actor=actor_of(request))]


@router.get(
    "/people/{person_id}",
    response=list[ProviderReferralOut],
    summary="A person's referrals to providers",
    description=(
        "Newest first. The sending side (police and probation coordinators and offender "
        "managers, the lead worker) sees all; a receiving agency only its own active ones. "
        "Audited."
    ),
)
def list_for_person(request: HttpRequest, person_id: int = PERSON_ID) -> list[dict[str, Any]]:
    person = Person.objects.get(pk=person_id)
    return [_out(r) for r in selectors.person_referrals(actor=actor_of(request), person=person)]


@router.get(
    "/{referral_id}",
    response=ProviderReferralDetailOut,
    summary="A referral to a provider, with its history",
    description="403 for a referral you may not see (a closed one, for its provider). Audited.",
)
def get_one(request: HttpRequest, referral_id: int = REFERRAL_ID) -> dict[str, Any]:
    referral = selectors.get_referral(actor=actor_of(request), referral_id=referral_id)
    return _detail(referral)


@router.post(
    "",
    response={201: ProviderReferralDetailOut},
    summary="Send a referral to a provider",
    description=(
        "The registration's lead worker and police and probation coordinators and offender "
        "managers. Give the person's consent (date and how recorded) or a legal basis for "
        "sharing without consent. Opens the receiving agency's access to the person's basics "
        "until the referral closes. Audited."
    ),
)
def send(request: HttpRequest, payload: ProviderReferralIn) -> Status:
    actor = actor_of(request)
    registration = Registration.objects.select_related("person").get(pk=payload.registration_id)
    # Check permission first, so unknown codes tell a refused caller nothing.
    require(actor, ProviderReferralAction.SEND, registration=registration)
    errors: dict[str, list[str]] = {}
    agency = Agency.objects.filter(code=payload.receiving_agency).first()
    if agency is None:
        errors["receiving_agency"] = [
            f"receiving_agency: no agency with the code {payload.receiving_agency!r}"
        ]
    worker = None
    if payload.receiving_worker:
        worker = get_user_model().objects.filter(username=payload.receiving_worker).first()
        if worker is None:
            errors["receiving_worker"] = [
                f"receiving_worker: no user with the username {payload.receiving_worker!r}"
            ]
    if errors:
        raise ValidationError(errors)
    referral = services.send_referral(
        actor=actor,
        registration=registration,
        service_type=payload.service_type,
        receiving_agency=agency,
        receiving_worker=worker,
        reason=payload.reason,
        consent_given_on=payload.consent_given_on,
        consent_recorded_how=payload.consent_recorded_how,
        legal_basis=payload.legal_basis,
        legal_basis_detail=payload.legal_basis_detail,
    )
    return Status(201, _detail(referral))


@router.post(
    "/{referral_id}/transitions",
    response=ProviderReferralDetailOut,
    summary="Take a step on a referral to a provider",
    description=(
        "accept, start, complete (optional note in `reason`) and decline (reason): the "
        "receiving agency; end_early (reason): either side; withdraw (reason): the sending "
        "side. 409 when the referral's state does not allow the step. Closing the referral "
        "ends the receiving agency's access. Audited."
    ),
)
def transition(
    request: HttpRequest, payload: TransitionIn, referral_id: int = REFERRAL_ID
) -> dict[str, Any]:
    actor = actor_of(request)
    referral = selectors.get_referral(actor=actor, referral_id=referral_id)
    done = services.transition(
        actor=actor, referral=referral, action=payload.action, reason=payload.reason
    )
    return _detail(done)
