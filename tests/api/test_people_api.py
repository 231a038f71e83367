"""The people API: same policy and audit as the pages, JSON errors, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest

from openiom.people.models import Restriction
from tests.people.builders import add_records, events

API = "/api/people"


@pytest.fixture
def nominal(make_person):
    person = make_person(first_names="Dean", surname="Rowe", crn="X654321")
    return person, add_records(person)


class TestSearchAndList:
    def test_search_finds_visible_people_and_is_audited(self, as_persona, nominal):
        person, _ = nominal
        response = as_persona("probation.om").get(API, {"q": "rowe"})

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1 and body["limit"] == 50 and body["offset"] == 0
        [hit] = body["results"]
        assert hit == {
            "id": person.pk,
            "first_names": "Dean",
            "surname": "Rowe",
            "date_of_birth": "1990-01-01",
            "sex": "M",
            "hub": {"code": "north", "name": "Northgate"},
            "pnc_id": person.pnc_id,
            "crn": "X654321",
            "prison_number": "",
            "current_status": "community",
        }
        [searched] = events("person.searched")
        assert searched.details["result_ids"] == [person.pk]
        assert searched.request_id  # stamped by the request-id middleware

    def test_a_partner_searching_does_not_find_people_beyond_their_work(self, as_persona, nominal):
        response = as_persona("housing.worker").get(API, {"q": "X654321"})
        assert response.status_code == 200
        assert response.json()["results"] == []

    def test_listing_pages_through_visible_people_and_is_audited(self, as_persona, make_person):
        people = [make_person(surname=f"List{n}") for n in range(5)]
        client = as_persona("coordinator")

        first = client.get(API, {"limit": 2}).json()
        second = client.get(API, {"limit": 2, "offset": 2}).json()

        assert first["count"] == second["count"] == 5
        assert [p["surname"] for p in first["results"]] == ["List0", "List1"]
        assert [p["surname"] for p in second["results"]] == ["List2", "List3"]
        listed = events("person.listed")
        assert [e.details["result_ids"] for e in listed] == [
            [people[0].pk, people[1].pk],
            [people[2].pk, people[3].pk],
        ]

    def test_the_administrator_is_refused_and_the_refusal_audited(self, as_persona):
        response = as_persona("admin").get(API, {"q": "rowe"})
        assert response.status_code == 403
        assert response.json() == {
            "detail": "You cannot search people: administrators manage accounts, not people's "
            "records."
        }
        assert len(events("access.denied")) == 1

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"q": "   "}, "q", "Enter a name, date of birth or identifier to search for."),
            ({"q": "jo\x00nes"}, "q", "The search must not contain control characters."),
            ({"q": "x" * 201}, "q", "String should have at most 200 characters"),
            ({"q": "rowe", "offset": 10}, "offset", "Searches are not paged"),
            ({"q": "rowe", "limit": 80}, "limit", "A search returns at most 50 people."),
            ({"limit": 0}, "limit", "Input should be greater than or equal to 1"),
            ({"limit": 1000}, "limit", "Input should be less than or equal to 100"),
            ({"limit": "lots"}, "limit", "Input should be a valid integer"),
            ({"offset": -1}, "offset", "Input should be greater than or equal to 0"),
            ({"offset": 2**70}, "offset", "Input should be less than or equal to"),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field(self, as_token, params, field, message):
        response = as_token("probation.om").get(API, params)

        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", field]
        assert error["msg"].startswith(message)
        assert events("person.searched") == [] and events("person.listed") == []


class TestPersonDetail:
    def test_the_police_officer_sees_offending_and_intelligence(self, as_persona, nominal):
        person, recorded = nominal
        response = as_persona("police.officer").get(f"{API}/{person.pk}")

        assert response.status_code == 200
        body = response.json()
        assert body["id"] == person.pk and body["surname"] == "Rowe"
        assert body["may_see_offending"] is True and body["may_see_intelligence"] is True
        assert body["sections"] == ["identity", "circumstances", "offending", "intelligence"]
        assert [o["id"] for o in body["offences"]] == [recorded.offence.pk]
        assert body["offences"][0]["offence_code"] == "028/01"
        assert [a["id"] for a in body["arrests"]] == [recorded.arrest.pk]
        [intel] = body["intelligence"]
        assert intel["grading"] == "1BP"
        assert intel["text"] == recorded.intelligence.text
        assert intel["recorded_by_agency"] == "wessex-police"
        assert {a["recorded_by_agency"] for a in body["addresses"]} == {
            "harbour-housing",
            "probation-wessex",
        }

    def test_the_vcs_mentor_gets_no_intelligence_key_at_all(self, as_persona, nominal, involve):
        person, _ = nominal
        involve(person, "vcs.mentor")

        response = as_persona("vcs.mentor").get(f"{API}/{person.pk}")

        assert response.status_code == 200
        body = response.json()
        assert "intelligence" not in body
        assert "offences" not in body and "arrests" not in body
        assert body["may_see_intelligence"] is False
        assert "Seen with known associates" not in response.content.decode()
        assert body["aliases"] == [] and body["addresses"] == []  # nothing recorded by them
        [involvement] = body["involvements"]
        assert involvement["agency"] == {
            "code": "second-chance-mentoring",
            "name": "Second Chance Mentoring",
        }
        assert involvement["worker"] == "Vince Okafor"

    def test_the_housing_worker_sees_basics_and_her_own_records_only(
        self, as_persona, nominal, involve
    ):
        person, recorded = nominal
        involve(person, "housing.worker")

        body = as_persona("housing.worker").get(f"{API}/{person.pk}").json()

        assert [a["id"] for a in body["addresses"]] == [recorded.housing_address.pk]
        assert [a["id"] for a in body["aliases"]] == [recorded.housing_alias.pk]
        assert body["identifiers"] == [] and body["custody_episodes"] == []
        assert "offences" not in body and "intelligence" not in body

    def test_the_housing_worker_is_refused_a_stranger_and_the_refusal_is_audited(
        self, as_persona, nominal
    ):
        person, _ = nominal
        response = as_persona("housing.worker").get(f"{API}/{person.pk}")

        assert response.status_code == 403
        assert response.json() == {
            "detail": "You cannot view person: your agency is not working with this person."
        }
        [denial] = events("access.denied", person_id=person.pk)
        assert denial.actor_username == "housing.worker"
        assert denial.details["reason"] == "your agency is not working with this person"
        assert denial.request_id
        assert events("person.consulted") == []

    def test_each_call_writes_exactly_one_consultation_event(self, as_persona, nominal):
        person, _ = nominal
        client = as_persona("probation.om")

        for expected in (1, 2, 3):
            assert client.get(f"{API}/{person.pk}").status_code == 200
            assert len(events("person.consulted", person_id=person.pk)) == expected

    def test_a_restricted_record_is_refused_to_the_coordinator(self, as_persona, nominal, personas):
        person, _ = nominal
        Restriction.objects.create(person=person, user=personas["police.officer"], reason="x")

        refused = as_persona("coordinator").get(f"{API}/{person.pk}")
        allowed = as_persona("police.officer").get(f"{API}/{person.pk}")

        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "You cannot view person: this record is restricted to named users."
        )
        assert allowed.status_code == 200 and allowed.json()["is_restricted"] is True

    def test_an_unknown_person_is_a_404(self, as_persona, personas):
        response = as_persona("police.officer").get(f"{API}/999999")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such person."}

    @pytest.mark.parametrize("bad_id", ["abc", "0", "-4", str(2**64), "1.5"])
    def test_a_malformed_id_is_a_422_or_404_never_a_500(self, as_token, bad_id):
        response = as_token("police.officer").get(f"{API}/{bad_id}")
        assert response.status_code in {404, 422}
        assert "detail" in response.json()


class TestOffences:
    def test_probation_pages_through_offences_and_it_is_audited(self, as_persona, nominal):
        person, recorded = nominal
        response = as_persona("probation.om").get(f"{API}/{person.pk}/offences")

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        [offence] = body["results"]
        assert offence["id"] == recorded.offence.pk
        assert offence["disposal_type"] == "custody"
        assert offence["offence_date"] == dt.date(2021, 6, 1).isoformat()
        [consulted] = events("person.consulted", person_id=person.pk)
        assert consulted.details == {"sections": ["offending"], "offence_ids": [offence["id"]]}

    def test_a_partner_working_with_the_person_is_refused_offending(
        self, as_persona, nominal, involve
    ):
        person, _ = nominal
        involve(person, "drug.worker")

        response = as_persona("drug.worker").get(f"{API}/{person.pk}/offences")

        assert response.status_code == 403
        assert response.json()["detail"] == (
            "You cannot view offending: partner agencies see the basics and their own records only."
        )
        [denial] = events("access.denied", person_id=person.pk)
        assert denial.details["action"] == "view offending"

    def test_an_unknown_person_is_a_404(self, as_token, personas):
        assert as_token("probation.om").get(f"{API}/424242/offences").status_code == 404


class TestIntelligence:
    def test_police_see_it_and_the_consultation_is_recorded(self, as_persona, nominal):
        person, recorded = nominal
        response = as_persona("police.officer").get(f"{API}/{person.pk}/intelligence")

        assert response.status_code == 200
        assert [i["id"] for i in response.json()["results"]] == [recorded.intelligence.pk]
        [consulted] = events("intelligence.consulted", person_id=person.pk)
        assert consulted.summary == f"Viewed 1 intelligence items on {person}"

    @pytest.mark.parametrize("username", ["vcs.mentor", "probation.om", "dpo"])
    def test_everyone_else_is_refused_and_the_refusal_audited(
        self, as_persona, nominal, involve, username
    ):
        person, _ = nominal
        if username == "vcs.mentor":
            involve(person, "vcs.mentor")

        response = as_persona(username).get(f"{API}/{person.pk}/intelligence")

        assert response.status_code == 403
        assert response.json() == {
            "detail": "You cannot view intelligence: police intelligence is visible to police "
            "staff only."
        }
        [denial] = events("access.denied", person_id=person.pk)
        assert denial.actor_username == username
        assert events("intelligence.consulted") == []
