"""Value-for-money pages: viewing with sources and flags, publishing with specific field errors,
the appraisal calculator, contracts; refusals are 403 and audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.vfm import defaults
from openiom.vfm.models import (
    AppraisalAssumptions,
    ContractMeasurement,
    ProgrammeCost,
    ResultsContract,
)
from openiom.vfm.validation import ASSUMPTION_LIMITS
from tests.web.helpers import assert_csp_safe, html

pytestmark = pytest.mark.django_db

VIEWERS = ["coordinator", "analyst", "police.officer", "probation.om"]
REFUSED = ["housing.worker", "vcs.mentor", "admin"]


def assumptions_post(config: dict[str, Any] | None = None, **overrides: str) -> dict[str, str]:
    config = config or defaults.assumptions_config()
    ref = config["unit_cost_table"]
    data = {
        "effective_from": "1/1/2026",
        "source": "Local review [U]",
        "change_note": "Annual review",
        "appraisal_year": config["appraisal_year"],
        "unit_cost_table": f"{ref['key']}:{ref['version']}",
        "deflator_series": config["deflator"]["series"],
        "deflator_base": config["deflator"]["base"],
        "deflator_status": config["deflator"]["status"],
        "deflator_source": config["deflator"]["source"],
        "deflator_index": "\n".join(f"{k}: {v}" for k, v in config["deflator"]["index"].items()),
        "mix_status": config["offence_mix"]["status"],
        "mix_source": config["offence_mix"]["source"],
        "mix_shares": "\n".join(f"{k}: {v}" for k, v in config["offence_mix"]["shares"].items()),
    }
    for key in ASSUMPTION_LIMITS:
        for part in ("value", "low", "high", "status", "source"):
            value = config[key].get(part)
            data[f"{key}__{part}"] = "" if value is None else str(value)
    data.update(overrides)
    return data


def programme_post(**overrides: str) -> dict[str, str]:
    config = defaults.programme_config()
    data = {
        "name": "IOM programme costs",
        "effective_from": "1/1/2026",
        "source": "Force finance [V]",
        "change_note": "Pay award",
        "price_year": config["price_year"],
    }
    for part in ("value", "low", "high", "status", "source"):
        data[f"months_per_person__{part}"] = str(config["months_per_person"][part])
    for section in ("staff", "interventions", "set_up"):
        for i, row in enumerate(config[section]):
            for name, value in row.items():
                data[f"{section}_{i}_{name}"] = str(value)
    data.update(overrides)
    return data


@pytest.mark.parametrize("username", VIEWERS)
def test_index_shows_assumptions_with_sources_and_flags(client_for: Any, username: str) -> None:
    response = client_for(username).get(reverse("vfm:index"))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert "Appraisal assumptions" in body
    assert "Discount rate" in body and "0.035" in body
    assert "Green Book" in body  # the source is shown
    assert "[U]" in body and "unconfirmed" in body
    assert reverse("scoring:policy", args=["cost", "home-office-costs-2018"]) in body
    assert reverse("vfm:programme", args=[defaults.PROGRAMME_KEY]) in body
    assert (reverse("vfm:assumptions_publish") in body) == (username in {"coordinator", "analyst"})


@pytest.mark.parametrize("username", REFUSED)
def test_refused_personas_get_403_and_it_is_audited(client_for: Any, username: str) -> None:
    client = client_for(username)
    for url in (
        reverse("vfm:index"),
        reverse("vfm:assumptions"),
        reverse("vfm:assumptions_publish"),
        reverse("vfm:programme_publish", args=[defaults.PROGRAMME_KEY]),
        reverse("vfm:appraise"),
        reverse("vfm:contract_new"),
    ):
        assert client.get(url).status_code == 403, url
    assert (
        AuditEvent.objects.filter(event_type="access.denied", actor_username=username).count() == 6
    )


def test_viewers_who_may_not_publish_get_403_on_publish_pages(client_for: Any) -> None:
    client = client_for("police.officer")
    assert client.get(reverse("vfm:assumptions_publish")).status_code == 403
    response = client.post(reverse("vfm:assumptions_publish"), assumptions_post())
    assert response.status_code == 403
    assert AppraisalAssumptions.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 2


def test_assumptions_page_shows_deflator_mix_and_versions(client_for: Any) -> None:
    body = assert_csp_safe(client_for("analyst").get(reverse("vfm:assumptions")))
    assert "75.1536" in body and "2024 = 100" in body
    assert "Theft (non-motor)" in body
    assert "In force" in body and "Version 1" in body
    assert (
        client_for("analyst").get(reverse("vfm:assumptions"), {"version": "7"}).status_code == 404
    )


def test_publish_assumptions_page(client_for: Any) -> None:
    client = client_for("coordinator")
    form = assert_csp_safe(client.get(reverse("vfm:assumptions_publish")))
    assert 'name="discount_rate__value"' in form and 'value="0.035"' in form
    response = client.post(
        reverse("vfm:assumptions_publish"), assumptions_post(discount_rate__value="0.03")
    )
    assert response.status_code == 302 and response["Location"] == reverse("vfm:assumptions")
    new = AppraisalAssumptions.objects.get(version=2)
    assert new.config["discount_rate"]["value"] == 0.03
    assert new.config["deflator"]["index"]["2015"] == 75.1536
    assert new.config["offence_mix"]["shares"] == defaults.ASSUMPTIONS["offence_mix"]["shares"]
    assert AppraisalAssumptions.objects.get(version=1).config == defaults.ASSUMPTIONS
    assert AuditEvent.objects.filter(event_type="vfm.assumptions_published").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"discount_rate__value": "abc"}, "discount_rate__value", "Discount rate must be a number"),
        ({"discount_rate__value": "0.9"}, "discount_rate__value", "must be 0.2 or less"),
        (
            {"persistence__low": "0.4"},
            "persistence__low",
            "low value must not be above the central",
        ),
        ({"persistence__high": ""}, "persistence__high", "give both a low and a high value"),
        ({"horizon_years__value": "2.5"}, "horizon_years__value", "must be a whole number"),
        ({"deflator_index": "2015: 75\n2016 76"}, "deflator_index", "Line 2 of the deflator index"),
        ({"mix_shares": "Robbery: lots"}, "mix_shares", "“lots” is not a number"),
        ({"appraisal_year": "2031"}, "appraisal_year", "no index value for price year"),
        ({"change_note": ""}, "change_note", "Enter why this version is being made"),
    ],
)
def test_publish_assumptions_errors_are_specific(
    client_for: Any, overrides: dict[str, str], field: str, message: str
) -> None:
    response = client_for("analyst").post(
        reverse("vfm:assumptions_publish"), assumptions_post(**overrides)
    )
    assert response.status_code == 400
    body = html(response)
    assert f'id="id_{field}-error"' in body
    error = body.split(f'id="id_{field}-error"')[1].split("</p>")[0]
    assert message in error
    assert f'href="#id_{field}"' in body  # the error summary links to the input
    assert AppraisalAssumptions.objects.count() == 1


def test_programme_page_and_publish(client_for: Any) -> None:
    client = client_for("analyst")
    body = assert_csp_safe(client.get(reverse("vfm:programme", args=[defaults.PROGRAMME_KEY])))
    assert "IOM police offender manager" in body and "£270.00" in body  # 6 h × £45
    form = assert_csp_safe(
        client.get(reverse("vfm:programme_publish", args=[defaults.PROGRAMME_KEY]))
    )
    assert 'name="staff_5_agency"' in form  # five rows plus blank ones
    response = client.post(
        reverse("vfm:programme_publish", args=[defaults.PROGRAMME_KEY]),
        programme_post(
            staff_0_hourly_cost="50",
            staff_5_agency="Council",
            staff_5_hours_per_person_month="1",
            staff_5_hourly_cost="30",
            staff_5_status="U",
            staff_5_source="Community safety team [U]",
        ),
    )
    assert response.status_code == 302
    new = ProgrammeCost.objects.get(version=2)
    assert new.config["staff"][0]["hourly_cost"] == 50.0
    assert new.config["staff"][5] == {
        "agency": "Council",
        "role": "",
        "hours_per_person_month": 1.0,
        "hourly_cost": 30.0,
        "status": "U",
        "source": "Community safety team [U]",
    }
    assert len(new.config["interventions"]) == 3  # blank rows left out


def test_programme_publish_errors_name_the_row(client_for: Any) -> None:
    response = client_for("analyst").post(
        reverse("vfm:programme_publish", args=[defaults.PROGRAMME_KEY]),
        programme_post(
            staff_5_agency="Council",
            interventions_1_share_receiving="2",
            price_year="1990",
        ),
    )
    assert response.status_code == 400
    body = html(response)
    assert "Staff row 6: enter the hours per person-month" in body
    assert "Intervention 2: share of the cohort receiving it (0 to 1) must be 1 or less" in body
    assert (
        "no index value for price year &#x27;1990&#x27;" in body
        or "no index value for price year '1990'" in body
    )
    assert ProgrammeCost.objects.count() == 1


def test_appraisal_calculator(client_for: Any) -> None:
    client = client_for("probation.om")
    body = assert_csp_safe(client.get(reverse("vfm:appraise")))
    assert "Try an appraisal" in body and "Result" not in body
    response = client.get(
        reverse("vfm:appraise"),
        {
            "measure": "frequency",
            "comparison": "2.05",
            "difference": "-0.4",
            "ci_low": "-0.8",
            "ci_high": "0",
            "cohort_size": "142",
            "programme": defaults.PROGRAMME_KEY,
        },
    )
    body = assert_csp_safe(response)
    assert "For every 100 people" in body
    assert 'role="img"' in body and "<title" in body  # the tornado chart
    assert 'id="vfm-tornado-table"' in body
    assert "Benefit–cost ratio" in body and "Break-even reduction" in body
    assert "Not verified against a primary source" in body
    bad = client.get(
        reverse("vfm:appraise"),
        {
            "measure": "frequency",
            "comparison": "2",
            "difference": "-3",
            "ci_low": "-1",
            "ci_high": "0",
            "cohort_size": "0",
            "programme": defaults.PROGRAMME_KEY,
        },
    )
    assert bad.status_code == 400
    text = html(bad)
    assert "Cohort size must be 1 or more" in text
    assert "Difference must lie inside its confidence interval" in text


def test_contract_pages(client_for: Any) -> None:
    client = client_for("coordinator")
    assert_csp_safe(client.get(reverse("vfm:contract_new")))
    data = {
        "reference": "pbr-2024",
        "name": "PbR pilot",
        "commissioner": "PCC",
        "provider": "IOM partnership",
        "cohort_definition": "Fixed cohort registrations in 2024",
        "cohort_keys": "fixed",
        "cohort_from": "1/1/2024",
        "cohort_to": "31/12/2024",
        "follow_up_days": "365",
        "waiting_days": "182",
        "baseline_binary_percent": "50",
        "baseline_frequency": "3",
        "frequency_basis": "per_reoffender",
        "baseline_description": "2022 cohort [U]",
        "binary_target_points": "5",
        "frequency_target_percent": "10",
        "binary_payment_per_person": "1000",
        "frequency_payment_per_reoffence": "500",
        "payment_cap": "",
        "minimum_cohort_size": "60",
        "effective_from": "1/1/2024",
    }
    bad = client.post(
        reverse("vfm:contract_new"),
        {**data, "baseline_binary_percent": "150", "cohort_to": "1/1/2023"},
    )
    assert bad.status_code == 400
    text = html(bad)
    assert "Baseline percentage reoffending must be 100 or less" in text
    assert "Last registration date must be on or after the first" in text
    response = client.post(reverse("vfm:contract_new"), data)
    assert response.status_code == 302
    contract = ResultsContract.objects.get()
    assert contract.baseline_binary_rate == 0.5 and contract.cohort_keys == ["fixed"]
    assert response["Location"] == reverse("vfm:contract", args=[contract.pk])
    detail = assert_csp_safe(client.get(reverse("vfm:contract", args=[contract.pk])))
    assert "50.0%" in detail and "Not measured yet" in detail
    assert "within 365 days" in detail and "further 182 days" in detail

    measured = client.post(
        reverse("vfm:contract", args=[contract.pk]),
        {"as_of": "1/1/2026", "cohort_size": "100", "reoffenders": "42", "reoffences": "110"},
    )
    assert measured.status_code == 302
    assert ContractMeasurement.objects.get().result["payment"] == pytest.approx(16_000.0)
    detail = html(client.get(reverse("vfm:contract", args=[contract.pk])))
    assert "£16,000.00" in detail and "Met" in detail
    wrong = client.post(
        reverse("vfm:contract", args=[contract.pk]),
        {"as_of": "1/1/2026", "cohort_size": "10", "reoffenders": "12", "reoffences": ""},
    )
    assert wrong.status_code == 400
    text = html(wrong)
    assert "Reoffenders cannot be more than the cohort size" in text
    assert "Enter the number of reoffences" in text

    # A variation keeps the reference and needs a reason.
    form = html(client.get(reverse("vfm:contract_new"), {"vary": "pbr-2024"}))
    assert 'value="pbr-2024"' in form
    varied = client.post(
        reverse("vfm:contract_new"),
        {**data, "vary": "pbr-2024", "baseline_binary_percent": "48", "change_note": "Corrected"},
    )
    assert varied.status_code == 302
    assert ResultsContract.objects.filter(reference="pbr-2024").count() == 2


def test_contract_measuring_needs_run_evaluation(client_for: Any, actor: Any) -> None:
    from openiom.vfm import services
    from tests.vfm.test_services import contract_fields

    contract = services.agree_contract(
        actor=actor("coordinator"), reference="pbr", **contract_fields()
    )
    client = client_for("police.officer")  # may view, may not run evaluations
    body = html(client.get(reverse("vfm:contract", args=[contract.pk])))
    assert "Measure the cohort" not in body
    response = client.post(
        reverse("vfm:contract", args=[contract.pk]),
        {"as_of": "1/1/2026", "cohort_size": "1", "reoffenders": "0", "reoffences": "0"},
    )
    assert response.status_code == 403
    assert not ContractMeasurement.objects.exists()
