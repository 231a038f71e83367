"""Value-for-money writes: publishing assumptions and programme costs, recording results contracts
and their measurements. Each checks permission first (so a refusal is audited even though nothing
is written), validates everything, writes and audits in one transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiom.access.policy import EvaluationAction
from openiom.access.services import require
from openiom.audit.services import record, snapshot
from openiom.scoring.models import UnitCostTable
from openiom.vfm import calculations as calc
from openiom.vfm import selectors
from openiom.vfm.defaults import ASSUMPTIONS_KEY, ASSUMPTIONS_NAME, PROGRAMME_KEY, PROGRAMME_NAME
from openiom.vfm.models import (
    AppraisalAssumptions,
    ContractMeasurement,
    FrequencyBasis,
    MeasurementSource,
    ProgrammeCost,
    ResultsContract,
)
from openiom.vfm.validation import VfmConfigError, validate_assumptions, validate_programme

if TYPE_CHECKING:
    from openiom.accounts.actor import Actor


def _user(actor: Actor) -> Any:
    return actor.user if actor.user is not None and actor.user.pk else None


def _common_errors(source: str, change_note: str) -> list[str]:
    errors = []
    if not source.strip():
        errors.append("source: say where the values come from, with their status ([V], [V2], [U])")
    if not change_note.strip():
        errors.append("change_note: say why this version is being made")
    return errors


def publish_assumptions(
    *,
    actor: Actor,
    config: dict[str, Any],
    effective_from: dt.date,
    source: str,
    change_note: str,
    key: str = ASSUMPTIONS_KEY,
    name: str | None = None,
) -> AppraisalAssumptions:
    """Publish the next version of the appraisal assumptions; earlier versions are untouched."""
    require(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS)
    errors = _common_errors(source, change_note)
    try:
        validate_assumptions(config)
    except VfmConfigError as exc:
        errors += exc.errors
    else:
        ref = config["unit_cost_table"]
        if not UnitCostTable.objects.filter(key=ref["key"], version=ref["version"]).exists():
            errors.append(
                f"config.unit_cost_table: {ref['key']} version {ref['version']} does not exist"
            )
    latest = AppraisalAssumptions.objects.filter(key=key).order_by("-version").first()
    if errors:
        raise VfmConfigError(errors)
    return _publish(
        actor=actor,
        model=AppraisalAssumptions,
        key=key,
        name=name or (latest.name if latest else ASSUMPTIONS_NAME),
        latest=latest,
        config=config,
        effective_from=effective_from,
        source=source,
        change_note=change_note,
        event="vfm.assumptions_published",
    )


def publish_programme_costs(
    *,
    actor: Actor,
    config: dict[str, Any],
    effective_from: dt.date,
    source: str,
    change_note: str,
    key: str = PROGRAMME_KEY,
    name: str | None = None,
) -> ProgrammeCost:
    """Publish the next version of a programme's costs (a new key starts a new programme)."""
    require(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS)
    errors = _common_errors(source, change_note)
    in_force = selectors.assumptions_in_force(on=effective_from)
    assumptions = calc.assumptions_from_config(in_force.config) if in_force else None
    try:
        validate_programme(config, assumptions=assumptions)
    except VfmConfigError as exc:
        errors += exc.errors
    latest = ProgrammeCost.objects.filter(key=key).order_by("-version").first()
    if latest is None and not (name or "").strip():
        errors.append(f"name: there is no programme called {key!r}; give a name to start one")
    if errors:
        raise VfmConfigError(errors)
    return _publish(
        actor=actor,
        model=ProgrammeCost,
        key=key,
        name=(name or "").strip() or (latest.name if latest else PROGRAMME_NAME),
        latest=latest,
        config=config,
        effective_from=effective_from,
        source=source,
        change_note=change_note,
        event="vfm.programme_costs_published",
    )


def _publish(
    *,
    actor: Actor,
    model: type[AppraisalAssumptions] | type[ProgrammeCost],
    key: str,
    name: str,
    latest: Any,
    config: dict[str, Any],
    effective_from: dt.date,
    source: str,
    change_note: str,
    event: str,
) -> Any:
    with transaction.atomic():
        try:
            version = model.objects.create(
                key=key,
                version=model.next_version_number(key),
                name=name,
                effective_from=effective_from,
                source=source,
                change_note=change_note,
                config=config,
                created_by=_user(actor),
            )
        except IntegrityError:
            raise VfmConfigError(
                ["version: someone else published a version at the same moment; try again"]
            ) from None
        record(
            event,
            actor=actor,
            obj=version,
            before={"version": latest.version, "config": latest.config} if latest else None,
            after={"version": version.version, "config": config},
            context={"name": version.name, "version": version.version},
            details={
                "key": key,
                "effective_from": effective_from,
                "source": source,
                "change_note": change_note,
            },
        )
    return version


# --- results contracts ------------------------------------------------------------------------

CONTRACT_FIELDS = (
    "name",
    "commissioner",
    "provider",
    "cohort_definition",
    "cohort_keys",
    "cohort_from",
    "cohort_to",
    "follow_up_days",
    "waiting_days",
    "baseline_binary_rate",
    "baseline_frequency",
    "frequency_basis",
    "baseline_description",
    "binary_target_points",
    "frequency_target_percent",
    "binary_payment_per_person",
    "frequency_payment_per_reoffence",
    "payment_cap",
    "minimum_cohort_size",
    "effective_from",
    "notes",
)
REQUIRED_TEXT = ("name", "commissioner", "provider", "cohort_definition", "baseline_description")


def _contract_errors(fields: dict[str, Any]) -> list[str]:
    errors = []
    for name in REQUIRED_TEXT:
        value = fields.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{name}: must not be empty")
    for name in ("cohort_from", "cohort_to", "effective_from"):
        if not isinstance(fields.get(name), dt.date):
            errors.append(f"{name}: must be a date")
    start, end = fields.get("cohort_from"), fields.get("cohort_to")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors.append("cohort_to: must be on or after the first index date")

    def number(name: str, low: float, high: float | None = None, *, whole: bool = False) -> None:
        value = fields.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            errors.append(f"{name}: must be a number")
            return
        if whole and value != int(value):
            errors.append(f"{name}: must be a whole number")
        elif value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"{low:g} or more"
            errors.append(f"{name}: must be {bound}")

    number("follow_up_days", 1, 3650, whole=True)
    number("waiting_days", 0, 3650, whole=True)
    number("baseline_binary_rate", 0, 1)
    number("baseline_frequency", 0, 1000)
    number("binary_target_points", 0, 100)
    number("frequency_target_percent", 0, 100)
    number("binary_payment_per_person", 0, 10**9)
    number("frequency_payment_per_reoffence", 0, 10**9)
    number("minimum_cohort_size", 1, 10**7, whole=True)
    if fields.get("payment_cap") is not None:
        number("payment_cap", 0, 10**11)
    if fields.get("frequency_basis") not in FrequencyBasis.values:
        errors.append("frequency_basis: must be per_reoffender or per_person")
    keys = fields.get("cohort_keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
        errors.append("cohort_keys: must be a list of cohort keys (it may be empty)")
    return errors


def agree_contract(
    *,
    actor: Actor,
    reference: str,
    change_note: str = "",
    **fields: Any,
) -> ResultsContract:
    """Record a results contract, or a variation (the next version) of one with the same
    reference. Its measure definitions are fixed from then on."""
    require(actor, EvaluationAction.PUBLISH_VFM_ASSUMPTIONS)
    unknown = sorted(set(fields) - set(CONTRACT_FIELDS))
    if unknown:
        raise TypeError(f"unknown contract fields: {', '.join(unknown)}")
    values: dict[str, Any] = {
        "follow_up_days": 365,
        "waiting_days": 182,
        "frequency_basis": FrequencyBasis.PER_REOFFENDER,
        "binary_target_points": 0.0,
        "frequency_target_percent": 0.0,
        "binary_payment_per_person": Decimal(0),
        "frequency_payment_per_reoffence": Decimal(0),
        "payment_cap": None,
        "minimum_cohort_size": 60,
        "cohort_keys": [],
        "notes": "",
        "effective_from": timezone.localdate(),
        **fields,
    }
    errors = []
    if not reference or not reference.replace("-", "").replace("_", "").isalnum():
        errors.append("reference: use letters, numbers, hyphens and underscores only")
    elif len(reference) > 64:
        errors.append("reference: at most 64 characters")
    errors += _contract_errors(values)
    latest = ResultsContract.objects.filter(reference=reference).order_by("-version").first()
    if latest is not None and not change_note.strip():
        errors.append("change_note: say why the contract is being varied")
    if errors:
        raise VfmConfigError(errors)
    for name in ("binary_payment_per_person", "frequency_payment_per_reoffence", "payment_cap"):
        if values[name] is not None:
            try:
                values[name] = Decimal(str(values[name])).quantize(Decimal("0.01"))
            except InvalidOperation:
                raise VfmConfigError([f"{name}: must be an amount of money"]) from None
    with transaction.atomic():
        try:
            contract = ResultsContract.objects.create(
                reference=reference,
                version=(latest.version + 1) if latest else 1,
                change_note=change_note,
                created_by=_user(actor),
                **values,
            )
        except IntegrityError:
            raise VfmConfigError(
                ["version: someone else recorded this contract at the same moment; try again"]
            ) from None
        record(
            "vfm.contract_agreed",
            actor=actor,
            obj=contract,
            before=snapshot(latest) if latest else None,
            after=snapshot(contract),
            context={"reference": reference, "version": contract.version},
            details={"change_note": change_note},
        )
    return contract


def measure_contract(
    *,
    actor: Actor,
    contract: ResultsContract,
    as_of: dt.date | None = None,
    cohort_size: int | None = None,
    reoffenders: int | None = None,
    reoffences: int | None = None,
) -> ContractMeasurement:
    """Measure the contract's cohort and store the result. With the three figures given they
    are used as entered; otherwise the evaluation's outcome engine measures the registered cohort
    from the area's data under the contract's follow-up and waiting periods."""
    require(actor, EvaluationAction.RUN_EVALUATION)
    as_of = as_of or timezone.localdate()
    entered = (cohort_size, reoffenders, reoffences)
    terms = contract.terms()
    pending = 0
    if any(v is not None for v in entered):
        if any(v is None for v in entered):
            raise calc.AppraisalError(
                "cohort_size", "give the cohort size, reoffenders and reoffences together"
            )
        assert cohort_size is not None and reoffenders is not None and reoffences is not None
        result = calc.contract_measures(
            cohort_size=cohort_size, reoffenders=reoffenders, reoffences=reoffences, terms=terms
        )
        source = MeasurementSource.ENTERED
    else:
        rows = selectors.contract_outcomes(contract, as_of=as_of)
        if not rows:
            raise calc.AppraisalError(
                "cohort", "no one was registered on the contract's cohorts in its cohort period"
            )
        pending = sum(1 for r in rows if r["reoffended"] is None or r["reoffences"] is None)
        result = calc.contract_measures_from_outcomes(rows, terms)
        source = MeasurementSource.OUTCOMES
    with transaction.atomic():
        measurement = ContractMeasurement.objects.create(
            contract=contract,
            as_of=as_of,
            source=source,
            cohort_size=result.cohort_size,
            reoffenders=result.reoffenders,
            reoffences=result.reoffences,
            pending=pending,
            result=result.to_dict(),
            created_by=_user(actor),
        )
        record(
            "vfm.contract_measured",
            actor=actor,
            obj=measurement,
            context={
                "reference": contract.reference,
                "version": contract.version,
                "as_of": as_of,
                "people": result.cohort_size,
            },
            details={
                "contract_id": contract.pk,
                "source": source,
                "cohort_size": result.cohort_size,
                "reoffenders": result.reoffenders,
                "reoffences": result.reoffences,
                "pending": pending,
                "payment": result.payment,
            },
        )
    return measurement
