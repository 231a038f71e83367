"""An imported arrest on a registered person alerts the lead worker as soon as the import lands."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from openiom.casework.models import Alert, AlertKind
from openiom.imports.services import ExtractFile, import_extract
from openiom.offending.models import Arrest
from openiom.partnership.models import Agency
from tests.cohort.conftest import (  # noqa: F401
    adopt,
    burglar,
    listed_referral,
)

pytestmark = pytest.mark.django_db

HEADER = "source_system,arrest_id,person_id,arrest_date,offence_code,description,outcome"


def arrests_file(person_source_id: str) -> ExtractFile:
    day = timezone.localdate().isoformat()
    row = f"pnc,A9000001,{person_source_id},{day},028/01,Suspicion of burglary,charged"
    return ExtractFile("arrests.csv", f"{HEADER}\n{row}\n".encode())


@pytest.fixture
def registered(listed_referral: Any, adopt: Any) -> Any:  # noqa: F811
    registration = adopt(listed_referral)
    person = registration.person
    person.source_system, person.source_id = "pnc", "P900001"
    person.save(update_fields=["source_system", "source_id"])
    return registration


def test_imported_arrest_alerts_the_lead_worker_once(
    registered: Any, actor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    police = Agency.objects.get(code="wessex-police")
    with django_capture_on_commit_callbacks(execute=True):
        result = import_extract(
            actor=actor("coordinator"), files=[arrests_file("P900001")], agency=police
        )
    assert result.accepted, result.problems
    arrest = Arrest.objects.get(source_id="A9000001")
    alert = Alert.objects.get(kind=AlertKind.NEW_ARREST)
    assert alert.recipient == registered.lead_worker
    assert alert.subject_key == f"arrest:{arrest.pk}"

    # Importing the same extract again changes nothing and raises nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        import_extract(actor=actor("coordinator"), files=[arrests_file("P900001")], agency=police)
    assert Alert.objects.filter(kind=AlertKind.NEW_ARREST).count() == 1


def test_dry_run_raises_no_alert(
    registered: Any, actor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    police = Agency.objects.get(code="wessex-police")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = import_extract(
            actor=actor("coordinator"),
            files=[arrests_file("P900001")],
            agency=police,
            dry_run=True,
        )
    assert result.accepted, result.problems
    assert callbacks == []
    assert not Arrest.objects.filter(source_id="A9000001").exists()
    assert not Alert.objects.exists()
