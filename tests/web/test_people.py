"""Search and the person page: audited exactly once, and showing only what the role allows."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.urls import reverse

from openiom.audit.models import AuditEvent
from openiom.people.models import Restriction
from tests.web.helpers import assert_csp_safe, html


def search(client: Any, q: str) -> Any:
    return client.get(reverse("people:search"), {"q": q})


def test_search_by_name_alias_dob_and_pnc(client_for: Any, nominal: Any, make_person: Any) -> None:
    make_person(first_names="Other", surname="Body", date_of_birth=dt.date(1980, 1, 1))
    client = client_for("police.officer")
    detail_url = reverse("people:detail", args=[nominal.pk])
    for q in ["smith", "Jason Smith", "Smythe", "02/04/1991", "smith 02/04/1991", nominal.pnc_id]:
        response = search(client, q)
        assert response.status_code == 200, q
        body = assert_csp_safe(response)
        assert detail_url in body, q
        assert "Body" not in body.split("results-heading")[-1], q
        assert "1 person found" in body


def test_search_is_audited_with_its_query(client_for: Any, nominal: Any) -> None:
    client = client_for("police.officer")
    search(client, "smith")
    event = AuditEvent.objects.filter(event_type="person.searched").get()
    assert event.details["query"] == "smith"
    assert event.details["result_ids"] == [nominal.pk]
    assert event.actor_username == "police.officer"


def test_no_results_message(client_for: Any, nominal: Any) -> None:
    body = html(search(client_for("police.officer"), "Nobodyatall"))
    assert "No people found" in body
    assert "check the spelling" in body


def test_empty_query_is_an_error_and_is_not_audited(client_for: Any, nominal: Any) -> None:
    client = client_for("police.officer")
    before = AuditEvent.objects.count()
    response = search(client, "   ")
    assert response.status_code == 400
    body = html(response)
    assert "There is a problem" in body
    assert 'href="#q"' in body
    assert "Enter a name, date of birth, PNC ID, CRN or prison number" in body
    assert "Error: " in body.split("<title>")[1]
    # Opening the page without a query is not a search either.
    assert client.get(reverse("people:search")).status_code == 200
    assert AuditEvent.objects.count() == before


def test_impossible_date_is_an_error(client_for: Any, nominal: Any) -> None:
    response = search(client_for("police.officer"), "31/02/1991")
    assert response.status_code == 400
    assert "Date of birth must be a real date" in html(response)


def test_partner_search_finds_only_people_they_work_with(
    client_for: Any, nominal: Any, involve: Any, make_person: Any
) -> None:
    other = make_person(surname="Smith", first_names="Sam")
    involve(nominal, "housing.worker")
    body = html(search(client_for("housing.worker"), "smith"))
    assert reverse("people:detail", args=[nominal.pk]) in body
    assert reverse("people:detail", args=[other.pk]) not in body


def test_person_page_writes_exactly_one_consultation_per_view(
    client_for: Any, nominal: Any
) -> None:
    client = client_for("police.officer")
    url = reverse("people:detail", args=[nominal.pk])
    for expected in (1, 2):
        before = AuditEvent.objects.count()
        response = client.get(url)
        assert response.status_code == 200
        assert AuditEvent.objects.count() == before + 1
        consultations = AuditEvent.objects.filter(
            event_type="person.consulted", person_id=nominal.pk
        )
        assert consultations.count() == expected
    event = consultations.first()
    assert event is not None
    assert event.actor_username == "police.officer"
    assert event.request_id == response["X-Request-ID"]


def test_police_officer_sees_everything(client_for: Any, nominal: Any) -> None:
    response = client_for("police.officer").get(reverse("people:detail", args=[nominal.pk]))
    body = assert_csp_safe(response)
    for text in [
        "Jason SMITH",
        "Jay Smythe",
        "age ",
        nominal.pnc_id,
        "CRO number 123456/16X",
        "On licence",
        'id="offending"',
        "Burglary (domestic)",
        "HMP Wessex",
        "1 Harbour Row",
        'id="intelligence"',
        "SECRETINTEL",
        "graded 1BC",
        "Not to be shared outside IOM",
    ]:
        assert text in body, text


def test_offending_chart_is_accessible_inline_svg(client_for: Any, nominal: Any) -> None:
    response = client_for("police.officer").get(reverse("people:detail", args=[nominal.pk]))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    found = re.search(r'<svg[^>]*class="app-chart__svg"[^>]*>.*?</svg>', body, re.DOTALL)
    assert found, body[body.find('id="offending"') :][:3000]
    svg = found.group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="offending-chart-title offending-chart-desc"' in svg
    assert '<title id="offending-chart-title">Offending timeline</title>' in svg
    assert "5 proven offences from 2016 to 2022" in svg
    assert "1 period in custody shaded grey" in svg
    assert "style=" not in svg
    assert "Show the chart as a table" in body


def test_vcs_mentor_sees_no_intelligence_and_no_offending(
    client_for: Any, nominal: Any, involve: Any
) -> None:
    involve(nominal, "vcs.mentor")
    response = client_for("vcs.mentor").get(reverse("people:detail", args=[nominal.pk]))
    assert response.status_code == 200
    body = assert_csp_safe(response)
    assert "Jason SMITH" in body
    assert "Second Chance Mentoring" in body
    # Nothing at all about intelligence, not even that there is some.
    assert "ntelligence" not in body
    assert "SECRETINTEL" not in body
    assert 'id="offending"' not in body
    assert "Burglary" not in body
    assert "1 Harbour Row" not in body  # recorded by another agency
    event = AuditEvent.objects.get(event_type="person.consulted", person_id=nominal.pk)
    assert event.details["intelligence_items"] == 0


def test_housing_worker_not_working_with_person_is_refused_and_audited(
    client_for: Any, nominal: Any
) -> None:
    response = client_for("housing.worker").get(reverse("people:detail", args=[nominal.pk]))
    assert response.status_code == 403
    body = assert_csp_safe(response)
    assert "You cannot see this page" in body
    assert "your agency is not working with this person" in body
    assert "Jason" not in body
    denied = AuditEvent.objects.get(event_type="access.denied")
    assert denied.person_id == nominal.pk
    assert denied.actor_username == "housing.worker"
    assert not AuditEvent.objects.filter(event_type="person.consulted").exists()


def test_restricted_record_is_refused_to_others_and_marked_for_named_users(
    client_for: Any, personas: Any, nominal: Any
) -> None:
    Restriction.objects.create(person=nominal, user=personas["coordinator"], reason="Test")
    url = reverse("people:detail", args=[nominal.pk])
    assert client_for("police.officer").get(url).status_code == 403
    body = html(client_for("coordinator").get(url))
    assert "Restricted record" in body


def test_missing_person_is_404(client_for: Any, db: Any) -> None:
    response = client_for("police.officer").get(reverse("people:detail", args=[999999]))
    assert response.status_code == 404
    assert "Page not found" in html(response)


def test_youth_turning_18_soon_is_marked(client_for: Any, make_person: Any) -> None:
    today = dt.date.today()
    born = today.replace(year=today.year - 18) + dt.timedelta(days=30)
    person = make_person(date_of_birth=born, youth_justice_status="yos_order")
    body = html(client_for("police.officer").get(reverse("people:detail", args=[person.pk])))
    assert "Turning 18 soon" in body
    assert "Youth justice" in body
    assert "Under a youth offending service order" in body


def test_dpo_gets_link_to_who_has_viewed(client_for: Any, nominal: Any) -> None:
    body = html(client_for("dpo").get(reverse("people:detail", args=[nominal.pk])))
    assert "See who has viewed this record" in body
    assert f'href="/audit/people/{nominal.pk}/viewers/"' in body
    police = html(client_for("police.officer").get(reverse("people:detail", args=[nominal.pk])))
    assert "See who has viewed this record" not in police
