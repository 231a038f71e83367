"""The cohort endpoints are described in the OpenAPI schema."""

from __future__ import annotations


def test_the_cohort_endpoints_are_in_the_schema(client, db):
    schema = client.get("/api/openapi.json").json()

    assert {
        "/api/referrals",
        "/api/referrals/{referral_id}",
        "/api/referrals/{referral_id}/submit",
        "/api/referrals/{referral_id}/list-for-panel",
        "/api/referrals/{referral_id}/withdraw",
        "/api/referrals/{referral_id}/re-refer",
        "/api/referrals/{referral_id}/decision",
        "/api/registrations",
        "/api/registrations/{registration_id}",
        "/api/registrations/{registration_id}/status",
        "/api/registrations/{registration_id}/rag",
        "/api/registrations/{registration_id}/rag-suggestion",
        "/api/registrations/{registration_id}/exit-suggestion",
        "/api/registrations/{registration_id}/exit-plan",
        "/api/registrations/{registration_id}/deregister",
        "/api/people/{person_id}/iom",
        "/api/cohorts",
        "/api/policies/{kind}/{key}/versions",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/referrals"]) == {"get", "post"}
    assert set(schema["paths"]["/api/policies/{kind}/{key}/versions"]) == {"get", "post"}
    decision = schema["components"]["schemas"]["PanelDecisionIn"]
    assert {"decision", "decided_on", "agencies_present", "rationale"} <= set(decision["required"])
