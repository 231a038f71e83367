"""The plan pages: plan view, forms (success, errors, conflicts), history."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from openiom.plans import services
from openiom.plans.models import ManagementPlan, Objective, PlanAction, PlanVersion
from tests.plans.conftest import agency

pytestmark = pytest.mark.django_db


def base(registration) -> str:
    return f"/plans/registrations/{registration.pk}/"


def hidden_version(html: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', html) or re.search(
        r'value="(\d+)" name="version"', html
    )
    assert match, "the form carries the version the user saw"
    return int(match.group(1))


def test_start_and_show_the_plan(registration, client_for) -> None:
    client = client_for("probation.om")
    page = client.get(base(registration)).content.decode()
    assert "No management plan has been started" in page and "Start the plan" in page
    response = client.post(base(registration) + "start/")
    assert response.status_code == 302
    page = client.get(base(registration)).content.decode()
    assert "Draft plan started" in page
    assert "Attitudes, thinking and behaviour" in page
    assert ManagementPlan.objects.filter(registration=registration).exists()


def test_the_lead_worker_sees_actions_grouped_by_agency(
    full_plan, registration, client_for
) -> None:
    page = client_for("probation.om").get(base(registration)).content.decode()
    for text in [
        "Find a supported tenancy",
        "Start a script",
        "DISRUPTCHECK",
        "Harbour Housing Association",
        "Wessex Drug and Alcohol Service",
        "I want my own flat",
        "Change needs",
        "Add an action",
    ]:
        assert text in page
    assert "£1,200.00" in page


def test_the_partner_sees_basics_needs_objectives_and_only_their_own_actions(
    full_plan, registration, client_for
) -> None:
    page = client_for("housing.worker").get(base(registration)).content.decode()
    assert "Find a supported tenancy" in page
    assert "I want my own flat" in page and "Accommodation" in page
    assert "Start a script" not in page and "DISRUPTCHECK" not in page
    assert "You see only the actions your agency is responsible for" in page
    assert "Change needs" not in page and "Add an action" not in page
    assert f"actions/{full_plan['housing'].pk}/progress/" in page


def test_needs_form(plan, registration, client_for) -> None:
    client = client_for("probation.om")
    page = client.get(base(registration) + "needs/").content.decode()
    assert hidden_version(page) == 1 and "only when relevant" in page
    data = {f"need_{n.pathway.code}_status": n.status for n in plan.needs.select_related("pathway")}
    data.update(
        version="1",
        need_accommodation_status="support_required",
        need_accommodation_notes="Sofa surfing",
        **{"need_women-prostitution_status": ""},
    )
    response = client.post(base(registration) + "needs/", data)
    assert response.status_code == 302
    assert plan.needs.get(pathway__code="accommodation").notes == "Sofa surfing"
    data["need_health_status"] = ""
    data["version"] = "2"
    response = client.post(base(registration) + "needs/", data)
    assert response.status_code == 400
    assert "Select the status of health" in response.content.decode()


def test_readiness_form_and_conflict_page(plan, registration, client_for) -> None:
    url = base(registration) + "readiness/"
    first, second = client_for("coordinator"), client_for("probation.om")
    assert hidden_version(first.get(url).content.decode()) == 1
    assert hidden_version(second.get(url).content.decode()) == 1
    common = {
        "version": "1",
        "readiness_motivated": "yes",
        "readiness_able": "partly",
        "readiness_relevant": "yes",
        "readiness_capacity": "no",
    }
    assert first.post(url, {**common, "strengths": "Supportive sister"}).status_code == 302
    response = second.post(url, {**common, "strengths": "Keen cook"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "There is a problem" in html and "Carol Adeyemi changed this plan" in html
    assert "Changed since you opened this page" in html
    assert "Supportive sister" in html and "Keen cook" in html  # stored, and their entry kept
    assert hidden_version(html) == 2
    plan.refresh_from_db()
    assert plan.strengths == "Supportive sister"
    resubmit = second.post(url, {**common, "version": "2", "strengths": "Keen cook"})
    assert resubmit.status_code == 302
    plan.refresh_from_db()
    assert plan.strengths == "Keen cook"


def test_objective_forms(plan, registration, client_for) -> None:
    client = client_for("probation.om")
    url = base(registration) + "objectives/new/"
    assert client.post(url, {"text": ""}).status_code == 400
    response = client.post(url, {"text": "Get my driving licence back", "own_words": "on"})
    assert response.status_code == 302
    objective = Objective.objects.get()
    assert objective.own_words
    edit = base(registration) + f"objectives/{objective.pk}/"
    assert "Get my driving licence back" in client.get(edit).content.decode()
    response = client.post(
        edit, {"version": "1", "text": "Get my licence back", "own_words": "on", "achieved": "on"}
    )
    assert response.status_code == 302
    objective.refresh_from_db()
    assert objective.achieved and objective.version == 2


def test_add_and_edit_an_action(plan, registration, client_for, personas) -> None:
    client = client_for("probation.om")
    url = base(registration) + "actions/new/"
    page = client.get(url).content.decode()
    assert "Hannah Byrne (Harbour Housing Association)" in page
    housing = agency("harbour-housing")
    data = {
        "owner_agency": str(housing.pk),
        "owner_worker": str(personas["housing.worker"].pk),
        "action_type": "support",
        "pathway": "",
        "description": "Tenancy support visits",
        "due_date": "31/02/2026",
        "additional": "yes",
        "estimated_cost": "450",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Enter the due date as day/month/year" in response.content.decode()
    bad_worker = client.post(
        url, {**data, "due_date": "30/06/2026", "owner_worker": str(personas["drug.worker"].pk)}
    )
    assert bad_worker.status_code == 400
    assert "does not work for Harbour Housing Association" in bad_worker.content.decode()
    assert not PlanAction.objects.exists()
    assert client.post(url, {**data, "due_date": "30/06/2026"}).status_code == 302
    action = PlanAction.objects.get()
    assert action.additional and str(action.estimated_cost) == "450.00"
    edit = base(registration) + f"actions/{action.pk}/"
    assert "Tenancy support visits" in client.get(edit).content.decode()
    response = client.post(
        edit, {**data, "due_date": "15/07/2026", "version": "1", "additional": "no"}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.due_date.isoformat(), action.additional, action.version) == (
        "2026-07-15",
        False,
        2,
    )


def test_two_workers_update_the_same_action_on_the_page(
    full_plan, registration, client_for
) -> None:
    action = full_plan["housing"]
    url = base(registration) + f"actions/{action.pk}/progress/"
    housing, lead = client_for("housing.worker"), client_for("probation.om")
    assert hidden_version(housing.get(url).content.decode()) == 1
    assert hidden_version(lead.get(url).content.decode()) == 1
    assert (
        housing.post(
            url, {"version": "1", "status": "done", "outcome": "Keys handed over"}
        ).status_code
        == 302
    )
    response = lead.post(url, {"version": "1", "status": "not_done", "outcome": "Fell through"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Changed since you opened this page" in html
    assert "Hannah Byrne changed this action" in html
    assert "Keys handed over" in html  # what is stored now
    assert "Fell through" in html  # their entry, kept
    action.refresh_from_db()
    assert (action.status, action.outcome) == ("done", "Keys handed over")
    assert (
        lead.post(
            url, {"version": "2", "status": "done", "outcome": "Keys handed over; moved in"}
        ).status_code
        == 302
    )
    action.refresh_from_db()
    assert action.outcome == "Keys handed over; moved in" and action.version == 3


def test_agree_review_and_history(full_plan, registration, client_for) -> None:
    client = client_for("probation.om")
    assert "Agree the plan" in client.get(base(registration) + "agree/").content.decode()
    assert client.post(base(registration) + "agree/", {"version": "1"}).status_code == 302
    plan = full_plan["plan"]
    plan.refresh_from_db()
    assert plan.status == "agreed"
    again = client.post(base(registration) + "agree/", {"version": str(plan.version)})
    assert again.status_code == 400
    assert "record a review instead" in again.content.decode()
    today = timezone.localdate().strftime("%d/%m/%Y")
    response = client.post(
        base(registration) + "review/",
        {"version": str(plan.version), "reviewed_on": today, "note": "Engaging well"},
    )
    assert response.status_code == 302
    assert PlanVersion.objects.filter(plan=plan).count() == 2
    history = client.get(base(registration) + "history/").content.decode()
    assert "Version 2: reviewed" in history and "Version 1: agreed" in history
    assert "Engaging well" in history and "DISRUPTCHECK" in history
    partner = client_for("housing.worker").get(base(registration) + "history/").content.decode()
    assert "Find a supported tenancy" in partner and "DISRUPTCHECK" not in partner


def test_unknown_records_are_404(plan, registration, client_for) -> None:
    client = client_for("probation.om")
    assert client.get("/plans/registrations/999999/").status_code == 404
    assert client.get(base(registration) + "actions/999999/").status_code == 404
    assert client.get(base(registration) + "objectives/999999/").status_code == 404


def test_actions_of_another_plan_are_not_reachable_through_this_one(
    full_plan, registration, client_for, listed_referral, adopt, actor, make_person, involve
) -> None:
    from openiom.cohort import services as cohort_services

    other = make_person()
    involve(other, "housing.worker")
    referral = cohort_services.create_referral(
        actor=actor("housing.worker"), person=other, reason="Burglaries", submit=True
    )
    services_plan_reg = adopt(
        cohort_services.list_referral_for_panel(
            actor=actor("coordinator"), referral=referral, panel_date=registration.start_date
        ),
        eligibility_override_reason="Test: a second registered person",
    )
    services.create_plan(actor=actor("probation.om"), registration=services_plan_reg)
    url = f"/plans/registrations/{services_plan_reg.pk}/actions/{full_plan['housing'].pk}/"
    assert client_for("probation.om").get(url).status_code == 404
