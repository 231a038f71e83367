"""Value-for-money API: reading and publishing policy, appraising, contracts and measurements."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openiom.audit.models import AuditEvent
from openiom.vfm import defaults
from openiom.vfm.models import AppraisalAssumptions, ContractMeasurement, ProgrammeCost

pytestmark = pytest.mark.django_db


def post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_read_assumptions_and_programmes(api_for: Any) -> None:
    client = api_for("police.officer")
    versions = client.get("/api/vfm/assumptions").json()
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["in_force"] and versions[0]["config"]["discount_rate"]["value"] == 0.035
    programmes = client.get("/api/vfm/programme-costs").json()
    assert [p["key"] for p in programmes] == [defaults.PROGRAMME_KEY]
    assert client.get(f"/api/vfm/programme-costs/{defaults.PROGRAMME_KEY}").status_code == 200
    assert client.get("/api/vfm/programme-costs/nothing-here").status_code == 404


def test_refused_reads_are_403_and_audited(api_for: Any) -> None:
    client = api_for("housing.worker")
    assert client.get("/api/vfm/assumptions").status_code == 403
    assert client.get("/api/vfm/contracts").status_code == 403
    assert AuditEvent.objects.filter(event_type="access.denied").count() == 2


def test_publish_assumptions(api_for: Any) -> None:
    config = defaults.assumptions_config()
    config["horizon_years"]["value"] = 5
    body = {
        "config": config,
        "effective_from": "2026-01-01",
        "source": "Local [U]",
        "change_note": "Shorter horizon",
    }
    refused = post(api_for("police.officer"), "/api/vfm/assumptions", body)
    assert refused.status_code == 403
    response = post(api_for("analyst"), "/api/vfm/assumptions", body)
    assert response.status_code == 201 and response.json()["version"] == 2
    assert AppraisalAssumptions.objects.get(version=1).config == defaults.ASSUMPTIONS
    config["discount_rate"]["value"] = "three"
    bad = post(api_for("analyst"), "/api/vfm/assumptions", {**body, "config": config})
    assert bad.status_code == 422
    detail = bad.json()["detail"]
    assert detail[0]["loc"] == ["body", "config", "discount_rate", "value"]
    assert detail[0]["msg"] == "config.discount_rate.value: must be a number"


def test_publish_programme_costs(api_for: Any) -> None:
    client = api_for("coordinator")
    body = {
        "config": defaults.programme_config(),
        "effective_from": "2026-01-01",
        "source": "s",
        "change_note": "c",
    }
    assert (
        post(client, f"/api/vfm/programme-costs/{defaults.PROGRAMME_KEY}", body).status_code == 201
    )
    new = post(client, "/api/vfm/programme-costs/drugs", {**body, "name": "Drug pathway"})
    assert new.status_code == 201 and new.json()["name"] == "Drug pathway"
    nameless = post(client, "/api/vfm/programme-costs/housing", body)
    assert nameless.status_code == 422 and nameless.json()["detail"][0]["loc"] == ["body", "name"]
    assert post(client, "/api/vfm/programme-costs/bad key!", body).status_code in {404, 422}
    assert ProgrammeCost.objects.count() == 3


def test_appraise(api_for: Any) -> None:
    client = api_for("analyst")
    body = {
        "measure": "frequency",
        "comparison": 2.05,
        "difference": -0.4,
        "ci_low": -0.8,
        "ci_high": 0.0,
        "cohort_size": 142,
        "tornado_svg": True,
    }
    response = post(client, "/api/vfm/appraise", body)
    assert response.status_code == 200
    data = response.json()
    appraisal = data["appraisal"]
    assert appraisal["cohort_size"] == 142 and appraisal["versions"]["assumptions"]["version"] == 1
    assert appraisal["tornado"][0]["swing"] >= appraisal["tornado"][-1]["swing"]
    assert data["tornado_svg"].startswith("<svg")
    mixed = post(
        client, "/api/vfm/appraise", {**body, "offence_mix": {"Robbery": 1}, "tornado_svg": False}
    )
    assert mixed.json()["tornado_svg"] is None
    assert mixed.json()["appraisal"]["cost_lines"][0]["category"] == "Robbery"
    outside = post(client, "/api/vfm/appraise", {**body, "difference": -1.0})
    assert outside.status_code == 422
    assert outside.json()["detail"][0]["loc"] == ["body", "difference"]
    early = post(client, "/api/vfm/appraise", {**body, "on": "2019-01-01"})
    assert early.status_code == 409
    assert post(client, "/api/vfm/appraise", {**body, "cohort_size": 0}).status_code == 422
    assert post(api_for("vcs.mentor"), "/api/vfm/appraise", body).status_code == 403


def test_contracts_and_measurements(api_for: Any) -> None:
    client = api_for("coordinator")
    body = {
        "reference": "pbr-2024",
        "name": "PbR pilot",
        "commissioner": "PCC",
        "provider": "IOM partnership",
        "cohort_definition": "Fixed cohort, 2024",
        "cohort_keys": ["fixed"],
        "cohort_from": "2024-01-01",
        "cohort_to": "2024-12-31",
        "baseline_binary_rate": 0.5,
        "baseline_frequency": 3.0,
        "baseline_description": "2022 cohort [U]",
        "binary_target_points": 5,
        "frequency_target_percent": 10,
        "binary_payment_per_person": "1000",
        "frequency_payment_per_reoffence": "500",
    }
    created = post(client, "/api/vfm/contracts", body)
    assert created.status_code == 201
    contract = created.json()
    assert contract["version"] == 1 and contract["minimum_cohort_size"] == 60
    again = post(client, "/api/vfm/contracts", body)
    assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "change_note"]
    bad = post(client, "/api/vfm/contracts", {**body, "reference": "x", "cohort_to": "2023-01-01"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "cohort_to"]
    assert [c["id"] for c in client.get("/api/vfm/contracts").json()] == [contract["id"]]
    assert client.get(f"/api/vfm/contracts/{contract['id']}").json()["reference"] == "pbr-2024"
    assert client.get("/api/vfm/contracts/999999").status_code == 404

    url = f"/api/vfm/contracts/{contract['id']}/measurements"
    measured = post(
        api_for("analyst"),
        url,
        {"as_of": "2026-01-01", "cohort_size": 100, "reoffenders": 42, "reoffences": 110},
    )
    assert measured.status_code == 201
    assert measured.json()["result"]["payment"] == pytest.approx(16_000.0)
    wrong = post(api_for("analyst"), url, {"cohort_size": 10, "reoffenders": 11, "reoffences": 20})
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "reoffenders"]
    assert (
        post(
            api_for("police.officer"), url, {"cohort_size": 1, "reoffenders": 0, "reoffences": 0}
        ).status_code
        == 403
    )
    listed = client.get(url).json()
    assert len(listed) == 1 == ContractMeasurement.objects.count()
