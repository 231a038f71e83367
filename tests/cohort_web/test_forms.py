"""The cohort forms: the happy paths through the web, and every error shown, never a 500."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.cohort import services
from openiom.cohort.models import (
    ExitPlan,
    Notification,
    RagAssessment,
    RagPolicy,
    Reconsideration,
    Referral,
    ReferralState,
    Registration,
)
from openiom.partnership.models import Agency
from tests.cohort_web.conftest import PANEL_DAY, TODAY, agency
from tests.web.helpers import assert_csp_safe, html


def d(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def error_page(response: Any, *messages: str) -> str:
    """A 400 with a GOV.UK error summary containing each message."""
    assert response.status_code == 400, response.status_code
    body = assert_csp_safe(response)
    assert "There is a problem" in body
    assert 'class="govuk-error-summary"' in body
    for message in messages:
        assert message in body, message
    return body


# --- Referrals --------------------------------------------------------------------------------


def test_partner_refers_a_person_they_work_with(
    client_for: Any, burglar: Any, involve: Any
) -> None:
    involve(burglar, "housing.worker")
    client = client_for("housing.worker")
    url = reverse("cohort:refer", args=[burglar.pk])
    assert "Refer to the IOM selection panel" in html(client.get(url))
    response = client.post(url, {"reason": "Burgling again", "evidence": "", "action": "submit"})
    referral = Referral.objects.get(person=burglar)
    assert response.status_code == 302
    assert response["Location"] == reverse("cohort:referral", args=[referral.pk])
    assert referral.state == ReferralState.SUBMITTED
    assert AuditEvent.objects.filter(event_type="referral.submitted").count() == 1
    body = html(client.get(response["Location"]))
    assert "was submitted to the IOM coordinator" in body
    assert "Burgling again" in body
    assert "WALSH, Dean" in html(client.get(reverse("cohort:my_referrals")))


def test_referral_saved_as_draft_then_submitted(
    client_for: Any, burglar: Any, involve: Any
) -> None:
    involve(burglar, "housing.worker")
    client = client_for("housing.worker")
    client.post(reverse("cohort:refer", args=[burglar.pk]), {"reason": "X", "action": "draft"})
    referral = Referral.objects.get(person=burglar)
    assert referral.state == ReferralState.DRAFT
    assert "Submit to the coordinator" in html(
        client.get(reverse("cohort:referral", args=[referral.pk]))
    )
    client.post(reverse("cohort:submit", args=[referral.pk]))
    referral.refresh_from_db()
    assert referral.state == ReferralState.SUBMITTED
    # Submitting twice is an error message, not a 500.
    response = client.post(reverse("cohort:submit", args=[referral.pk]), follow=True)
    assert response.status_code == 200
    assert "Cannot submit referral" in html(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Enter why the panel should consider this person"),
        ({"reason": "   "}, "Enter why the panel should consider this person"),
        ({"reason": "x" * 5001}, "The reason must be 5000 characters or fewer"),
        ({"reason": "ok", "proposed_cohort": "999"}, "Select a cohort from the list"),
    ],
)
def test_referral_form_errors(
    client_for: Any, burglar: Any, involve: Any, data: dict[str, str], message: str
) -> None:
    involve(burglar, "housing.worker")
    response = client_for("housing.worker").post(reverse("cohort:refer", args=[burglar.pk]), data)
    error_page(response, message)
    assert not Referral.objects.exists()


def test_a_second_open_referral_is_refused_with_the_services_reason(
    client_for: Any, submitted: Any, involve: Any, burglar: Any
) -> None:
    involve(burglar, "drug.worker")
    client = client_for("drug.worker")
    url = reverse("cohort:refer", args=[burglar.pk])
    assert "already has an open referral" in html(client.get(url))
    response = client.post(url, {"reason": "Me too", "action": "submit"})
    error_page(response, "already has an open referral")


def test_re_referral_needs_what_is_new(
    client_for: Any, actor: Any, listed: Any, burglar: Any
) -> None:
    services.record_panel_decision(
        actor=actor("coordinator"),
        referral=listed,
        decision="not_adopt",
        decided_on=PANEL_DAY,
        agencies_present=[agency("probation-wessex")],
        rationale="Not prolific enough",
    )
    client = client_for("housing.worker")
    url = reverse("cohort:refer", args=[burglar.pk])
    assert "Not prolific enough" in html(client.get(url))
    error_page(
        client.post(url, {"reason": "Again", "action": "submit"}),
        "Enter what is new since the panel decided not to adopt this person",
    )
    response = client.post(
        url, {"reason": "Again", "new_information": "Two new burglaries", "action": "submit"}
    )
    assert response.status_code == 302
    new = Referral.objects.filter(person=burglar).order_by("-id").first()
    assert new is not None and new.previous_referral_id == listed.pk


def test_list_for_panel_and_withdraw(client_for: Any, submitted: Any) -> None:
    coordinator = client_for("coordinator")
    url = reverse("cohort:list_for_panel", args=[submitted.pk])
    error_page(coordinator.post(url, {"panel_date": "31/02/2026"}), "must be a real date")
    error_page(coordinator.post(url, {"panel_date": ""}), "Enter the panel date")
    assert coordinator.post(url, {"panel_date": d(PANEL_DAY)}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == ReferralState.LISTED and submitted.panel_date == PANEL_DAY

    withdraw = reverse("cohort:withdraw", args=[submitted.pk])
    error_page(
        coordinator.post(withdraw, {"reason": " "}), "Enter why the referral is being withdrawn"
    )
    assert coordinator.post(withdraw, {"reason": "Moved away"}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == ReferralState.WITHDRAWN
    # The referrer is told, and reads it in their messages.
    housing = client_for("housing.worker")
    body = html(housing.get(reverse("cohort:notifications")))
    assert "was withdrawn by coordinator: Moved away" in body
    assert "1 unread message" in body
    # Listing a withdrawn referral is the service's InvalidTransition, shown, not a 500.
    error_page(coordinator.post(url, {"panel_date": d(PANEL_DAY)}), "Cannot list for the panel")


def test_partner_cannot_list_or_withdraw_another_agencys_referral(
    client_for: Any, submitted: Any, involve: Any, burglar: Any
) -> None:
    assert (
        client_for("housing.worker")
        .get(reverse("cohort:list_for_panel", args=[submitted.pk]))
        .status_code
        == 403
    )
    involve(burglar, "drug.worker")
    response = client_for("drug.worker").post(
        reverse("cohort:withdraw", args=[submitted.pk]), {"reason": "Not mine"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        event_type="access.denied", actor_username="drug.worker"
    ).exists()


# --- Panel decision ----------------------------------------------------------------------------


def decision_data(personas: Any, **overrides: Any) -> dict[str, Any]:
    from openiom.cohort.models import CohortDefinition

    data: dict[str, Any] = {
        "decision": "adopt",
        "decided_on": d(PANEL_DAY),
        "agencies_present": [
            str(agency("probation-wessex").pk),
            str(agency("wessex-police").pk),
        ],
        "rationale": "Prolific burglar",
        "cohort": str(CohortDefinition.in_force("fixed", PANEL_DAY).pk),
        "lead_agency": str(agency("probation-wessex").pk),
        "lead_worker": str(personas["probation.om"].pk),
    }
    data.update(overrides)
    return data


def test_panel_screen_shows_person_and_eligibility(client_for: Any, listed: Any) -> None:
    response = client_for("coordinator").get(reverse("cohort:decision", args=[listed.pk]))
    body = assert_csp_safe(response)
    assert "Selection panel decision" in body
    assert "Repeat burglaries" in body
    assert "Neighbourhood crime" in body and "Met" in body
    assert "Proven offences" in body
    assert AuditEvent.objects.filter(event_type="person.consulted").count() == 1


def test_panel_adopts_through_the_form(client_for: Any, personas: Any, listed: Any) -> None:
    response = client_for("coordinator").post(
        reverse("cohort:decision", args=[listed.pk]), decision_data(personas)
    )
    registration = Registration.objects.get(person=listed.person)
    assert response.status_code == 302
    assert response["Location"] == reverse("cohort:registration", args=[registration.pk])
    assert registration.lead_worker == personas["probation.om"]
    assert Notification.objects.filter(user=personas["housing.worker"]).count() == 1


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        ({"decision": ""}, ["Select the panel&#x27;s decision"]),
        ({"decision": "maybe"}, ["Select adopt, do not adopt or defer"]),
        ({"decided_on": "yesterday"}, ["must be a real date"]),
        ({"decided_on": d(TODAY + dt.timedelta(days=3))}, ["today or in the past"]),
        ({"agencies_present": []}, ["Select the agencies present at the panel"]),
        ({"agencies_present": ["99999"]}, ["Select agencies from the list"]),
        ({"rationale": ""}, ["Enter the panel&#x27;s rationale"]),
        (
            {"cohort": "", "lead_agency": "", "lead_worker": ""},
            ["Select the cohort", "Select the lead agency", "Select the lead worker"],
        ),
        ({"lead_worker": "abc"}, ["Select a worker from the list"]),
        ({"dissent_agency": "police", "dissent": ""}, ["Enter what the dissenting agency said"]),
    ],
)
def test_panel_form_errors(
    client_for: Any, personas: Any, listed: Any, overrides: dict[str, Any], messages: list[str]
) -> None:
    if overrides.get("dissent_agency") == "police":  # ids differ between databases
        overrides = {**overrides, "dissent_agency": str(agency("wessex-police").pk)}
    response = client_for("coordinator").post(
        reverse("cohort:decision", args=[listed.pk]), decision_data(personas, **overrides)
    )
    error_page(response, *messages)
    assert not Registration.objects.exists()


def test_lead_worker_from_another_agency_is_shown_against_the_field(
    client_for: Any, personas: Any, listed: Any
) -> None:
    response = client_for("coordinator").post(
        reverse("cohort:decision", args=[listed.pk]),
        decision_data(personas, lead_worker=str(personas["housing.worker"].pk)),
    )
    body = error_page(response, "does not work for Probation Service")
    assert 'href="#id_lead_worker"' in body
    assert 'id="id_lead_worker-error"' in body


def test_ineligible_adoption_needs_an_override_reason(
    client_for: Any, personas: Any, listed: Any
) -> None:
    from openiom.cohort.models import CohortDefinition

    flex = CohortDefinition.in_force("flex", PANEL_DAY)
    client = client_for("coordinator")
    url = reverse("cohort:decision", args=[listed.pk])
    body = error_page(
        client.post(url, decision_data(personas, cohort=str(flex.pk))),
        "does not meet the Flex cohort",
    )
    assert 'href="#id_eligibility_override_reason"' in body
    response = client.post(
        url,
        decision_data(
            personas, cohort=str(flex.pk), eligibility_override_reason="Violence is escalating"
        ),
    )
    assert response.status_code == 302
    assert Registration.objects.get().cohort_key == "flex"


def test_deciding_a_referral_that_is_not_listed_is_explained(
    client_for: Any, personas: Any, submitted: Any
) -> None:
    client = client_for("coordinator")
    url = reverse("cohort:decision", args=[submitted.pk])
    assert "can decide only on a referral listed for a panel" in html(client.get(url))
    error_page(client.post(url, decision_data(personas)), "Cannot record a panel decision")


def test_not_adopted_tells_the_referrer(client_for: Any, personas: Any, listed: Any) -> None:
    response = client_for("coordinator").post(
        reverse("cohort:decision", args=[listed.pk]),
        decision_data(personas, decision="not_adopt", cohort="", lead_agency="", lead_worker=""),
    )
    assert response.status_code == 302
    listed.refresh_from_db()
    assert listed.state == ReferralState.NOT_ADOPTED
    body = html(client_for("housing.worker").get(reverse("cohort:notifications")))
    assert "was not adopted" in body and "Prolific burglar" in body


# --- Registration: RAG, exit plan, status, de-registration --------------------------------------


def test_rag_preview_then_save_backdated(client_for: Any, registration: Any) -> None:
    client = client_for("probation.om")
    url = reverse("cohort:assess_rag", args=[registration.pk])
    body = html(client.get(url))
    assert "Suggested for" in body and "No appointment data recorded" in body
    on = PANEL_DAY + dt.timedelta(days=10)
    evidence = {
        "assessed_on": d(on),
        "appointments_kept": "4",
        "appointments_missed": "0",
        "stable_accommodation": "yes",
        "in_employment": "",
    }
    preview = client.post(url, {**evidence, "action": "preview"})
    assert preview.status_code == 200
    assert "Attended all 4 arranged appointments" in html(preview)
    assert not RagAssessment.objects.exists()
    response = client.post(url, {**evidence, "action": "save", "status": "green"})
    assert response.status_code == 302
    assessment = RagAssessment.objects.get()
    assert assessment.assessed_on == on and assessment.status == "green"
    assert assessment.suggested_status == "green"


def test_rag_decision_differing_from_suggestion_needs_a_reason(
    client_for: Any, registration: Any
) -> None:
    client = client_for("coordinator")
    url = reverse("cohort:assess_rag", args=[registration.pk])
    data = {"assessed_on": d(TODAY), "status": "green", "action": "save"}
    body = error_page(client.post(url, data), "give a reason for deciding green instead")
    assert 'href="#id_reason"' in body
    assert client.post(url, {**data, "reason": "Known to be doing well"}).status_code == 302
    assert RagAssessment.objects.get().differs_from_suggestion


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": ""}, "Select the RAG status you have decided"),
        ({"status": "purple"}, "Select red, amber or green"),
        ({"assessed_on": "99/99/9999"}, "must be a real date"),
        ({"assessed_on": d(TODAY + dt.timedelta(days=1))}, "today or in the past"),
        ({"assessed_on": d(PANEL_DAY - dt.timedelta(days=1))}, "before the registration started"),
        ({"appointments_kept": "-1"}, "Appointments kept must be 0 or more"),
        ({"appointments_missed": "lots"}, "Appointments missed must be a whole number"),
        ({"drug_tests_positive": "1e9"}, "must be a whole number"),
        ({"stable_accommodation": "maybe"}, "Select yes, no or not known"),
    ],
)
def test_rag_form_errors(
    client_for: Any, registration: Any, data: dict[str, str], message: str
) -> None:
    base = {"assessed_on": d(TODAY), "status": "amber", "reason": "r", "action": "save"}
    response = client_for("coordinator").post(
        reverse("cohort:assess_rag", args=[registration.pk]), {**base, **data}
    )
    error_page(response, message)
    assert not RagAssessment.objects.exists()


def test_exit_plan_form(client_for: Any, registration: Any) -> None:
    client = client_for("probation.om")
    url = reverse("cohort:exit_plan", args=[registration.pk])
    error_page(client.post(url, {"plan": "", "recorded_on": d(TODAY)}), "Enter the exit plan")
    error_page(
        client.post(url, {"plan": "x", "recorded_on": d(PANEL_DAY - dt.timedelta(days=3))}),
        "before the registration started",
    )
    assert (
        client.post(url, {"plan": "Mentor continues", "recorded_on": d(TODAY)}).status_code == 302
    )
    assert ExitPlan.objects.get().plan == "Mentor continues"


def test_status_change_form(client_for: Any, registration: Any) -> None:
    client = client_for("coordinator")
    url = reverse("cohort:status", args=[registration.pk])
    error_page(
        client.post(url, {"status": "active", "note": "x", "on": d(TODAY)}), "already active"
    )
    error_page(client.post(url, {"status": "deregistered", "note": "x", "on": d(TODAY)}))
    error_page(client.post(url, {"status": "in_custody", "note": "", "on": d(TODAY)}), "Enter why")
    response = client.post(url, {"status": "in_custody", "note": "Remanded", "on": d(TODAY)})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == "in_custody"


def test_deregistration_form_errors_and_success(client_for: Any, registration: Any) -> None:
    client = client_for("coordinator")
    url = reverse("cohort:deregister", args=[registration.pk])
    body = html(client.get(url))
    assert "does not suggest de-registration" in body
    error_page(client.post(url, {"reason": "", "on": d(TODAY)}), "Select why the person")
    error_page(client.post(url, {"reason": "other", "on": d(TODAY)}), "Say what the other reason")
    body = error_page(
        client.post(url, {"reason": "green_exit_plan", "on": d(TODAY)}),
        "does not support",
    )
    assert 'href="#id_note"' in body
    error_page(
        client.post(url, {"reason": "long_custody", "note": "Sentenced", "on": d(TODAY)}),
        "No expected release date is recorded",
    )
    response = client.post(
        url,
        {
            "reason": "long_custody",
            "note": "Sentenced to 6 years at crown court",
            "on": d(TODAY),
            "reconsideration_due": d(TODAY + dt.timedelta(days=1500)),
        },
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert not registration.is_current
    assert Reconsideration.objects.get().due_date == TODAY + dt.timedelta(days=1500)
    # Nothing more can be recorded on an ended registration: a message, not a 500.
    for name in ("assess_rag", "exit_plan", "status", "deregister"):
        response = client.get(reverse(f"cohort:{name}", args=[registration.pk]), follow=True)
        assert response.status_code == 200
        assert "nothing more can be recorded" in html(response)


# --- Policies ----------------------------------------------------------------------------------


def test_publish_rag_policy_with_per_field_form(client_for: Any, db: Any) -> None:
    client = client_for("coordinator")
    url = reverse("cohort:publish", args=["rag", "rag"])
    body = html(client.get(url))
    assert 'value="28"' in body  # the current window, ready to edit
    data = {
        "name": "RAG rules",
        "effective_from": d(TODAY),
        "source": "Partnership board, 2026",
        "change_note": "Longer window",
        "window_days": "42",
        "current_intelligence_days": "90",
        "missed_appointments_for_red": "2",
        "red_rules": ["new_offence", "arrest"],
        "green_all_of": ["full_attendance"],
        "green_any_of": ["employment"],
    }
    error_page(client.post(url, {**data, "window_days": "0"}), "at least 1")
    error_page(
        client.post(url, {**data, "green_all_of": [], "green_any_of": []}),
        "Select at least one green condition",
    )
    error_page(client.post(url, {**data, "red_rules": ["astrology"]}), "Select rules from the list")
    error_page(
        client.post(url, {**data, "effective_from": "01/01/2019"}),
        "cannot apply earlier than the one it replaces",
    )
    assert client.post(url, data).status_code == 302
    latest = RagPolicy.objects.order_by("-version").first()
    assert latest is not None and latest.version == 2
    assert latest.config["window_days"] == 42 and latest.config["red_rules"] == [
        "new_offence",
        "arrest",
    ]
    assert AuditEvent.objects.filter(event_type="cohort.policy_published").count() == 1


def test_publish_deregistration_policy(client_for: Any, db: Any) -> None:
    from openiom.cohort.models import DeregistrationPolicy

    client = client_for("coordinator")
    url = reverse("cohort:publish", args=["deregistration", "deregistration"])
    data = {
        "name": "Exit rules",
        "effective_from": d(TODAY),
        "source": "Board",
        "change_note": "Six months",
        "green_months": "6",
        "green_days": "",
        "exit_plan_required": "yes",
        "long_sentence_days": "1825",
        "reconsider_months_before_release": "12",
    }
    error_page(client.post(url, {**data, "exit_plan_required": ""}), "Select whether")
    error_page(client.post(url, {**data, "green_months": "six"}), "must be a whole number")
    assert client.post(url, data).status_code == 302
    latest = DeregistrationPolicy.objects.order_by("-version").first()
    assert latest is not None and latest.config["green_months"] == 6


def test_publish_cohort_with_json_settings(client_for: Any, db: Any) -> None:
    from openiom.cohort.models import CohortDefinition

    client = client_for("coordinator")
    url = reverse("cohort:publish", args=["cohort", "fixed"])
    current = CohortDefinition.in_force("fixed", TODAY)
    data = {
        "name": "Fixed cohort",
        "effective_from": d(TODAY),
        "source": "Board",
        "change_note": "Capacity",
        "config_json": json.dumps({**current.config, "capacity": 40}),
    }
    error_page(client.post(url, {**data, "config_json": "{nope"}), "not valid JSON")
    error_page(client.post(url, {**data, "config_json": "[1, 2]"}), "must be a JSON object")
    bad = {**current.config, "eligibility": {**current.config["eligibility"], "min_age": -3}}
    body = error_page(
        client.post(url, {**data, "config_json": json.dumps(bad)}), "eligibility.min_age"
    )
    assert 'href="#id_config_json"' in body
    error_page(
        client.post(url, {**data, "config_json": json.dumps({"colour": "blue"})}),
        "unknown setting(s) colour",
    )
    assert client.post(url, data).status_code == 302
    assert CohortDefinition.in_force("fixed", TODAY).rules.capacity == 40


def test_add_a_local_cohort_strand(client_for: Any, db: Any) -> None:
    from openiom.cohort.models import CohortDefinition

    client = client_for("coordinator")
    url = reverse("cohort:new_cohort")
    data = {
        "key": "drugs-strand",
        "name": "Drugs strand",
        "effective_from": d(TODAY),
        "source": "Board",
        "change_note": "New strand",
        "config_json": json.dumps({"description": "Drug-driven offending"}),
    }
    error_page(client.post(url, {**data, "key": "Drugs Strand!"}), "letters, numbers")
    error_page(client.post(url, {**data, "key": "fixed"}), "A cohort with that key exists")
    assert client.post(url, data).status_code == 302
    assert CohortDefinition.objects.get(key="drugs-strand").version == 1


# --- Messages ----------------------------------------------------------------------------------


def test_messages_are_private_and_can_be_marked_read(
    client_for: Any, personas: Any, registration: Any
) -> None:
    note = Notification.objects.get(user=personas["housing.worker"])
    assert "adopted" in note.text
    # Someone else's message is not found.
    other = client_for("drug.worker").post(reverse("cohort:read", args=[note.pk]))
    assert other.status_code == 404
    client = client_for("housing.worker")
    assert "Messages (1 unread)" in " ".join(html(client.get(reverse("core:home"))).split())
    response = client.post(reverse("cohort:read", args=[note.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cohort:referral", args=[registration.referral_id])
    note.refresh_from_db()
    assert note.read_at is not None
    assert client.get(reverse("cohort:read", args=[note.pk])).status_code == 405


def test_unknown_agency_in_checkboxes_is_not_a_500(
    client_for: Any, personas: Any, listed: Any
) -> None:
    Agency.objects.filter(code="wessex-police").update(is_active=False)
    response = client_for("coordinator").post(
        reverse("cohort:decision", args=[listed.pk]), decision_data(personas)
    )
    error_page(response, "Select agencies from the list")
