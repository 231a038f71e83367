"""The audit trail: one event per consultation, append-only, same transaction as the write."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from openiom.access.policy import Action
from openiom.audit import registry
from openiom.audit.models import AuditEvent
from openiom.audit.services import record
from openiom.core import request_context
from openiom.people.models import Person
from openiom.people.selectors import view_person
from openiom.people.services import update_person
from tests.people.builders import add_records, events

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger exists only on PostgreSQL (CI runs these there)",
)


@pytest.fixture
def an_event(actor) -> AuditEvent:
    return record("audit.consulted", actor=actor("dpo"), details={"n": 1})


class TestConsultation:
    @pytest.mark.parametrize("username", ["police.officer", "probation.om", "analyst", "dpo"])
    def test_each_view_of_a_record_writes_exactly_one_consultation_event(
        self, actor, make_person, username
    ):
        person = make_person()
        add_records(person)
        before = AuditEvent.objects.count()

        view_person(actor=actor(username), person_id=person.pk)
        view_person(actor=actor(username), person_id=person.pk)

        consulted = events("person.consulted", person_id=person.pk)
        assert len(consulted) == 2
        assert AuditEvent.objects.count() == before + 2  # and nothing else
        event = consulted[0]
        assert event.category == AuditEvent.Category.CONSULTATION
        assert event.actor_username == username
        assert event.object_type == "people.person" and event.object_id == str(person.pk)
        assert event.summary == f"Viewed the record of {person}"

    def test_the_event_lists_the_sections_shown(self, actor, make_person, involve):
        person = make_person()
        involve(person, "vcs.mentor")

        view_person(actor=actor("vcs.mentor"), person_id=person.pk)
        view_person(actor=actor("police.officer"), person_id=person.pk)

        mentor, officer = events("person.consulted", person_id=person.pk)
        assert mentor.details["sections"] == ["identity", "circumstances"]
        assert officer.details["sections"] == [
            "identity",
            "circumstances",
            "offending",
            "intelligence",
        ]


class TestAppendOnly:
    def test_saving_an_existing_event_is_refused(self, an_event):
        an_event.summary = "Nothing to see here"
        with pytest.raises(PermissionError, match="append-only"):
            an_event.save()
        an_event.refresh_from_db()
        assert an_event.summary == "Viewed the audit trail"

    def test_deleting_an_event_is_refused(self, an_event):
        with pytest.raises(PermissionError, match="append-only"):
            an_event.delete()
        assert AuditEvent.objects.filter(pk=an_event.pk).exists()

    def test_bulk_update_and_delete_are_refused(self, an_event):
        with pytest.raises(PermissionError, match="cannot be updated"):
            AuditEvent.objects.filter(pk=an_event.pk).update(summary="changed")
        with pytest.raises(PermissionError, match="cannot be deleted"):
            AuditEvent.objects.all().delete()
        assert AuditEvent.objects.get(pk=an_event.pk).summary == "Viewed the audit trail"

    @on_postgresql
    def test_the_database_refuses_a_raw_update(self, an_event):
        with (
            pytest.raises(DatabaseError, match="append-only: UPDATE is not allowed"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "UPDATE audit_auditevent SET summary = 'changed' WHERE id = %s", [an_event.pk]
            )
        assert AuditEvent.objects.get(pk=an_event.pk).summary == "Viewed the audit trail"

    @on_postgresql
    def test_the_database_refuses_a_raw_delete(self, an_event):
        with (
            pytest.raises(DatabaseError, match="append-only: DELETE is not allowed"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM audit_auditevent")
        assert AuditEvent.objects.filter(pk=an_event.pk).exists()


class TestRegistry:
    def test_unregistered_event_types_are_refused(self, actor):
        count = AuditEvent.objects.count()
        with pytest.raises(registry.UnknownEventType, match=r"'person\.poked' is not registered"):
            record("person.poked", actor=actor("dpo"))
        assert AuditEvent.objects.count() == count

    def test_an_event_type_cannot_be_registered_twice(self):
        with pytest.raises(ValueError, match="already registered"):
            registry.register("person.consulted", "consultation", "Again")

    def test_every_registered_type_has_a_valid_category(self):
        categories = set(AuditEvent.Category.values)
        assert {t.category for t in registry.all_types()} <= categories


class TestSameTransaction:
    def test_a_failure_after_recording_rolls_back_the_write_and_its_event(self, actor, make_person):
        person = make_person(surname="Before")
        coordinator = actor("coordinator")

        with pytest.raises(RuntimeError), transaction.atomic():
            update_person(actor=coordinator, person=person, changes={"surname": "After"})
            assert events("person.altered", person_id=person.pk)  # written...
            raise RuntimeError("the request failed later")

        assert Person.objects.get(pk=person.pk).surname == "Before"
        assert events("person.altered", person_id=person.pk) == []  # ...and rolled back with it

    def test_an_invalid_write_leaves_no_event(self, actor, make_person):
        person = make_person()
        with pytest.raises(Exception, match="sex"):
            update_person(actor=actor("coordinator"), person=person, changes={"sex": "Q"})
        assert events("person.altered", person_id=person.pk) == []

    def test_a_refused_write_is_still_audited(self, actor, make_person):
        from openiom.access.services import AccessDenied

        person = make_person()
        with pytest.raises(AccessDenied):
            update_person(actor=actor("analyst"), person=person, changes={"surname": "X"})
        [denial] = events("access.denied", person_id=person.pk)
        assert denial.details["action"] == str(Action.EDIT_PERSON)
        assert Person.objects.get(pk=person.pk).surname != "X"

    def test_the_record_keeps_before_and_after(self, actor, make_person):
        person = make_person(surname="Smith")
        update_person(actor=actor("coordinator"), person=person, changes={"surname": "Smyth"})
        [altered] = events("person.altered", person_id=person.pk)
        assert altered.before == {"surname": "Smith"}
        assert altered.after == {"surname": "Smyth"}


class TestRequestContext:
    def test_events_carry_the_request_id_and_address(self, actor):
        token = request_context.set_current(
            request_context.RequestContext(request_id="req-123", ip_address="192.0.2.7")
        )
        try:
            event = record("audit.consulted", actor=actor("dpo"))
        finally:
            request_context.reset(token)
        assert event.request_id == "req-123"
        assert event.ip_address == "192.0.2.7"

    def test_a_request_through_the_middleware_stamps_its_events(self, client, personas):
        client.force_login(personas["dpo"])  # sign-in recorded outside a request: no id
        response = client.get("/api/me", HTTP_X_REQUEST_ID="abc-42")
        assert response.status_code == 200
        assert response["X-Request-ID"] == "abc-42"
        client.get("/api/audit/events", HTTP_X_REQUEST_ID="abc-43")
        [consulted] = events("audit.consulted")
        assert consulted.request_id == "abc-43"
        assert consulted.ip_address == "127.0.0.1"

    def test_a_malformed_request_id_is_replaced(self, client, personas):
        client.force_login(personas["dpo"])
        client.get("/api/audit/events", HTTP_X_REQUEST_ID="bad id; drop table")
        [consulted] = events("audit.consulted")
        assert consulted.request_id and consulted.request_id != "bad id; drop table"
        assert len(consulted.request_id) == 32


def _sign_in_request(rf):
    # django-axes needs the request to count failures by username and address.
    return rf.post("/accounts/sign-in", REMOTE_ADDR="192.0.2.10")


class TestSignInAndOut:
    def test_signing_in_and_out_are_audited(self, client, rf, personas, password):
        assert client.login(
            request=_sign_in_request(rf), username="probation.om", password=password
        )
        [signed_in] = events("auth.signed_in")
        assert signed_in.actor_username == "probation.om"
        assert signed_in.actor_agency.code == "probation-wessex"
        assert signed_in.category == "security"

        client.logout()
        [signed_out] = events("auth.signed_out")
        assert signed_out.actor_username == "probation.om"
        assert signed_out.summary == "Signed out probation.om"

    def test_a_failed_sign_in_is_audited_with_the_username_tried(self, client, rf, personas):
        assert not client.login(
            request=_sign_in_request(rf), username="probation.om", password="wrong"
        )
        [failed] = events("auth.sign_in_failed")
        assert failed.actor is None
        assert failed.actor_username == "probation.om"
        assert failed.summary == "Failed sign-in for probation.om"
        assert "password" not in failed.details
        assert events("auth.signed_in") == []
