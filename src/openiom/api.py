"""The API root. Each app adds its own router in its api.py.

Authentication is a bearer token (``Authorization: Bearer oiom_...``) or the signed-in session
(CSRF-checked on unsafe methods); either way the endpoint acts as an Actor, so the same access
policy and audit trail apply as on the web pages. Errors are JSON ``{"detail": ...}``: 401 without
credentials, 403 when the policy refuses (the refusal is audited), 404 for unknown records and
422 for bad input, with a message per field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Path, Schema
from ninja.errors import HttpError

from openiom.access.services import AccessDenied
from openiom.accounts.actor import Actor
from openiom.accounts.auth import API_AUTH
from openiom.accounts.models import ApiToken
from openiom.accounts.services import revoke_token
from openiom.audit.api import router as audit_router
from openiom.cohort.api import router as cohort_router
from openiom.cohort.services import CohortError, InvalidTransition
from openiom.evaluation.api import router as evaluation_router
from openiom.people.api import router as people_router
from openiom.scoring.api import router as scoring_router
from openiom.scrutiny.api import router as scrutiny_router

api = NinjaAPI(
    title="openiom API",
    version="1",
    description=__doc__,
    urls_namespace="api",
    auth=API_AUTH,
    docs_url="/docs",
)


def _detail(request: HttpRequest, detail: Any, status: int) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


@api.exception_handler(AccessDenied)
def _access_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    # Already audited by openiom.access.services.require.
    return _detail(request, str(exc), 403)


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _detail(request, str(exc) or "You do not have permission to do that.", 403)


@api.exception_handler(ObjectDoesNotExist)
def _does_not_exist(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    # Person.DoesNotExist -> "No such person."
    model = next(
        (m for m in apps.get_models() if getattr(m, "DoesNotExist", None) is type(exc)), None
    )
    noun = str(model._meta.verbose_name) if model is not None else "record"
    return _detail(request, f"No such {noun}.", 404)


@api.exception_handler(DjangoValidationError)
def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [
            {"type": "value_error", "loc": ["body", field], "msg": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"type": "value_error", "loc": ["body"], "msg": m} for m in exc.messages]
    return _detail(request, errors, 422)


@api.exception_handler(InvalidTransition)
def _invalid_transition(request: HttpRequest, exc: InvalidTransition) -> HttpResponse:
    # A referral step its current state does not allow; the message names the state.
    return _detail(request, str(exc), 409)


_FIELD_PREFIX = re.compile(r"^([a-z][a-z_]*): ")


@api.exception_handler(CohortError)
def _cohort_error(request: HttpRequest, exc: CohortError) -> HttpResponse:
    # The cohort services prefix a message with the field at fault ("note: ...") when there is one.
    message = str(exc)
    match = _FIELD_PREFIX.match(message)
    loc = ["body", match.group(1)] if match else ["body"]
    return _detail(request, [{"type": "value_error", "loc": loc, "msg": message}], 422)


class MeOut(Schema):
    username: str
    full_name: str
    agency: str | None
    agency_name: str | None
    role: str | None
    hub: str | None
    token: str | None  # the token's name when authenticated by token


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def _actor(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


@api.get("/me", response=MeOut, tags=["accounts"], summary="Who the API is acting as")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = _actor(request)
    m = actor.membership
    token = getattr(request, "api_token", None)
    return {
        "username": actor.user.get_username(),
        "full_name": actor.user.get_full_name(),
        "agency": m.agency.code if m else None,
        "agency_name": m.agency.name if m else None,
        "role": m.role if m else None,
        "hub": m.hub.code if m and m.hub else None,
        "token": token.name if token is not None else None,
    }


@api.delete(
    "/tokens/{token_id}",
    response=TokenOut,
    tags=["accounts"],
    summary="Revoke an API token",
    description="Your own tokens (administrators: anyone's). Audited.",
)
def delete_token(request: HttpRequest, token_id: int = Path(..., ge=1, le=2**63 - 1)) -> ApiToken:
    actor = _actor(request)
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        raise HttpError(404, "No such API token.")
    return revoke_token(actor=actor, token=token)


api.add_router("/people", people_router)
api.add_router("/audit", audit_router)
# At the root: /referrals, /registrations, /cohorts, /policies/... and /people/{id}/iom.
api.add_router("", cohort_router)
api.add_router("/scoring", scoring_router)
api.add_router("/scrutiny", scrutiny_router)
api.add_router("/evaluation", evaluation_router)
api.add_router("/vfm", "openiom.vfm.api.router")
api.add_router("/casework", "openiom.casework.api.router")
api.add_router("/plans", "openiom.plans.api.router")
api.add_router("/provider-referrals", "openiom.providers.api.router")
api.add_router("/caseloads", "openiom.caseloads.api.router")
