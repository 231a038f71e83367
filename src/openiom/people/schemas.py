"""API shapes for people's records. What an actor may see is decided by the selectors, not here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class HubOut(Schema):
    code: str
    name: str


class AgencyOut(Schema):
    code: str
    name: str


class SourcedOut(Schema):
    """Provenance shared by records that came from (or were keyed into) a named system."""

    id: int
    recorded_by_agency: str | None = None
    source_system: str

    @staticmethod
    def resolve_recorded_by_agency(obj: Any) -> str | None:
        agency = obj.recorded_by_agency
        return agency.code if agency is not None else None


class PersonSummary(Schema):
    id: int
    first_names: str
    surname: str
    date_of_birth: dt.date
    sex: str
    hub: HubOut
    pnc_id: str
    crn: str
    prison_number: str
    current_status: str


class PersonList(Schema):
    """A page of people. `count` is the number of matches (for search, up to `limit`)."""

    count: int
    limit: int
    offset: int
    results: list[PersonSummary]


class AliasOut(SourcedOut):
    first_names: str
    surname: str
    date_of_birth: dt.date | None


class IdentifierOut(SourcedOut):
    scheme: str
    value: str


class AddressOut(SourcedOut):
    line_1: str
    line_2: str
    town: str
    postcode: str
    address_type: str
    from_date: dt.date | None
    to_date: dt.date | None


class CustodyEpisodeOut(SourcedOut):
    custody_type: str
    establishment: str
    received_date: dt.date
    sentence_length_days: int | None
    expected_release_date: dt.date | None
    release_date: dt.date | None
    release_type: str


class SupervisionPeriodOut(SourcedOut):
    supervision_type: str
    start_date: dt.date
    expected_end_date: dt.date | None
    end_date: dt.date | None
    end_reason: str


class InvolvementOut(Schema):
    id: int
    agency: AgencyOut
    worker: str | None = None
    purpose: str
    start_date: dt.date
    end_date: dt.date | None

    @staticmethod
    def resolve_worker(obj: Any) -> str | None:
        worker = obj.worker
        if worker is None:
            return None
        return worker.get_full_name() or worker.get_username()


class OffenceOut(SourcedOut):
    offence_code: str
    offence_category: str
    offence_date: dt.date
    description: str
    disposal_type: str
    disposal_date: dt.date
    sentence: str
    sentence_length_days: int | None
    court: str

    @staticmethod
    def resolve_offence_code(obj: Any) -> str:
        return str(obj.offence_code.code)

    @staticmethod
    def resolve_offence_category(obj: Any) -> str:
        return str(obj.offence_code.category)


class ArrestOut(SourcedOut):
    arrest_date: dt.date
    offence_code: str | None = None
    description: str
    outcome: str

    @staticmethod
    def resolve_offence_code(obj: Any) -> str | None:
        code = obj.offence_code
        return code.code if code is not None else None


class IntelligenceOut(SourcedOut):
    recorded_date: dt.date
    source_grade: str
    intelligence_grade: str
    handling_code: str
    handling_conditions: str
    grading: str
    text: str


class PersonDetail(Schema):
    """A person's record as this actor may see it.

    `offences` and `arrests` are present only when the actor may see offending, and
    `intelligence` only when they may see police intelligence; otherwise the keys are absent.
    """

    id: int
    first_names: str
    surname: str
    date_of_birth: dt.date
    sex: str
    ethnicity_officer_defined: str
    ethnicity_self_defined: str
    hub: HubOut
    pnc_id: str
    crn: str
    prison_number: str
    current_status: str
    status_since: dt.date | None
    date_of_death: dt.date | None
    youth_justice_status: str
    youth_justice_team: str
    is_restricted: bool
    sections: list[str]
    may_see_offending: bool
    may_see_intelligence: bool
    may_edit: bool
    aliases: list[AliasOut]
    identifiers: list[IdentifierOut]
    addresses: list[AddressOut]
    custody_episodes: list[CustodyEpisodeOut]
    supervision_periods: list[SupervisionPeriodOut]
    involvements: list[InvolvementOut]
    offences: list[OffenceOut] | None = None
    arrests: list[ArrestOut] | None = None
    intelligence: list[IntelligenceOut] | None = None


class OffenceList(Schema):
    count: int
    limit: int
    offset: int
    results: list[OffenceOut]


class IntelligenceList(Schema):
    count: int
    results: list[IntelligenceOut]
