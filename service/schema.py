"""The one validation schema for the handover form, the JSON API and the CLI.

Pydantic checks shape, lengths, enums, emails, zones and countries; `validate_handover`
returns the domain `Handover` or a list of `FieldError`s, one per field path
(`delivery_team.1.email`), which the form shows beside each field and the API returns.
"""

from __future__ import annotations

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

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
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


def _check_zone(value: str) -> str:
    value = value.strip()
    if value not in _zones():
        raise ValueError(f"{value!r} is not an IANA time zone (for example Europe/Berlin)")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - listed zones load
        raise ValueError(f"{value!r} is not an IANA time zone") from exc
    return value


@cache
def _countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def _check_country(value: str) -> str:
    value = value.strip().upper()
    if value not in _countries():
        raise ValueError(f"{value!r} is not a country code with known holidays (for example DE)")
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
            raise ValueError("must not contain control characters")
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
    title: Annotated[str, StringConstraints(max_length=200)] = ""


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
            raise _AtPath((field_name, index, "email"), f"{person.email} is listed twice")
        seen.add(email)


class _AtPath(ValueError):
    """A model-level rule broken at one field path."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


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
            raise _AtPath(("client_contacts",), "name at least one executive_sponsor")
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
    """One problem with one field; `field` is a dotted path such as `sales.0.email`."""

    field: str
    message: str


class InvalidHandover(ValueError):
    """The submitted handover breaks the schema; `errors` has one entry per field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def validate_handover(data: Mapping[str, Any]) -> tuple[HandoverIn, Handover]:
    """Validate raw input; return the normalised input and the domain handover."""
    try:
        parsed = HandoverIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidHandover(_field_errors(exc)) from None
    return parsed, parsed.to_domain()


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = err["msg"]
        ctx_error = err.get("ctx", {}).get("error")
        if isinstance(ctx_error, _AtPath):
            loc, message = ctx_error.path, str(ctx_error)
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "is not a field of a handover"
        elif err["type"] == "missing":
            message = "is required"
        elif err["type"] == "string_pattern_mismatch":
            message = _pattern_message(loc)
        field = ".".join(str(part) for part in loc) or "body"
        errors.append(FieldError(field, message))
    return errors


def _pattern_message(loc: tuple[Any, ...]) -> str:
    last = str(loc[-1]) if loc else ""
    if last == "domain":
        return "must be an email domain such as acme.example"
    if last == "proposal_url":
        return "must be a link starting with http:// or https://"
    return "has characters that are not allowed"
