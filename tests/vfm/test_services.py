"""Publishing assumptions and programme costs, recording and measuring contracts: permission
(refusals audited), validation with paths, versions that never change, audit in the same write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from openiom.access.services import AccessDenied
from openiom.audit.models import AuditEvent
from openiom.cohort.models import CohortDefinition, Registration, RegistrationStatus
from openiom.offending.models import Offence
from openiom.partnership.models import Agency
from openiom.scoring.defaults import COST_KEY
from openiom.scoring.models import UnitCostTable
from openiom.vfm import calculations as calc
from openiom.vfm import defaults, selectors, services
from openiom.vfm.models import (
    AppraisalAssumptions,
    ContractMeasurement,
    ProgrammeCost,
    ResultsContract,
)
from openiom.vfm.validation import VfmConfigError

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 1, 1)


def contract_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "IOM payment-by-results pilot",
        "commissioner": "Police and Crime Commissioner",
        "provider": "Wessex IOM partnership",
        "cohort_definition": "Everyone registered on the fixed cohort in the year.",
        "cohort_keys": ["fixed"],
        "cohort_from": dt.date(2024, 1, 1),
        "cohort_to": dt.date(2024, 12, 31),
        "baseline_binary_rate": 0.5,
        "baseline_frequency": 3.0,
        "baseline_description": "2022 fixed cohort, local data [U].",
        "binary_target_points": 5.0,
        "frequency_target_percent": 10.0,
        "binary_payment_per_person": Decimal("1000"),
        "frequency_payment_per_reoffence": Decimal("500"),
        "minimum_cohort_size": 2,
        "effective_from": dt.date(2024, 1, 1),
    }
    fields.update(changes)
    return fields


def test_shipped_defaults_are_seeded_with_sources() -> None:
    record = AppraisalAssumptions.objects.get(key=defaults.ASSUMPTIONS_KEY, version=1)
    assert record.config == defaults.ASSUMPTIONS
    assert record.config["discount_rate"]["value"] == 0.035
    assert record.config["horizon_years"]["value"] == 10
    assert record.config["unit_cost_table"] == {"key": COST_KEY, "version": 1}
    table = selectors.unit_cost_table_for(record)
    assert table is not None and table.config["price_year"] == "2015/16"
    programme = ProgrammeCost.objects.get(key=defaults.PROGRAMME_KEY, version=1)
    assert "[U]" in programme.source
    inputs = selectors.appraisal_inputs(on=TODAY)
    assert inputs.versions["unit_cost_table"]["key"] == COST_KEY


def test_publish_assumptions_makes_a_new_version_and_keeps_the_old(actor: Any) -> None:
    config = defaults.assumptions_config()
    config["discount_rate"]["value"] = 0.03
    config["discount_rate"]["low"] = 0.01
    version = services.publish_assumptions(
        actor=actor("analyst"),
        config=config,
        effective_from=TODAY,
        source="Local decision [U]",
        change_note="Board asked for 3%",
    )
    assert version.version == 2 and version.created_by is not None
    old = AppraisalAssumptions.objects.get(key=defaults.ASSUMPTIONS_KEY, version=1)
    assert old.config == defaults.ASSUMPTIONS  # untouched
    assert selectors.assumptions_in_force(on=TODAY) == version
    assert selectors.assumptions_in_force(on=TODAY - dt.timedelta(days=1)) == old
    event = AuditEvent.objects.get(event_type="vfm.assumptions_published")
    assert event.category == "alteration" and event.actor_username == "analyst"
    assert event.before["config"]["discount_rate"]["value"] == 0.035
    assert event.after["config"]["discount_rate"]["value"] == 0.03
    assert event.object_id == str(version.pk)
    with pytest.raises(PermissionError):
        old.name = "changed"
        old.save()


@pytest.mark.parametrize(
    "username", ["police.officer", "probation.om", "housing.worker", "dpo", "admin"]
)
def test_publishing_is_refused_and_the_refusal_audited(actor: Any, username: str) -> None:
    with pytest.raises(AccessDenied):
        services.publish_assumptions(
            actor=actor(username),
            config=defaults.assumptions_config(),
            effective_from=TODAY,
            source="x [U]",
            change_note="x",
        )
    assert AppraisalAssumptions.objects.count() == 1
    denied = AuditEvent.objects.get(event_type="access.denied")
    assert denied.details["action"] == "publish value-for-money assumptions"
    assert denied.actor_username == username
    with pytest.raises(AccessDenied):
        services.publish_programme_costs(
            actor=actor(username),
            config=defaults.programme_config(),
            effective_from=TODAY,
            source="x",
            change_note="x",
        )
    with pytest.raises(AccessDenied):
        services.agree_contract(actor=actor(username), reference="pbr", **contract_fields())
    assert ResultsContract.objects.count() == 0
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 3


def test_invalid_assumptions_list_every_problem_with_its_path(actor: Any) -> None:
    config = defaults.assumptions_config()
    config["discount_rate"]["value"] = 0.5
    config["persistence"]["low"] = 0.9  # above the central value 0
    config["horizon_years"]["value"] = 2.5
    config["deflator"]["index"]["2019"] = "high"
    config["unit_cost_table"]["version"] = 99
    del config["proven_to_actual"]["source"]
    with pytest.raises(VfmConfigError) as info:
        services.publish_assumptions(
            actor=actor("coordinator"),
            config=config,
            effective_from=TODAY,
            source="",
            change_note="",
        )
    errors = info.value.errors
    assert "config.discount_rate.value: must be between 0 and 0.2" in errors
    assert "config.persistence.low: must not be above the central value" in errors
    assert "config.horizon_years.value: must be a whole number" in errors
    assert "config.deflator.index.2019: must be a number" in errors
    assert "config.proven_to_actual.source: must not be empty" in errors
    assert any(e.startswith("source:") for e in errors)
    assert any(e.startswith("change_note:") for e in errors)
    assert AppraisalAssumptions.objects.count() == 1
    assert not AuditEvent.objects.filter(event_type="vfm.assumptions_published").exists()

    config = defaults.assumptions_config()
    config["unit_cost_table"]["version"] = 99
    with pytest.raises(VfmConfigError, match="home-office-costs-2018 version 99 does not exist"):
        services.publish_assumptions(
            actor=actor("coordinator"),
            config=config,
            effective_from=TODAY,
            source="s",
            change_note="c",
        )
    config = defaults.assumptions_config()
    config["appraisal_year"] = "2031"
    with pytest.raises(VfmConfigError, match=r"config\.appraisal_year: no index value"):
        services.publish_assumptions(
            actor=actor("coordinator"),
            config=config,
            effective_from=TODAY,
            source="s",
            change_note="c",
        )


def test_publish_programme_costs_and_start_a_new_programme(actor: Any) -> None:
    config = defaults.programme_config()
    config["staff"][0]["hourly_cost"] = 50.0
    version = services.publish_programme_costs(
        actor=actor("coordinator"),
        config=config,
        effective_from=TODAY,
        source="Force finance, 2025 pay rates [V]",
        change_note="Police hourly cost",
    )
    assert version.version == 2
    assert (
        ProgrammeCost.objects.get(key=defaults.PROGRAMME_KEY, version=1).config
        == defaults.PROGRAMME
    )
    assert AuditEvent.objects.filter(event_type="vfm.programme_costs_published").count() == 1

    with pytest.raises(VfmConfigError, match="name: there is no programme called 'drug-pathway'"):
        services.publish_programme_costs(
            actor=actor("coordinator"),
            key="drug-pathway",
            config=config,
            effective_from=TODAY,
            source="s",
            change_note="c",
        )
    started = services.publish_programme_costs(
        actor=actor("coordinator"),
        key="drug-pathway",
        name="Drug pathway",
        config=config,
        effective_from=TODAY,
        source="s",
        change_note="c",
    )
    assert (started.key, started.version, started.name) == ("drug-pathway", 1, "Drug pathway")


def test_invalid_programme_costs_name_the_row_and_field(actor: Any) -> None:
    config = defaults.programme_config()
    config["price_year"] = "1990"
    config["staff"][1]["hours_per_person_month"] = -2
    config["interventions"][0]["share_receiving"] = 1.5
    config["set_up"][0]["status"] = "maybe"
    with pytest.raises(VfmConfigError) as info:
        services.publish_programme_costs(
            actor=actor("coordinator"),
            config=config,
            effective_from=TODAY,
            source="s",
            change_note="c",
        )
    errors = info.value.errors
    assert "config.staff[1].hours_per_person_month: must be between 0 and 744" in errors
    assert "config.interventions[0].share_receiving: must be between 0 and 1" in errors
    assert "config.set_up[0].status: must be V, V2 or U" in errors
    assert any(
        e.startswith("config.price_year: no index value for price year '1990'") for e in errors
    )


def test_appraise_with_policy_records_the_versions(actor: Any) -> None:
    estimate = calc.effect_estimate(difference=-0.4, ci_low=-0.8, ci_high=0.0, comparison=2.05)
    ap = selectors.appraise_with_policy(estimate=estimate, cohort_size=142, on=TODAY)
    assert ap.versions["assumptions"]["version"] == 1
    assert ap.versions["programme_costs"]["key"] == defaults.PROGRAMME_KEY
    assert ap.versions["unit_cost_table"]["key"] == COST_KEY
    # The illustrative offence mix is used (and flagged) when no mix is given.
    mix = next(a for a in ap.assumptions if a["key"] == "offence_mix")
    assert mix["status"] == "U" and mix["unverified"]
    own = selectors.appraise_with_policy(
        estimate=estimate, cohort_size=142, on=TODAY, mix={"Robbery": 3, "Criminal damage": 1}
    )
    assert own.cost_per_crime != ap.cost_per_crime
    with pytest.raises(selectors.VfmUnavailable):
        selectors.appraise_with_policy(estimate=estimate, cohort_size=10, on=dt.date(2019, 1, 1))


def test_offence_mix_counts_categories(make_person: Any, offence_code: Any) -> None:
    person = make_person()
    for code, day in (("028/01", 1), ("028/01", 2), ("105/01", 3)):
        Offence.objects.create(
            person=person,
            offence_code=offence_code(code),
            offence_date=dt.date(2024, 1, day),
            disposal_type="caution",
            disposal_date=dt.date(2024, 2, 1),
        )
    mix = selectors.offence_mix(person_ids=[person.pk])
    burglary, assault = offence_code("028/01").category, offence_code("105/01").category
    assert mix == ({burglary: 2, assault: 1} if burglary != assault else {burglary: 3})
    assert selectors.offence_mix(person_ids=[person.pk], start=dt.date(2024, 1, 3)) == {assault: 1}


def test_contracts_are_fixed_and_varied_by_a_new_version(actor: Any) -> None:
    contract = services.agree_contract(
        actor=actor("coordinator"), reference="pbr-2024", **contract_fields()
    )
    assert contract.version == 1 and contract.terms().baseline_frequency == 3.0
    with pytest.raises(PermissionError):
        contract.baseline_binary_rate = 0.4
        contract.save()
    contract.refresh_from_db()
    assert contract.baseline_binary_rate == 0.5
    with pytest.raises(VfmConfigError, match="change_note: say why"):
        services.agree_contract(
            actor=actor("coordinator"), reference="pbr-2024", **contract_fields()
        )
    varied = services.agree_contract(
        actor=actor("analyst"),
        reference="pbr-2024",
        change_note="Baseline corrected",
        **contract_fields(baseline_binary_rate=0.48),
    )
    assert varied.version == 2
    assert ResultsContract.objects.get(pk=contract.pk).baseline_binary_rate == 0.5
    assert [c.pk for c in selectors.contracts()] == [varied.pk]
    events = AuditEvent.objects.filter(event_type="vfm.contract_agreed").order_by("id")
    assert events.count() == 2 and events[1].before["baseline_binary_rate"] == 0.5


def test_contract_validation_names_each_field(actor: Any) -> None:
    with pytest.raises(VfmConfigError) as info:
        services.agree_contract(
            actor=actor("coordinator"),
            reference="bad ref!",
            **contract_fields(
                name="",
                baseline_binary_rate=1.5,
                cohort_to=dt.date(2023, 1, 1),
                frequency_basis="per_day",
                minimum_cohort_size=0,
            ),
        )
    errors = info.value.errors
    for start in (
        "reference:",
        "name:",
        "baseline_binary_rate:",
        "cohort_to:",
        "frequency_basis:",
        "minimum_cohort_size:",
    ):
        assert any(e.startswith(start) for e in errors), start
    assert ResultsContract.objects.count() == 0


def test_measure_contract_with_entered_figures(actor: Any) -> None:
    contract = services.agree_contract(
        actor=actor("coordinator"), reference="pbr", **contract_fields()
    )
    m = services.measure_contract(
        actor=actor("analyst"),
        contract=contract,
        as_of=TODAY,
        cohort_size=100,
        reoffenders=42,
        reoffences=110,
    )
    assert m.source == "entered" and m.result["payment"] == pytest.approx(16_000.0)
    event = AuditEvent.objects.get(event_type="vfm.contract_measured")
    assert event.category == "combination" and event.details["payment"] == pytest.approx(16_000.0)
    with pytest.raises(calc.AppraisalError, match="together"):
        services.measure_contract(actor=actor("analyst"), contract=contract, cohort_size=10)
    with pytest.raises(AccessDenied):
        services.measure_contract(
            actor=actor("housing.worker"),
            contract=contract,
            cohort_size=1,
            reoffenders=0,
            reoffences=0,
        )
    assert ContractMeasurement.objects.count() == 1


def _register(person: Any, key: str, start: dt.date, worker: Any) -> Registration:
    cohort = CohortDefinition.objects.filter(key=key).order_by("-version").first()
    assert cohort is not None
    return Registration.objects.create(
        person=person,
        cohort=cohort,
        cohort_key=key,
        lead_agency=Agency.objects.get(code="probation-wessex"),
        lead_worker=worker,
        start_date=start,
        review_date=start + dt.timedelta(days=90),
        planned_end_date=start + dt.timedelta(days=365),
        status=RegistrationStatus.ACTIVE,
        status_since=start,
        created_by=worker,
    )


def test_measure_contract_from_the_outcome_engine(
    actor: Any, personas: dict[str, Any], make_person: Any, offence_code: Any
) -> None:
    """Three registered people; outcomes by the MoJ rules (365-day follow-up, 182-day wait):

    - A registered 1 Mar 2024, offences 1 Jun 2024 (proven 1 Jul) and 1 Feb 2025 (proven 1 Mar):
      2 reoffences;
    - B registered 1 Apr 2024, offence 1 May 2025 committed after the follow-up: not a reoffence;
    - C registered 1 Dec 2024 on the flex cohort: not in the contract (fixed only);
    - D registered 1 Nov 2024, outcome final 1 May 2026, after as_of: left out (pending).
    As of 1 Jan 2026: 2 people measured, 1 reoffender, 2 reoffences.
    """
    worker = personas["probation.om"]
    a, b, c, d = (make_person() for _ in range(4))
    _register(a, "fixed", dt.date(2024, 3, 1), worker)
    _register(b, "fixed", dt.date(2024, 4, 1), worker)
    _register(c, "flex", dt.date(2024, 12, 1), worker)
    _register(d, "fixed", dt.date(2024, 11, 1), worker)
    code = offence_code("028/01")
    for person, committed, proven in (
        (a, dt.date(2024, 6, 1), dt.date(2024, 7, 1)),
        (a, dt.date(2025, 2, 1), dt.date(2025, 3, 1)),
        (b, dt.date(2025, 5, 1), dt.date(2025, 6, 1)),
        (c, dt.date(2025, 1, 5), dt.date(2025, 2, 1)),
    ):
        Offence.objects.create(
            person=person,
            offence_code=code,
            offence_date=committed,
            disposal_type="community_order",
            disposal_date=proven,
        )
    contract = services.agree_contract(
        actor=actor("coordinator"), reference="pbr", **contract_fields()
    )
    assert [p for p, _ in selectors.contract_index(contract)] == sorted([a.pk, b.pk, d.pk])
    m = services.measure_contract(actor=actor("analyst"), contract=contract, as_of=TODAY)
    assert m.source == "outcomes"
    assert (m.cohort_size, m.reoffenders, m.reoffences, m.pending) == (2, 1, 2, 1)
    # Rate 1/2 = 50% against a 50% baseline: binary not met; frequency 2.0 against 3.0 per
    # reoffender, a 33% fall: met, 3.0 × 1 − 2 = 1 reoffence fewer → £500.
    assert not m.result["binary_met"] and m.result["frequency_met"]
    assert m.result["payment"] == pytest.approx(500.0)
    assert any("1 people were left out" in n for n in m.result["notes"])


def test_a_contract_with_nobody_registered_says_so(actor: Any) -> None:
    contract = services.agree_contract(
        actor=actor("coordinator"), reference="pbr", **contract_fields()
    )
    with pytest.raises(calc.AppraisalError, match="no one was registered"):
        services.measure_contract(actor=actor("analyst"), contract=contract, as_of=TODAY)


def test_unit_cost_table_is_reused_not_copied() -> None:
    # Value for money reads scoring's table; it has the price year and a status per row.
    table = UnitCostTable.objects.get(key=COST_KEY, version=1)
    assert table.config["price_year"] == "2015/16"
    rows = list(table.config["categories"].values()) + list(table.config["groups"].values())
    assert all(row["status"] in {"V", "V2", "U"} and row["source"] for row in rows)


def _evaluation(estimates: list[Any], matched: int) -> Any:
    import numpy as np

    from openiom.evaluation.methods import types

    empty = np.array([], dtype=np.int64)
    return types.EvaluationResult(
        spec=types.EvaluationSpec(
            treatment="t", outcome="y", covariates=("age",), label="Fixed 2024"
        ),
        attrition=[],
        propensity=types.PropensityModel(["age"], 0.0, [0.0], [0.0], np.zeros(1), np.zeros(1)),
        matching=types.MatchResult(
            empty, empty, empty, empty, np.zeros(1), None, matched, matched, 0, 0, 0
        ),
        balance=[],
        estimates=estimates,
        survival=None,
        sensitivity=types.Sensitivity(None, None, None),
        headline="",
    )


def test_appraise_evaluation_uses_frequency_then_rate() -> None:
    rate = calc.effect_estimate(
        difference=-0.05, ci_low=-0.1, ci_high=0.0, comparison=0.5, measure="one_year_rate"
    )
    frequency = calc.effect_estimate(difference=-0.4, ci_low=-0.8, ci_high=0.0, comparison=2.0)
    assert calc.pick_estimate([rate, frequency]) is frequency
    assert calc.pick_estimate([rate]) is rate
    assert calc.pick_estimate([replace_measure(frequency, "harm")]) is None
    ap = selectors.appraise_evaluation(_evaluation([rate, frequency], 120), on=TODAY)
    assert ap is not None and ap.cohort_size == 120 and ap.measure == "frequency"
    assert ap.label == "Fixed 2024"
    only_rate = selectors.appraise_evaluation(_evaluation([rate], 120), on=TODAY)
    assert only_rate is not None and only_rate.converted_from_rate
    assert selectors.appraise_evaluation(_evaluation([rate], 0), on=TODAY) is None


def replace_measure(estimate: Any, measure: str) -> Any:
    from dataclasses import replace

    return replace(estimate, measure=measure)
