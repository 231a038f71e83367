"""Searching people: by name, alias, date of birth and identifiers; only the visible; audited."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.people.models import Alias, PersonIdentifier
from openiom.people.selectors import search_people
from tests.people.builders import events


@pytest.fixture
def area(make_person):
    """Three people in the north hub, with identifiers and an alias."""
    jon = make_person(
        first_names="Jonathan Paul",
        surname="O'Brien-Smith",
        date_of_birth=dt.date(1988, 4, 12),
        pnc_id="2001/0000123Z",
        crn="X123456",
        prison_number="A1234BC",
    )
    Alias.objects.create(person=jon, first_names="Johnny", surname="Blaze")
    PersonIdentifier.objects.create(person=jon, scheme="force", value="998877")
    kate = make_person(first_names="Kate", surname="Jones", date_of_birth=dt.date(1995, 7, 30))
    paul = make_person(first_names="Paul", surname="Brien", date_of_birth=dt.date(1988, 4, 12))
    return {"jon": jon, "kate": kate, "paul": paul}


def found(actor, query: str) -> set[str]:
    return {p.surname for p in search_people(actor=actor, query=query)}


class TestFindingPeople:
    def test_by_surname_prefix_ignoring_case_and_punctuation(self, actor, area):
        officer = actor("police.officer")
        assert found(officer, "obrien") == {"O'Brien-Smith"}
        assert found(officer, "O'BRIEN-SM") == {"O'Brien-Smith"}
        assert found(officer, "jones") == {"Jones"}

    def test_by_first_name_prefix_including_middle_names(self, actor, area):
        officer = actor("police.officer")
        assert found(officer, "Jon") == {"O'Brien-Smith", "Jones"}  # Jonathan; Jones by surname
        assert found(officer, "Ka") == {"Jones"}
        assert found(officer, "paul") == {"O'Brien-Smith", "Brien"}  # middle name; first name

    def test_every_term_must_match(self, actor, area):
        officer = actor("police.officer")
        assert found(officer, "paul brien") == {"Brien"}
        assert found(officer, "jonathan jones") == set()

    def test_by_alias(self, actor, area):
        assert found(actor("police.officer"), "blaze") == {"O'Brien-Smith"}
        assert found(actor("police.officer"), "johnny") == {"O'Brien-Smith"}

    @pytest.mark.parametrize("dob", ["12/04/1988", "1988-04-12", "12-04-1988", "12.04.1988"])
    def test_by_date_of_birth_in_common_formats(self, actor, area, dob):
        assert found(actor("police.officer"), dob) == {"O'Brien-Smith", "Brien"}

    def test_by_name_and_date_of_birth(self, actor, area):
        assert found(actor("police.officer"), "brien 12/04/1988") == {"Brien"}
        assert found(actor("police.officer"), "12/04/1988 o'brien") == {"O'Brien-Smith"}
        assert found(actor("police.officer"), "kate 12/04/1988") == set()

    @pytest.mark.parametrize(
        "identifier",
        ["2001/0000123Z", "2001/0000123z", " X123456 ", "x123456", "A1234BC", "998877"],
        ids=["pnc", "pnc-lower", "crn-spaced", "crn-lower", "prison-number", "force-id"],
    )
    def test_by_identifier(self, actor, area, identifier):
        assert found(actor("police.officer"), identifier) == {"O'Brien-Smith"}

    def test_nothing_matches_nothing(self, actor, area):
        officer = actor("police.officer")
        assert found(officer, "Zebedee") == set()
        assert found(officer, "   ") == set()
        assert found(officer, "!!!") == set()
        assert found(officer, "2001/9999999A") == set()

    def test_results_are_ordered_and_limited(self, actor, make_person):
        for n in range(5):
            make_person(first_names="Sam", surname=f"Taylor{4 - n}")
        results = search_people(actor=actor("police.officer"), query="taylor", limit=3)
        assert [p.surname for p in results] == ["Taylor0", "Taylor1", "Taylor2"]


class TestOnlyVisiblePeople:
    def test_a_partner_finds_only_the_people_their_agency_works_with(self, actor, area, involve):
        involve(area["kate"], "housing.worker")
        hannah = actor("housing.worker")

        assert found(hannah, "jones") == {"Jones"}
        assert found(hannah, "jon") == {"Jones"}  # not Jonathan O'Brien-Smith
        assert found(hannah, "X123456") == set()
        assert found(actor("vcs.mentor"), "jones") == set()

    def test_the_administrator_cannot_search(self, actor, area):
        from openiom.access.services import AccessDenied

        with pytest.raises(AccessDenied):
            search_people(actor=actor("admin"), query="jones")
        assert events("person.searched") == []
        [denial] = events("access.denied")
        assert denial.details["action"] == "search people"


class TestSearchIsAudited:
    def test_the_query_and_the_people_found_are_recorded(self, actor, area):
        search_people(actor=actor("probation.om"), query="  12/04/1988  ")

        [searched] = events("person.searched")
        assert searched.actor_username == "probation.om"
        assert searched.category == "consultation"
        assert searched.details["query"] == "12/04/1988"
        assert set(searched.details["result_ids"]) == {area["jon"].pk, area["paul"].pk}
        assert searched.summary == "Searched people for '12/04/1988' (2 results)"

    def test_a_search_finding_no_one_is_still_recorded(self, actor, area):
        search_people(actor=actor("probation.om"), query="nobody")
        [searched] = events("person.searched")
        assert searched.details["result_ids"] == []

    def test_long_queries_are_cut_to_200_characters(self, actor, area):
        search_people(actor=actor("probation.om"), query="a" * 500)
        [searched] = events("person.searched")
        assert len(searched.details["query"]) == 200

    def test_control_characters_do_not_break_the_search_or_its_record(self, actor, area):
        # PostgreSQL refuses NUL in text and JSON; the search must still answer (and audit).
        assert found(actor("probation.om"), "jon\x00es\x07") == {"Jones"}
        [searched] = events("person.searched")
        assert "\x00" not in searched.details["query"]
