"""The handover as the business sees it: plain dataclasses, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date


class Cadence(enum.StrEnum):
    """How often the account syncs meet (the handbook: fortnightly/monthly/quarterly)."""

    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class ContactRole(enum.StrEnum):
    """A client contact's part in the account (Guidelines of Success 4 and 5)."""

    BUYER = "buyer"
    EXECUTIVE_SPONSOR = "executive_sponsor"
    CHAMPION = "champion"
    INFLUENCER = "influencer"
    DETRACTOR = "detractor"


@dataclass(frozen=True)
class Person:
    """An agency person (AM, PM, Sales, delivery team member)."""

    name: str
    email: str
    role: str = ""
    timezone: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class ClientContact:
    """A person on the client's side with their roles in the account."""

    name: str
    email: str
    roles: tuple[ContactRole, ...]
    title: str = ""


@dataclass(frozen=True)
class Client:
    name: str
    timezone: str
    domain: str


@dataclass(frozen=True)
class Project:
    name: str
    contract_signed_on: date
    proposal_url: str
    sync_cadence: Cadence


@dataclass(frozen=True)
class Success:
    """The handbook's Guidelines of Success, in Sales' words."""

    why_bought: str = ""
    problem_and_goals: str = ""
    success_definition: str = ""
    roadblocks: str = ""


@dataclass(frozen=True)
class Handover:
    """Everything Sales hands over when a managed project is signed."""

    client: Client
    project: Project
    account_manager: Person
    project_manager: Person | None
    sales: tuple[Person, ...]
    delivery_team: tuple[Person, ...]
    client_contacts: tuple[ClientContact, ...]
    success: Success = field(default_factory=Success)
    influencers_notes: str = ""

    def contacts_with(self, role: ContactRole) -> tuple[ClientContact, ...]:
        """Return the client contacts who hold this role."""
        return tuple(c for c in self.client_contacts if role in c.roles)

    def with_project_manager(self, pm: Person | None) -> Handover:
        """Return this handover with the PM assigned (or cleared)."""
        return replace(self, project_manager=pm)

    def internal_people(self) -> tuple[Person, ...]:
        """Return every agency person once, AM and PM first."""
        seen: dict[str, Person] = {}
        lead = [self.account_manager] + ([self.project_manager] if self.project_manager else [])
        for person in [*lead, *self.sales, *self.delivery_team]:
            seen.setdefault(person.email.lower(), person)
        return tuple(seen.values())


def account_key(client: Client) -> str:
    """Return the key of the account a client is: its email domain, lower-cased.

    The syncs and the client folder belong to the account, so a second handover for
    the same client must land on the same key.
    """
    return client.domain.strip().lower()


def project_title(client: str, project: str) -> str:
    """Return how a project is named after its client, saying nothing twice: "Acme Corp,
    Website relaunch", but "Acme Corp Commerce Platform" when the project's name already
    names the client."""
    if client.casefold() in project.casefold():
        return project
    return f"{client}, {project}"
