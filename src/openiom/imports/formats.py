"""The import format: one file per record type, its columns and their rules.

This module is the contract with the simulator and with partner agencies' extract jobs; it is
described for people in docs/import-format.md. Lengths and allowed values are read from the
models so the format cannot drift from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.db import models

from openiom.offending.models import Arrest, IntelligenceItem, Offence
from openiom.people.models import Address, CustodyEpisode, Person, SupervisionPeriod

Kind = Literal["text", "date", "int", "choice", "offence_code", "hub", "source_system", "id"]

CUSTODY_TYPES = ("remand", "sentenced", "recall")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    attname: str | None = None  # model attribute written; None = not a model field
    not_future: bool = False
    upper: bool = False  # identifiers are stored upper-cased


@dataclass(frozen=True)
class DateOrder:
    """`later` must not be before `earlier` (both in the same row)."""

    earlier: str
    later: str
    reason: str


@dataclass(frozen=True)
class RecordType:
    name: str
    model: type[models.Model]
    id_column: str
    columns: tuple[Column, ...]
    date_orders: tuple[DateOrder, ...] = field(default=())

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _len(model: type[models.Model], name: str) -> int:
    f = model._meta.get_field(name)
    return int(getattr(f, "max_length", 0) or 0)


def _choices(model: type[models.Model], name: str) -> tuple[str, ...]:
    f = model._meta.get_field(name)
    return tuple(str(v) for v, _ in (getattr(f, "choices", None) or []) if v != "")


def _text(
    model: type[models.Model], name: str, attname: str | None = None, *, required: bool = False
) -> Column:
    att = attname or name
    return Column(name, "text", required, _len(model, att), attname=att)


def _date(name: str, *, required: bool = False, not_future: bool = True) -> Column:
    return Column(name, "date", required, attname=name, not_future=not_future)


def _choice(model: type[models.Model], name: str, *, required: bool = False) -> Column:
    return Column(name, "choice", required, choices=_choices(model, name), attname=name)


SOURCE = Column("source_system", "source_system", True, 40)


def _id(name: str) -> Column:
    return Column(name, "id", True, 64)


PEOPLE = RecordType(
    "people",
    Person,
    "person_id",
    (
        SOURCE,
        _id("person_id"),
        _text(Person, "first_names", required=True),
        _text(Person, "surname", required=True),
        _date("date_of_birth", required=True),
        _choice(Person, "sex", required=True),
        _choice(Person, "ethnicity_officer_defined"),
        _choice(Person, "ethnicity_self_defined"),
        Column("pnc_id", "text", max_length=_len(Person, "pnc_id"), attname="pnc_id", upper=True),
        Column("crn", "text", max_length=_len(Person, "crn"), attname="crn", upper=True),
        Column(
            "prison_number",
            "text",
            max_length=_len(Person, "prison_number"),
            attname="prison_number",
            upper=True,
        ),
        Column("hub", "hub", True, attname="hub_id"),
        _choice(Person, "current_status"),
        _date("status_since"),
        _date("date_of_death"),
        _choice(Person, "youth_justice_status"),
        _text(Person, "youth_justice_team"),
        Column("address_line_1", "text", max_length=_len(Address, "line_1")),
        Column("address_town", "text", max_length=_len(Address, "town")),
        Column("address_postcode", "text", max_length=_len(Address, "postcode"), upper=True),
    ),
    (
        DateOrder("date_of_birth", "date_of_death", "a person cannot die before being born"),
        DateOrder("date_of_birth", "status_since", "a status cannot begin before birth"),
    ),
)

OFFENCES = RecordType(
    "offences",
    Offence,
    "offence_id",
    (
        SOURCE,
        _id("offence_id"),
        _id("person_id"),
        Column("offence_code", "offence_code", True, attname="offence_code_id"),
        _date("offence_date", required=True),
        _text(Offence, "description"),
        _choice(Offence, "disposal_type", required=True),
        _date("disposal_date", required=True),
        _text(Offence, "sentence"),
        Column("sentence_length_days", "int", attname="sentence_length_days"),
        _text(Offence, "court"),
    ),
    (DateOrder("offence_date", "disposal_date", "an offence cannot be disposed of before it"),),
)

ARRESTS = RecordType(
    "arrests",
    Arrest,
    "arrest_id",
    (
        SOURCE,
        _id("arrest_id"),
        _id("person_id"),
        _date("arrest_date", required=True),
        Column("offence_code", "offence_code", False, attname="offence_code_id"),
        _text(Arrest, "description"),
        _choice(Arrest, "outcome", required=True),
    ),
)

CUSTODY = RecordType(
    "custody",
    CustodyEpisode,
    "custody_id",
    (
        SOURCE,
        _id("custody_id"),
        _id("person_id"),
        Column("custody_type", "choice", True, choices=CUSTODY_TYPES, attname="custody_type"),
        _text(CustodyEpisode, "establishment"),
        _date("received_date", required=True),
        Column("sentence_length_days", "int", attname="sentence_length_days"),
        _date("expected_release_date", not_future=False),
        _date("release_date"),
        _text(CustodyEpisode, "release_type"),
    ),
    (
        DateOrder("received_date", "release_date", "release cannot be before reception"),
        DateOrder(
            "received_date", "expected_release_date", "expected release cannot be before reception"
        ),
    ),
)

SUPERVISION = RecordType(
    "supervision",
    SupervisionPeriod,
    "supervision_id",
    (
        SOURCE,
        _id("supervision_id"),
        _id("person_id"),
        _choice(SupervisionPeriod, "supervision_type", required=True),
        _date("start_date", required=True),
        _date("expected_end_date", not_future=False),
        _date("end_date"),
        _text(SupervisionPeriod, "end_reason"),
    ),
    (
        DateOrder("start_date", "end_date", "supervision cannot end before it starts"),
        DateOrder(
            "start_date", "expected_end_date", "supervision cannot be due to end before it starts"
        ),
    ),
)

INTELLIGENCE = RecordType(
    "intelligence",
    IntelligenceItem,
    "intelligence_id",
    (
        SOURCE,
        _id("intelligence_id"),
        _id("person_id"),
        _date("recorded_date", required=True),
        _choice(IntelligenceItem, "source_grade", required=True),
        _choice(IntelligenceItem, "intelligence_grade", required=True),
        _choice(IntelligenceItem, "handling_code", required=True),
        _text(IntelligenceItem, "handling_conditions"),
        # TextField: no max_length in the model; capped here so one cell cannot be megabytes.
        Column("text", "text", True, 10_000, attname="text"),
    ),
)

RECORD_TYPES: dict[str, RecordType] = {
    rt.name: rt for rt in [PEOPLE, OFFENCES, ARRESTS, CUSTODY, SUPERVISION, INTELLIGENCE]
}
# People first: records link to people imported in the same batch.
ORDER = ["people", "offences", "arrests", "custody", "supervision", "intelligence"]


def record_type_for_filename(name: str) -> str | None:
    """people.csv, people.xlsx, people_2026-01-31.csv, offences-police.csv... -> the type."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    stem = base.rsplit(".", 1)[0] if "." in base else base
    for rt in ORDER:
        if stem == rt or (stem.startswith(rt) and stem[len(rt)] in "_-. "):
            return rt
    return None
