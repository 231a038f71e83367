"""Who may see whom: the access policy told as stories about the named personas."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.access.policy import Action, can, people_visible_to, records_for
from openiom.access.services import AccessDenied
from openiom.accounts.models import Role
from openiom.partnership.models import Hub
from openiom.people.models import Involvement, Restriction
from openiom.people.selectors import search_people, view_person
from tests.people.builders import actor_with, add_records, agency, events


@pytest.fixture
def north() -> Hub:
    return Hub.objects.get(code="north")


@pytest.fixture
def south() -> Hub:
    return Hub.objects.get(code="south")


class TestHousingWorker:
    def test_is_refused_someone_her_agency_is_not_working_with_and_the_refusal_is_audited(
        self, actor, make_person
    ):
        stranger = make_person(surname="Stranger")
        hannah = actor("housing.worker")

        with pytest.raises(AccessDenied) as refused:
            view_person(actor=hannah, person_id=stranger.pk)

        assert str(refused.value) == (
            "You cannot view person: your agency is not working with this person."
        )
        [denial] = events("access.denied", person_id=stranger.pk)
        assert denial.actor_username == "housing.worker"
        assert denial.actor_agency.code == "harbour-housing"
        assert denial.details == {
            "action": "view person",
            "reason": "your agency is not working with this person",
        }
        assert denial.category == "security"
        assert not events("person.consulted", person_id=stranger.pk)

    def test_sees_the_basics_and_her_own_agencys_records_of_someone_she_works_with(
        self, actor, make_person, involve
    ):
        tenant = make_person(surname="Tenant")
        recorded = add_records(tenant)
        involve(tenant, "housing.worker")

        rec = view_person(actor=actor("housing.worker"), person_id=tenant.pk)

        assert rec.person == tenant
        assert rec.aliases == [recorded.housing_alias]
        assert rec.addresses == [recorded.housing_address]
        assert rec.identifiers == []  # the police's force id is theirs
        assert rec.custody_episodes == [] and rec.supervision_periods == []
        assert rec.may_see_offending is False and rec.offences == [] and rec.arrests == []
        assert rec.may_see_intelligence is False and rec.intelligence == []
        assert rec.sections == ["identity", "circumstances"]
        assert rec.may_edit is False

    def test_loses_access_when_the_work_ends_and_has_none_before_it_starts(
        self, actor, make_person, personas
    ):
        hannah = actor("housing.worker")
        past = make_person()
        future = make_person()
        housing = agency("harbour-housing")
        today = dt.date.today()
        Involvement.objects.create(
            person=past, agency=housing, start_date=dt.date(2020, 1, 1), end_date=today
        )
        Involvement.objects.create(
            person=future, agency=housing, start_date=today + dt.timedelta(days=1)
        )

        assert can(hannah, Action.VIEW_PERSON, past)  # the work ends today: still on
        Involvement.objects.filter(person=past).update(end_date=today - dt.timedelta(days=1))
        assert not can(hannah, Action.VIEW_PERSON, past)
        assert not can(hannah, Action.VIEW_PERSON, future)
        assert set(people_visible_to(hannah)) == set()

    def test_an_involvement_naming_a_colleague_does_not_let_her_in(
        self, actor, make_person, personas
    ):
        from django.contrib.auth import get_user_model

        colleague = get_user_model().objects.create(username="housing.colleague")
        person = make_person()
        Involvement.objects.create(
            person=person,
            agency=agency("harbour-housing"),
            worker=colleague,
            start_date=dt.date(2020, 1, 1),
        )

        assert not can(actor("housing.worker"), Action.VIEW_PERSON, person)


class TestIntelligence:
    def test_the_vcs_mentor_never_sees_police_intelligence(self, actor, make_person, involve):
        mentee = make_person()
        add_records(mentee)
        involve(mentee, "vcs.mentor")

        rec = view_person(actor=actor("vcs.mentor"), person_id=mentee.pk)

        assert rec.may_see_intelligence is False
        assert rec.intelligence == []
        assert "intelligence" not in rec.sections

    def test_the_police_officer_sees_it(self, actor, make_person):
        nominal = make_person()
        recorded = add_records(nominal)

        rec = view_person(actor=actor("police.officer"), person_id=nominal.pk)

        assert rec.may_see_intelligence is True
        assert rec.intelligence == [recorded.intelligence]
        [consulted] = events("person.consulted", person_id=nominal.pk)
        assert consulted.details["intelligence_items"] == 1

    def test_probation_sees_offending_and_every_agencys_records_but_not_intelligence(
        self, actor, make_person
    ):
        nominal = make_person()
        recorded = add_records(nominal)

        rec = view_person(actor=actor("probation.om"), person_id=nominal.pk)

        assert rec.may_see_offending is True
        assert rec.offences == [recorded.offence] and rec.arrests == [recorded.arrest]
        assert set(rec.addresses) == {recorded.housing_address, recorded.probation_address}
        assert rec.custody_episodes == [recorded.custody]
        assert rec.may_see_intelligence is False and rec.intelligence == []
        assert rec.may_edit is True


class TestRestrictedPerson:
    def test_only_the_named_users_see_a_restricted_record_even_the_coordinator_is_refused(
        self, actor, make_person, personas
    ):
        witness = make_person(surname="Witness")
        Restriction.objects.create(
            person=witness, user=personas["police.officer"], reason="Relative of a staff member"
        )

        assert view_person(actor=actor("police.officer"), person_id=witness.pk).is_restricted
        with pytest.raises(AccessDenied, match="restricted to named users"):
            view_person(actor=actor("coordinator"), person_id=witness.pk)
        assert witness not in people_visible_to(actor("coordinator"))
        assert witness in people_visible_to(actor("police.officer"))
        assert search_people(actor=actor("coordinator"), query="Witness") == []
        [denial] = events("access.denied", person_id=witness.pk)
        assert denial.actor_username == "coordinator"

    def test_working_with_a_restricted_person_is_not_enough(
        self, actor, make_person, involve, personas
    ):
        witness = make_person()
        involve(witness, "housing.worker")
        Restriction.objects.create(person=witness, user=personas["coordinator"], reason="Witness")

        assert not can(actor("housing.worker"), Action.VIEW_PERSON, witness)


class TestHubScope:
    def test_an_offender_manager_in_one_hub_sees_only_that_hubs_people(
        self, personas, make_person, north, south
    ):
        owen_north = actor_with(
            personas["probation.om"], "probation-wessex", Role.OFFENDER_MANAGER, hub=north
        )
        here = make_person(hub=north)
        there = make_person(hub=south)

        assert can(owen_north, Action.VIEW_PERSON, here)
        assert can(owen_north, Action.VIEW_OFFENDING, here)
        decision = can(owen_north, Action.VIEW_PERSON, there)
        assert not decision
        assert decision.reason == "your agency is not working with this person"
        assert set(people_visible_to(owen_north)) == {here}

    def test_someone_from_another_hub_their_agency_works_with_is_seen_as_a_partner_would(
        self, personas, make_person, north, south
    ):
        owen_north = actor_with(
            personas["probation.om"], "probation-wessex", Role.OFFENDER_MANAGER, hub=north
        )
        moved = make_person(hub=south)
        recorded = add_records(moved)
        Involvement.objects.create(
            person=moved, agency=agency("probation-wessex"), start_date=dt.date(2020, 1, 1)
        )

        assert can(owen_north, Action.VIEW_PERSON, moved)
        assert moved in people_visible_to(owen_north)
        assert not can(owen_north, Action.VIEW_OFFENDING, moved)
        assert set(records_for(owen_north, moved, moved.addresses.all())) == {
            recorded.probation_address
        }


class TestAdministrator:
    def test_the_administrator_manages_accounts_but_sees_no_one(self, actor, make_person):
        adam = actor("admin")
        person = make_person()

        assert not can(adam, Action.VIEW_PERSON, person)
        assert not people_visible_to(adam).exists()
        assert can(adam, Action.MANAGE_USERS)
        with pytest.raises(AccessDenied, match="administrators manage accounts"):
            search_people(actor=adam, query="Person")
        with pytest.raises(AccessDenied):
            view_person(actor=adam, person_id=person.pk)


class TestAnalysts:
    def test_the_police_analyst_sees_the_whole_area_with_offending_and_intelligence(
        self, actor, make_person, south
    ):
        ana = actor("analyst")
        anywhere = make_person(hub=south)
        recorded = add_records(anywhere)

        rec = view_person(actor=ana, person_id=anywhere.pk)

        assert rec.may_see_offending and rec.offences == [recorded.offence]
        assert rec.may_see_intelligence and rec.intelligence == [recorded.intelligence]
        assert rec.may_edit is False
        assert not can(ana, Action.RECORD_INTELLIGENCE, anywhere)

    def test_an_analyst_at_the_council_sees_people_and_offending_but_not_circumstances(
        self, personas, make_person
    ):
        council_analyst = actor_with(personas["dpo"], "wessex-council", Role.ANALYST)
        person = make_person()
        recorded = add_records(person)

        rec = view_person(actor=council_analyst, person_id=person.pk)

        assert rec.may_see_offending and rec.offences == [recorded.offence]
        assert rec.may_see_intelligence is False and rec.intelligence == []
        # Circumstances recorded by other agencies stay with them.
        assert rec.addresses == [] and rec.aliases == [] and rec.custody_episodes == []
        assert can(council_analyst, Action.VIEW_CIRCUMSTANCES, person).reason == (
            "own agency's records only"
        )
        assert person in people_visible_to(council_analyst)


class TestDataProtectionOfficer:
    def test_the_dpo_reads_the_audit_trail_and_may_consult_records_but_not_intelligence(
        self, actor, make_person
    ):
        dara = actor("dpo")
        person = make_person()
        add_records(person)

        assert can(dara, Action.VIEW_AUDIT)
        rec = view_person(actor=dara, person_id=person.pk)
        assert rec.may_see_intelligence is False
        assert not can(dara, Action.EDIT_PERSON, person)
        assert can(dara, Action.RESTRICT_PERSON, person)

    def test_only_dpos_and_administrators_read_the_audit_trail(self, actor):
        readers = {
            name
            for name in (
                "police.officer",
                "probation.om",
                "coordinator",
                "housing.worker",
                "drug.worker",
                "vcs.mentor",
                "analyst",
                "dpo",
                "admin",
            )
            if can(actor(name), Action.VIEW_AUDIT)
        }
        assert readers == {"dpo", "admin"}


def test_someone_without_an_active_role_is_refused_everything(personas, make_person):
    from openiom.accounts.actor import actor_for_user
    from openiom.accounts.models import Membership

    Membership.objects.filter(user=personas["probation.om"]).update(is_active=False)
    owen = actor_for_user(personas["probation.om"])
    person = make_person()

    assert owen.membership is None
    assert can(owen, Action.VIEW_PERSON, person).reason == "no active agency role"
    assert not people_visible_to(owen).exists()
