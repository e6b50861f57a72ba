"""The one validation schema for the handover form, the JSON API and the CLI.

Pydantic checks shape, lengths, enums, emails, zones and countries; `validate_handover`
returns the domain `Handover` or a list of `FieldError`s, one per field path
(`delivery_team.1.email`), which the form shows beside each field and the API returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from service.domain.contracts import CONTROL as _CONTROL
from service.domain.model import (
    Cadence,
    Client,
    ClientContact,
    ContactRole,
    Handover,
    Person,
    Project,
    Success,
)
from service.schema_errors import plain

# Line breaks of every kind (CR, LF, NEL, the Unicode line and paragraph separators, and
# the vertical tab and form feed): a name is one line, and a break in one would add a line
# of its own to an invitation, an email header or a log.
_LINE_BREAK = re.compile(r"[\r\n\v\f\x85\u2028\u2029]")


def _one_line(value: str) -> str:
    if _LINE_BREAK.search(value):
        raise PydanticCustomError("line_break", "Keep this on one line: remove the line breaks.")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_one_line),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
]
Domain = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(
        max_length=253,
        pattern=r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    ),
]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s<>\"]+$")
]


@cache
def zones() -> frozenset[str]:
    """Return every time zone the schema accepts (IANA names)."""
    return frozenset(available_timezones())


def _bad_zone(value: str = "") -> PydanticCustomError:
    return PydanticCustomError(
        "invalid_timezone",
        "Choose a time zone from the list, such as New York (America/New_York).",
        {"suggestion": zone_like(value)},
    )


def zone_like(value: str) -> str:
    """Return the one zone whose city is what was typed ("berlin", "New York"), or ""."""
    city = value.strip().replace(" ", "_").lower()
    found = [z for z in zones() if "/" in z and z.rsplit("/", 1)[1].lower() == city]
    return found[0] if len(found) == 1 else ""


def _check_zone(value: str) -> str:
    value = value.strip()
    if value not in zones():
        raise _bad_zone(value)
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:  # pragma: no cover - listed zones load
        raise _bad_zone(value) from None
    return value


@cache
def supported_countries() -> frozenset[str]:
    """Return every country code the schema accepts (those with known public holidays)."""
    return frozenset(holidays.list_supported_countries())


def _check_country(value: str) -> str:
    typed = value.strip()
    value = typed.upper()
    if value not in supported_countries():
        raise PydanticCustomError(
            "invalid_country",
            "Choose a country from the list, for example India (code IN).",
            {"suggestion": (code := country_code_of(typed)), "name": country_names().get(code)},
        )
    return value


def country_code_of(name: str) -> str:
    """Return the code of the country (with known public holidays) named so, or ""."""
    wanted = name.strip().casefold()
    for code in supported_countries():
        if len(code) == 2 and country_names().get(code, "").casefold() == wanted:
            return code
    return ""


@cache
def country_names() -> dict[str, str]:
    """Return each ISO 3166 country's English name by its two-letter code (tzdata's list)."""
    text = (resources.files("tzdata") / "zoneinfo" / "iso3166.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    names = {row[0]: row[1].strip() for row in rows if len(row) >= 2}
    return {**names, **_COMMON_NAMES}


# tzdata's names that people would not look for.
_COMMON_NAMES = {"GB": "United Kingdom"}


Zone = Annotated[str, AfterValidator(_check_zone)]
Country = Annotated[str, StringConstraints(max_length=60), AfterValidator(_check_country)]


# Control characters (tabs and line breaks aside) and lone surrogates: no field needs them,
# and PostgreSQL refuses NUL (service.domain.contracts.CONTROL).


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        if isinstance(value, str) and _CONTROL.search(value):
            raise PydanticCustomError(
                "control_characters", "Remove the invisible control characters from this text."
            )
        return value


class PersonIn(_Strict):
    name: Name
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    timezone: Zone | None = None
    country: Country | None = None


class TeamMemberIn(PersonIn):
    role: Name


class ContactIn(_Strict):
    name: Name
    email: Annotated[EmailStr, StringConstraints(max_length=254)]
    roles: list[ContactRole] = Field(min_length=1, max_length=5)
    title: Annotated[str, StringConstraints(max_length=200), AfterValidator(_one_line)] = ""


class ClientIn(_Strict):
    name: Name
    timezone: Zone
    domain: Domain


class ProjectIn(_Strict):
    name: Name
    contract_signed_on: date
    proposal_url: Url
    sync_cadence: Cadence


class SuccessIn(_Strict):
    # Sales may not know yet: the brief then says "Not known yet", naming whom to ask.
    why_bought: Text = ""
    problem_and_goals: Text = ""
    success_definition: Text = ""
    roadblocks: Text = ""


NO_SPONSOR = (
    "Tick \u201cExecutive sponsor\u201d for at least one client contact: they are invited to "
    "the Executive Sponsor Sync."
)


class HandoverIn(_Strict):
    """The handover's shape. Its rules across fields (an executive sponsor, each person once,
    agency addresses) are checked by `validate_handover` on the raw input, so that they
    come in the same pass as the shape's errors."""

    client: ClientIn
    project: ProjectIn
    account_manager: PersonIn
    project_manager: PersonIn | None = None
    sales: list[PersonIn] = Field(min_length=1, max_length=20)
    delivery_team: list[TeamMemberIn] = Field(default_factory=list, max_length=50)
    client_contacts: list[ContactIn] = Field(min_length=1, max_length=50)
    success: SuccessIn
    influencers_notes: Text = ""

    def to_domain(self) -> Handover:
        """Return the domain handover for this validated input."""

        def person(p: PersonIn, role: str = "") -> Person:
            return Person(p.name, str(p.email).lower(), role, p.timezone, p.country)

        return Handover(
            client=Client(self.client.name, self.client.timezone, self.client.domain),
            project=Project(
                self.project.name,
                self.project.contract_signed_on,
                self.project.proposal_url,
                self.project.sync_cadence,
            ),
            account_manager=person(self.account_manager, "Account Manager"),
            project_manager=person(self.project_manager, "Project Manager")
            if self.project_manager
            else None,
            sales=tuple(person(p, "Sales") for p in self.sales),
            delivery_team=tuple(person(p, p.role) for p in self.delivery_team),
            client_contacts=tuple(
                ClientContact(c.name, str(c.email).lower(), tuple(dict.fromkeys(c.roles)), c.title)
                for c in self.client_contacts
            ),
            success=Success(**self.success.model_dump()),
            influencers_notes=self.influencers_notes,
        )


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; `field` is a dotted path such as `sales.0.email`, `code`
    a stable word a program can test (`required`, `not_agency_address`...)."""

    field: str
    message: str
    code: str = "invalid"


class InvalidHandover(ValueError):
    """The submitted handover breaks the schema; `errors` has one entry per field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def validate_handover(
    data: Mapping[str, Any], *, allowed_domain: str | None = None
) -> tuple[HandoverIn, Handover]:
    """Validate raw input; return the normalised input and the domain handover.

    Every fault is reported in one pass: the shape of each field and the handover's rules
    (an executive sponsor, each person once, agency addresses). With `allowed_domain`
    (ALLOWED_DOMAIN), every internal person (AM, PM, Sales, the delivery team) must have
    an address of that domain.
    """
    rules = _rules(data, allowed_domain.lower() if allowed_domain else None)
    try:
        parsed = HandoverIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidHandover(_in_form_order(_field_errors(exc) + rules)) from None
    if rules:
        raise InvalidHandover(_in_form_order(rules))
    return parsed, parsed.to_domain()


def validate_person(data: Mapping[str, Any]) -> PersonIn:
    """Validate one agency person (the PM Operations assigns); InvalidHandover if not valid."""
    try:
        return PersonIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidHandover(_field_errors(exc)) from None


def _rules(data: Any, domain: str | None) -> list[FieldError]:
    """Return the handover's rules broken by the raw input, whatever else is wrong with it."""
    if not isinstance(data, Mapping):
        return []
    errors: list[FieldError] = []
    contacts = data.get("client_contacts")
    if isinstance(contacts, list) and contacts and not any(
        isinstance(c, Mapping)
        and isinstance(c.get("roles"), list)
        and ContactRole.EXECUTIVE_SPONSOR.value in c["roles"]
        for c in contacts
    ):
        errors.append(FieldError("client_contacts", NO_SPONSOR, "no_executive_sponsor"))
    for name in ("sales", "delivery_team", "client_contacts"):
        seen: set[str] = set()
        for index, email in _emails(data.get(name)):
            if email.lower() in seen:
                local, _, host = email.rpartition("@")
                message = f"{local}@{host.lower()} is listed twice: list each person once."
                errors.append(FieldError(f"{name}.{index}.email", message, "duplicate"))
            seen.add(email.lower())
    if domain:
        errors += _outside_agency(data, domain)
    return errors


def _emails(people: Any) -> list[tuple[int, str]]:
    """Return (row, address) for each row of a list of people that has a plausible address."""
    if not isinstance(people, list):
        return []
    return [
        (index, person["email"].strip())
        for index, person in enumerate(people)
        if isinstance(person, Mapping)
        and isinstance(person.get("email"), str)
        and "@" in person["email"]
    ]


def _outside_agency(data: Mapping[str, Any], domain: str) -> list[FieldError]:
    """Return an error for each internal person whose address is not of the agency."""
    people: list[tuple[str, str]] = [
        (path, person["email"].strip())
        for path, person in (
            ("account_manager", data.get("account_manager")),
            ("project_manager", data.get("project_manager")),
        )
        if isinstance(person, Mapping) and isinstance(person.get("email"), str)
        and "@" in person["email"]
    ]
    for name in ("sales", "delivery_team"):
        people += [(f"{name}.{i}", email) for i, email in _emails(data.get(name))]
    return [
        FieldError(
            f"{path}.email",
            f"Use an address ending in @{domain}: only people of the agency can be on the "
            "agency's side of a handover.",
            "not_agency_address",
        )
        for path, email in people
        if email.lower().rpartition("@")[2] != domain
    ]


_FORM_ORDER = (
    "body", "client", "project", "account_manager", "project_manager", "sales",
    "delivery_team", "client_contacts", "success", "influencers_notes",
    "name", "email", "role", "title", "timezone", "country", "roles",
    "domain", "contract_signed_on", "proposal_url", "sync_cadence",
    "why_bought", "problem_and_goals", "success_definition", "roadblocks",
)  # fmt: skip


def _in_form_order(errors: list[FieldError]) -> list[FieldError]:
    """Return one error per field (the first), in the order the form shows the fields."""
    unique: dict[str, FieldError] = {}
    for error in errors:
        unique.setdefault(error.field, error)

    def key(error: FieldError) -> list[tuple[int, int]]:
        return [
            (0, int(part)) if part.isdecimal() and len(part) < 7
            else (1, _FORM_ORDER.index(part) if part in _FORM_ORDER else len(_FORM_ORDER))
            for part in error.field.split(".")
        ]

    return sorted(unique.values(), key=key)


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        code, message = plain(dict(err))
        field = ".".join(str(part) for part in loc) or "body"
        errors.append(FieldError(field, message, code))
    return errors
