"""Value-for-money endpoints: the assumptions and programme costs (read and publish), the
appraisal of a matched estimate, and results contracts with their measurements.

Same permissions and audit as the pages. Bad input is a 422 with one message per field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Router, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from openiom.access.policy import EvaluationAction
from openiom.access.services import require
from openiom.accounts.actor import Actor
from openiom.vfm import calculations as calc
from openiom.vfm import selectors, services
from openiom.vfm.charts import tornado_svg
from openiom.vfm.defaults import ASSUMPTIONS_KEY
from openiom.vfm.models import (
    AppraisalAssumptions,
    ContractMeasurement,
    ProgrammeCost,
    ResultsContract,
)
from openiom.vfm.schemas import (
    AppraisalOut,
    AppraiseIn,
    ContractIn,
    ContractOut,
    MeasureIn,
    MeasurementOut,
    PolicyPublishIn,
    PolicyVersionOut,
)
from openiom.vfm.validation import VfmConfigError

router = Router(tags=["value for money"])

MAX_ID = 2**63 - 1
CONTRACT_ID = Path(..., ge=1, le=MAX_ID, description="The contract (version)'s id.")


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "auth", None)
    assert isinstance(actor, Actor)
    return actor


def _unprocessable(errors: list[str], where: str = "body") -> NinjaValidationError:
    items = []
    for message in errors:
        field = message.split(":", 1)[0] if ":" in message else ""
        loc = (
            [where, *[p for p in field.split(".") if p]] if field and " " not in field else [where]
        )
        items.append({"type": "value_error", "loc": loc, "msg": message})
    return NinjaValidationError(items)


def _version_out(obj: Any, in_force: Any) -> dict[str, Any]:
    return {
        "id": obj.pk,
        "key": obj.key,
        "version": obj.version,
        "name": obj.name,
        "effective_from": obj.effective_from,
        "source": obj.source,
        "change_note": obj.change_note,
        "config": obj.config,
        "in_force": in_force is not None and in_force.pk == obj.pk,
        "created_at": obj.created_at,
        "created_by": obj.created_by.get_username() if obj.created_by else None,
    }


def _versions(
    model: type[AppraisalAssumptions] | type[ProgrammeCost], key: str
) -> list[dict[str, Any]]:
    versions = selectors.versions_of(model, key)
    if not versions:
        raise HttpError(404, f"No {model._meta.verbose_name} called {key!r}.")
    in_force = model.in_force(key, timezone.localdate())
    return [_version_out(v, in_force) for v in versions]


# --- assumptions ----------------------------------------------------------------------------------


@router.get(
    "/assumptions",
    response=list[PolicyVersionOut],
    summary="Every version of the appraisal assumptions",
    description="Newest first; `in_force` marks the version that applies today.",
)
def list_assumptions(request: HttpRequest) -> list[dict[str, Any]]:
    require(actor_of(request), EvaluationAction.VIEW_EVALUATION)
    return _versions(AppraisalAssumptions, ASSUMPTIONS_KEY)


@router.post(
    "/assumptions",
    response={201: PolicyVersionOut},
    summary="Publish a new version of the appraisal assumptions",
    description=(
        "Coordinators and analysts. The whole configuration is validated and every problem is "
        "returned with its path; earlier versions are never changed. Audited."
    ),
)
def publish_assumptions(request: HttpRequest, payload: PolicyPublishIn) -> Status:
    try:
        version = services.publish_assumptions(
            actor=actor_of(request),
            config=payload.config,
            effective_from=payload.effective_from,
            source=payload.source,
            change_note=payload.change_note,
        )
    except VfmConfigError as exc:
        raise _unprocessable(exc.errors) from None
    return Status(
        201, _version_out(version, AppraisalAssumptions.in_force(version.key, timezone.localdate()))
    )


# --- programme costs ------------------------------------------------------------------------------


@router.get(
    "/programme-costs",
    response=list[PolicyVersionOut],
    summary="The latest version of each programme's costs",
)
def list_programmes(request: HttpRequest) -> list[dict[str, Any]]:
    require(actor_of(request), EvaluationAction.VIEW_EVALUATION)
    today = timezone.localdate()
    return [
        _version_out(p, ProgrammeCost.in_force(p.key, today))
        for p in selectors.latest_of_each(ProgrammeCost)
    ]


@router.get(
    "/programme-costs/{key}",
    response=list[PolicyVersionOut],
    summary="Every version of one programme's costs",
)
def programme_versions(
    request: HttpRequest, key: str = Path(..., max_length=64)
) -> list[dict[str, Any]]:
    require(actor_of(request), EvaluationAction.VIEW_EVALUATION)
    return _versions(ProgrammeCost, key)


@router.post(
    "/programme-costs/{key}",
    response={201: PolicyVersionOut},
    summary="Publish a new version of a programme's costs",
    description="A new key starts a new programme (give a `name`). Audited.",
)
def publish_programme(
    request: HttpRequest, payload: PolicyPublishIn, key: str = Path(..., max_length=64)
) -> Status:
    if not key.replace("-", "").replace("_", "").isalnum():
        raise _unprocessable(["key: use letters, numbers, hyphens and underscores only"], "path")
    try:
        version = services.publish_programme_costs(
            actor=actor_of(request),
            key=key,
            config=payload.config,
            effective_from=payload.effective_from,
            source=payload.source,
            change_note=payload.change_note,
            name=payload.name,
        )
    except VfmConfigError as exc:
        raise _unprocessable(exc.errors) from None
    return Status(201, _version_out(version, ProgrammeCost.in_force(key, timezone.localdate())))


# --- appraisal --------------------------------------------------------------------------------------


@router.post(
    "/appraise",
    response=AppraisalOut,
    summary="Appraise a matched estimate",
    description=(
        "The benefit–cost ratio, net present value, break-even reduction, projection and one-way "
        "sensitivity for an estimate (difference and 95% CI in reoffences per person, or in the "
        "one-year rate), using the policy versions in force on `on` (today by default). Every "
        "assumption is returned with its source and whether it is verified. Nothing is stored."
    ),
)
def appraise(request: HttpRequest, payload: AppraiseIn) -> dict[str, Any]:
    require(actor_of(request), EvaluationAction.VIEW_EVALUATION)
    estimate = calc.effect_estimate(
        difference=payload.difference,
        ci_low=payload.ci_low,
        ci_high=payload.ci_high,
        comparison=payload.comparison,
        measure=payload.measure,
    )
    try:
        appraisal = selectors.appraise_with_policy(
            estimate=estimate,
            cohort_size=payload.cohort_size,
            on=payload.on,
            programme_key=payload.programme_key,
            mix=payload.offence_mix,
            mix_source="Offence mix given with the request.",
        )
    except calc.AppraisalError as exc:
        field = exc.field.removeprefix("estimate.")
        raise _unprocessable([f"{field}: {exc.reason}"]) from None
    except selectors.VfmUnavailable as exc:
        raise HttpError(409, str(exc)) from None
    data = appraisal.to_dict()
    return {"appraisal": data, "tornado_svg": tornado_svg(data) if payload.tornado_svg else None}


# --- contracts --------------------------------------------------------------------------------------


@router.get("/contracts", response=list[ContractOut], summary="Results contracts (latest versions)")
def list_contracts(request: HttpRequest) -> list[ResultsContract]:
    require(actor_of(request), EvaluationAction.VIEW_EVALUATION)
    return selectors.contracts()


@router.post(
    "/contracts",
    response={201: ContractOut},
    summary="Record a results contract, or a variation of one",
    description=(
        "Its measure definitions are fixed once recorded; the same reference again records the "
        "next version (give a `change_note`). Audited."
    ),
)
def create_contract(request: HttpRequest, payload: ContractIn) -> Status:
    fields = payload.dict()
    reference = fields.pop("reference")
    change_note = fields.pop("change_note")
    if fields.get("effective_from") is None:
        fields.pop("effective_from")
    try:
        contract = services.agree_contract(
            actor=actor_of(request), reference=reference, change_note=change_note, **fields
        )
    except VfmConfigError as exc:
        raise _unprocessable(exc.errors) from None
    return Status(201, contract)


@router.get("/contracts/{contract_id}", response=ContractOut, summary="One results contract")
def contract_detail(request: HttpRequest, contract_id: int = CONTRACT_ID) -> ResultsContract:
    require(actor_of(request), EvaluationAction.VIEW_EVALUATION)
    return ResultsContract.objects.get(pk=contract_id)


@router.get(
    "/contracts/{contract_id}/measurements",
    response=list[MeasurementOut],
    summary="A contract's measurements, newest first",
)
def contract_measurements(
    request: HttpRequest, contract_id: int = CONTRACT_ID
) -> list[ContractMeasurement]:
    require(actor_of(request), EvaluationAction.VIEW_EVALUATION)
    return selectors.measurements(ResultsContract.objects.get(pk=contract_id))


@router.post(
    "/contracts/{contract_id}/measurements",
    response={201: MeasurementOut},
    summary="Measure a contract's cohort against its baseline",
    description=(
        "With `cohort_size`, `reoffenders` and `reoffences` the figures are used as given; "
        "without them the outcome engine measures the registered cohort from the area's data "
        "under the contract's follow-up and waiting periods. Stored and audited."
    ),
)
def measure_contract(
    request: HttpRequest, payload: MeasureIn, contract_id: int = CONTRACT_ID
) -> Status:
    actor = actor_of(request)
    require(actor, EvaluationAction.RUN_EVALUATION)
    contract = ResultsContract.objects.get(pk=contract_id)
    try:
        measurement = services.measure_contract(
            actor=actor,
            contract=contract,
            as_of=payload.as_of,
            cohort_size=payload.cohort_size,
            reoffenders=payload.reoffenders,
            reoffences=payload.reoffences,
        )
    except calc.AppraisalError as exc:
        raise _unprocessable([f"{exc.field}: {exc.reason}"]) from None
    return Status(201, measurement)
