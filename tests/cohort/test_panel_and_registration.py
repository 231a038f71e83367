"""Panel adoption creates the registration, the lead agency's involvement and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from openiom.access.policy import Action, can
from openiom.cohort import services
from openiom.cohort.models import (
    CohortDefinition,
    PanelDecision,
    Registration,
    RegistrationStatus,
    RegistrationStatusChange,
)
from openiom.cohort.services import CohortError
from tests.cohort.conftest import PANEL_DAY, agency, cohort, events


def test_adoption_creates_registration_involvement_and_audit(
    listed_referral, adopt, actor, personas
):
    # Before: the drug service's lead worker cannot see the person.
    dev = actor("drug.worker")
    assert not can(dev, Action.VIEW_PERSON, listed_referral.person)

    registration = adopt(
        listed_referral,
        lead_agency=agency("turning-point-wessex"),
        lead_worker=personas["drug.worker"],
        agencies_present=[agency("probation-wessex"), agency("turning-point-wessex")],
        dissent="Police would prefer an enforcement lead",
        dissent_agency=agency("wessex-police"),
    )

    person = listed_referral.person
    fixed = cohort("fixed")
    assert registration.cohort == fixed and registration.cohort_key == "fixed"
    assert registration.start_date == PANEL_DAY
    assert registration.review_date == PANEL_DAY + dt.timedelta(days=28)
    assert registration.planned_end_date == dt.date(2027, 3, 2)  # 12 months
    assert registration.status == RegistrationStatus.ACTIVE
    [first] = registration.status_changes.all()
    assert (first.from_status, first.to_status, first.changed_on) == ("", "active", PANEL_DAY)

    decision = registration.panel_decision
    assert decision.decision == "adopt"
    assert sorted(a.code for a in decision.agencies_present.all()) == [
        "probation-wessex",
        "turning-point-wessex",
    ]
    assert decision.dissent_agency.code == "wessex-police"
    assert [c["criterion"] for c in decision.eligibility] == ["min_age", "neighbourhood_crime"]
    assert all(c["met"] == "met" for c in decision.eligibility)

    listed_referral.refresh_from_db()
    assert listed_referral.state == "adopted" and listed_referral.closed_at is not None

    involvement = registration.lead_involvement
    assert involvement.agency.code == "turning-point-wessex"
    assert involvement.worker == personas["drug.worker"]
    assert involvement.purpose == "IOM lead agency (Fixed cohort)"
    assert can(dev, Action.VIEW_PERSON, person)  # the lead worker's agency can now see him

    for event_type in (
        "panel.decision_recorded",
        "involvement.started",
        "registration.started",
        "referral.decided",
    ):
        [event] = events(event_type, person_id=person.pk)
        assert event.actor_username == "coordinator"
    [started] = events("registration.started")
    assert started.after["lead_worker_id"] == personas["drug.worker"].pk
    assert started.summary == f"Registered {person} in Fixed cohort (lead: {involvement.agency})"


def test_adoption_needs_cohort_lead_agency_and_lead_worker_from_that_agency(
    listed_referral, adopt, personas
):
    with pytest.raises(CohortError, match="To adopt, choose the cohort, lead agency"):
        adopt(listed_referral, cohort=None, lead_agency=None)
    with pytest.raises(CohortError, match=r"housing\.worker does not work for Probation"):
        adopt(listed_referral, lead_worker=personas["housing.worker"])
    assert not Registration.objects.exists() and not PanelDecision.objects.exists()


def test_adoption_records_agencies_present_and_a_rationale(listed_referral, adopt):
    with pytest.raises(CohortError, match="record which agencies were present"):
        adopt(listed_referral, agencies_present=[])
    with pytest.raises(CohortError, match="Give the panel's rationale"):
        adopt(listed_referral, rationale="")
    with pytest.raises(CohortError, match="record what the dissenting agency said"):
        adopt(listed_referral, dissent_agency=agency("wessex-police"))


def test_adoption_outside_the_cohort_criteria_needs_an_override_reason(
    actor, involve, make_person, adopt
):
    shoplifter = make_person(date_of_birth=dt.date(1990, 1, 1))  # no neighbourhood crime
    involve(shoplifter, "housing.worker")
    referral = services.create_referral(
        actor=actor("housing.worker"), person=shoplifter, reason="Prolific", submit=True
    )
    services.list_referral_for_panel(
        actor=actor("coordinator"), referral=referral, panel_date=PANEL_DAY
    )
    with pytest.raises(CohortError) as refused:
        adopt(referral)
    assert "does not meet the Fixed cohort's criteria (0 neighbourhood crime offence(s)" in str(
        refused.value
    )
    registration = adopt(
        referral, eligibility_override_reason="Burglary intelligence strong; panel agreed"
    )
    assert registration.panel_decision.eligibility_override_reason.startswith("Burglary")


def test_adoption_into_a_full_cohort_needs_an_over_capacity_reason(
    listed_referral, adopt, actor, make_person, personas
):
    fixed = cohort("fixed")
    services.publish_cohort_policy_version(
        actor=actor("coordinator"),
        kind="cohort",
        key="fixed",
        name="Fixed cohort",
        config={**fixed.config, "capacity": 1},
        source="Wessex IOM board, 1 March 2026",
        change_note="Cap while staffing is short",
        effective_from=dt.date(2026, 3, 1),
    )
    capped = cohort("fixed")
    # Someone already fills the one place.
    other = Registration.objects.create(
        person=make_person(),
        cohort=capped,
        cohort_key="fixed",
        lead_agency=agency("probation-wessex"),
        lead_worker=personas["probation.om"],
        start_date=PANEL_DAY,
        review_date=PANEL_DAY,
        planned_end_date=PANEL_DAY,
        status_since=PANEL_DAY,
        created_by=personas["coordinator"],
    )
    assert other.is_current
    with pytest.raises(CohortError, match=r"The Fixed cohort is full \(1 of 1 places\)"):
        adopt(listed_referral, cohort=capped)
    registration = adopt(listed_referral, cohort=capped, over_capacity_reason="Highest harm")
    assert registration.cohort.version == 2


def test_adoption_must_use_the_cohort_version_in_force(listed_referral, adopt, actor):
    old = cohort("fixed")
    services.publish_cohort_policy_version(
        actor=actor("coordinator"),
        kind="cohort",
        key="fixed",
        name="Fixed cohort (neighbourhood crime)",
        config=old.config,
        source="Wessex IOM board",
        change_note="Renamed",
        effective_from=dt.date(2026, 2, 1),
    )
    with pytest.raises(CohortError, match="is not the version in force on 2026-03-02"):
        adopt(listed_referral, cohort=old)


def test_only_one_current_registration_per_person_per_cohort_db_constraint(registration):
    duplicate = dict(
        person=registration.person,
        cohort=registration.cohort,
        cohort_key="fixed",
        lead_agency=registration.lead_agency,
        lead_worker=registration.lead_worker,
        start_date=PANEL_DAY,
        review_date=PANEL_DAY,
        planned_end_date=PANEL_DAY,
        status_since=PANEL_DAY,
        created_by=registration.created_by,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(**duplicate)
    # A de-registered (ended) registration does not count; another cohort does not clash.
    with transaction.atomic():
        Registration.objects.create(
            **{**duplicate, "status": "deregistered", "end_date": PANEL_DAY}
        )
        flex = CohortDefinition.in_force("flex", PANEL_DAY)
        Registration.objects.create(**{**duplicate, "cohort": flex, "cohort_key": "flex"})
    assert Registration.objects.filter(person=registration.person).count() == 3


def test_end_date_is_set_exactly_when_deregistered_db_constraint(registration):
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(status="deregistered")


def test_registration_status_changes_are_recorded_in_order(registration, actor):
    coordinator = actor("coordinator")
    services.change_registration_status(
        actor=coordinator,
        registration=registration,
        status="in_custody",
        note="Remanded for burglary",
        on=dt.date(2026, 4, 1),
    )
    with pytest.raises(CohortError, match="already in custody"):
        services.change_registration_status(
            actor=coordinator,
            registration=registration,
            status="in_custody",
            note="again",
            on=dt.date(2026, 4, 2),
        )
    with pytest.raises(CohortError, match="use deregister"):
        services.change_registration_status(
            actor=coordinator, registration=registration, status="deregistered", note="x"
        )
    services.change_registration_status(
        actor=coordinator,
        registration=registration,
        status="active",
        note="Bailed",
        on=dt.date(2026, 4, 20),
    )
    changes = RegistrationStatusChange.objects.filter(registration=registration)
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("", "active"),
        ("active", "in_custody"),
        ("in_custody", "active"),
    ]
    assert len(events("registration.status_changed")) == 2


def test_history_rows_are_append_only(registration):
    change = registration.status_changes.get()
    change.note = "rewritten"
    with pytest.raises(PermissionError, match="append-only"):
        change.save()
    with pytest.raises(PermissionError, match="append-only"):
        RegistrationStatusChange.objects.all().update(note="x")
    with pytest.raises(PermissionError, match="append-only"):
        RegistrationStatusChange.objects.all().delete()
