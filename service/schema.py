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
    ValidationInfo,
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
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _bad_zone() -> PydanticCustomError:
    return PydanticCustomError(
        "invalid_timezone",
        "Enter a time zone such as America/New_York or Europe/Berlin (the IANA name).",
    )


def _check_zone(value: str) -> str:
    value = value.strip()
    if value not in _zones():
        raise _bad_zone()
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:  # pragma: no cover - listed zones load
        raise _bad_zone() from None
    return value


@cache
def _countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def _check_country(value: str) -> str:
    value = value.strip().upper()
    if value not in _countries():
        raise PydanticCustomError(
            "invalid_country",
            "Enter a country code with known public holidays, such as US, GB or DE.",
        )
    return value


Zone = Annotated[str, AfterValidator(_check_zone)]
Country = Annotated[str, StringConstraints(max_length=3), AfterValidator(_check_country)]


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


def _no_repeats(people: list[Any], field_name: str) -> None:
    seen: set[str] = set()
    for index, person in enumerate(people):
        email = str(person.email).lower()
        if email in seen:
            raise _AtPath(
                (field_name, index, "email"),
                f"{person.email} is listed twice: list each person once.",
                "duplicate",
            )
        seen.add(email)


class _AtPath(ValueError):
    """A model-level rule broken at one field path."""

    def __init__(self, path: tuple[str | int, ...], message: str, code: str) -> None:
        super().__init__(message)
        self.path, self.code = path, code


class HandoverIn(_Strict):
    client: ClientIn
    project: ProjectIn
    account_manager: PersonIn
    project_manager: PersonIn | None = None
    sales: list[PersonIn] = Field(min_length=1, max_length=20)
    delivery_team: list[TeamMemberIn] = Field(default_factory=list, max_length=50)
    client_contacts: list[ContactIn] = Field(min_length=1, max_length=50)
    success: SuccessIn
    influencers_notes: Text = ""

    @field_validator("sales", "delivery_team", "client_contacts")
    @classmethod
    def _once_per_role(cls, people: list[Any], info: ValidationInfo) -> list[Any]:
        _no_repeats(people, str(info.field_name))
        return people

    @field_validator("client_contacts")
    @classmethod
    def _has_sponsor(cls, contacts: list[ContactIn]) -> list[ContactIn]:
        if not any(ContactRole.EXECUTIVE_SPONSOR in c.roles for c in contacts):
            raise _AtPath(
                ("client_contacts",),
                "Name at least one client contact as the executive sponsor "
                "(the role executive_sponsor).",
                "no_executive_sponsor",
            )
        return contacts

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

    With `allowed_domain` (ALLOWED_DOMAIN), every internal person (AM, PM, Sales, the
    delivery team) must have an address of that domain.
    """
    try:
        parsed = HandoverIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidHandover(_field_errors(exc)) from None
    if allowed_domain and (outside := _outside_agency(parsed, allowed_domain.lower())):
        raise InvalidHandover(outside)
    return parsed, parsed.to_domain()


def validate_person(data: Mapping[str, Any]) -> PersonIn:
    """Validate one agency person (the PM Operations assigns); InvalidHandover if not valid."""
    try:
        return PersonIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidHandover(_field_errors(exc)) from None


def _outside_agency(parsed: HandoverIn, domain: str) -> list[FieldError]:
    """Return an error for each internal person whose address is not of the agency."""
    people: list[tuple[str, PersonIn | None]] = [
        ("account_manager", parsed.account_manager),
        ("project_manager", parsed.project_manager),
        *((f"sales.{i}", p) for i, p in enumerate(parsed.sales)),
        *((f"delivery_team.{i}", p) for i, p in enumerate(parsed.delivery_team)),
    ]
    return [
        FieldError(
            f"{path}.email",
            f"Use an address ending in @{domain}: only people of the agency can be on the "
            "agency's side of a handover.",
            "not_agency_address",
        )
        for path, person in people
        if person is not None and str(person.email).lower().rpartition("@")[2] != domain
    ]


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _AtPath):
            loc, code, message = ctx_error.path, ctx_error.code, str(ctx_error)
        else:
            code, message = plain(dict(err))
        field = ".".join(str(part) for part in loc) or "body"
        errors.append(FieldError(field, message, code))
    return errors
