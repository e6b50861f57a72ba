"""What the Project Brief says beyond the Guidelines of Success, in words people read.

`agency_people(h)` and `client_people(h)`: everyone once (by email), with all their roles
in words ("Executive sponsor, Buyer"). `next_steps(h, plan)`: the handbook's meetings in
its order, each with its date in the client's zone (zone named) when the plan is known as
the brief is written; otherwise `steps_note` says what happens next. The plan is the stored plan's
JSON (`meetings.plan_json`); the brief shows it as planned: the client kickoff and the
Executive Sponsor Sync are only proposed until their organiser confirms them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.business_days import zone
from service.domain.model import Cadence, ContactRole, Handover, Person
from service.domain.plan_words import day_words
from service.domain.recurrence_words import repeat_words, zone_words

CONTACT_ROLES = (  # the order roles are named in: who decides first
    (ContactRole.EXECUTIVE_SPONSOR, "Executive sponsor"),
    (ContactRole.BUYER, "Buyer"),
    (ContactRole.CHAMPION, "Champion"),
    (ContactRole.INFLUENCER, "Influencer"),
    (ContactRole.DETRACTOR, "Detractor"),
)
CADENCE_WORDS = {
    Cadence.FORTNIGHTLY: "every two weeks",
    Cadence.MONTHLY: "every month",
    Cadence.QUARTERLY: "every three months",
}


@dataclass(frozen=True)
class BriefPerson:
    """One row of the brief's people table."""

    name: str
    email: str
    roles: str  # "Account Manager, Sales"
    detail: str  # agency: their time zone in words; client: their title


@dataclass(frozen=True)
class NextStep:
    """One of the handbook's meetings as the brief's next steps show it."""

    title: str
    when: str  # "Tue 8 Dec 2026, 10:00-11:00 New York time."; "" while not planned
    who: str
    what: str


def cadence_words(cadence: Cadence) -> str:
    """Return how often the account syncs run, in words: "every two weeks"."""
    return CADENCE_WORDS[cadence]


Rows = dict[str, tuple[str, str, list[str], str]]  # email -> name, email, roles, detail


def _merge(rows: Rows, email: str, name: str, role: str, detail: str) -> None:
    key = email.strip().lower()
    if key not in rows:
        rows[key] = (name, email, [], detail)
    if role and role not in rows[key][2]:
        rows[key][2].append(role)


def _agency_detail(person: Person, agency_timezone: str | None) -> str:
    timezone = person.timezone or agency_timezone
    return zone_words(timezone) if timezone else "The agency's time"


def agency_people(h: Handover, *, agency_timezone: str | None) -> tuple[BriefPerson, ...]:
    """Return the agency's people once each, AM and PM first, with all their roles."""
    rows: Rows = {}
    pm = h.project_manager
    named = [(h.account_manager, "Account Manager")]
    named += [(pm, "Project Manager")] if pm else []
    named += [(p, "Sales") for p in h.sales]
    named += [(p, p.role.strip() or "Delivery team") for p in h.delivery_team]
    for person, role in named:
        _merge(rows, person.email, person.name, role, _agency_detail(person, agency_timezone))
    return tuple(BriefPerson(n, e, ", ".join(r), d) for n, e, r, d in rows.values())


def client_people(h: Handover) -> tuple[BriefPerson, ...]:
    """Return the client's contacts once each, with all their roles in words."""
    rows: Rows = {}
    for contact in h.client_contacts:
        _merge(rows, contact.email, contact.name, "", contact.title)
        for role, words in CONTACT_ROLES:
            if role in contact.roles:
                _merge(rows, contact.email, contact.name, words, contact.title)
    return tuple(
        BriefPerson(n, e, ", ".join(r) or "Client contact", d) for n, e, r, d in rows.values()
    )


# --- next steps ---------------------------------------------------------------------

_STEPS: tuple[tuple[str, str, str, str], ...] = (
    (
        "sales_handover",
        "Sales handover",
        "The Account Manager, the Project Manager, Sales and the team assigned so far",
        "Sales walks through the proposal and this brief. It is recorded for anyone who "
        "cannot come.",
    ),
    (
        "internal_kickoff",
        "Internal kickoff",
        "The Project Manager and the whole delivery team",
        "The Project Manager goes through the proposal and this brief and sets the team up "
        "for the client kickoff. It is recorded for anyone who cannot come.",
    ),
    (
        "client_kickoff",
        "Client kickoff",
        "The Project Manager, the Account Manager, the delivery team and the client",
        "After both internal meetings. From then on the Project Manager is the client's "
        "day-to-day contact.",
    ),
    (
        "internal_account_sync",
        "Internal Account Sync",
        "The Account Manager and the Project Manager",
        "What happened since the last sync; always before the Executive Sponsor Sync.",
    ),
    (
        "executive_sponsor_sync",
        "Executive Sponsor Sync",
        "The Account Manager, the Project Manager and the client's executive sponsor",
        "Project status, any change, and what the client needs next.",
    ),
)
_PROPOSED = {  # who confirms a meeting before the client is invited
    "client_kickoff": "the Project Manager",
    "executive_sponsor_sync": "the Account Manager",
}


def _span(meeting: Mapping[str, Any], timezone: str) -> str:
    tzinfo = zone(timezone)
    start = datetime.fromisoformat(meeting["start"]).astimezone(tzinfo)
    end = datetime.fromisoformat(meeting["end"]).astimezone(tzinfo)
    return f"{day_words(start.date())}, {start:%H:%M}-{end:%H:%M} {zone_words(timezone)}"


def _when(meeting: Mapping[str, Any], client_timezone: str) -> str:
    """Return a planned meeting's date in the client's zone (zone named), and how it repeats."""
    kind = str(meeting["kind"])
    recurrence: Sequence[str] = tuple(meeting.get("recurrence") or ())
    if not recurrence:
        when = _span(meeting, client_timezone)
    else:
        start = datetime.fromisoformat(meeting["start"])
        end = datetime.fromisoformat(meeting["end"])
        repeat = repeat_words(recurrence, start, end, meeting["timezone"])
        if meeting.get("kept"):
            return f"Continues the account's existing series: {repeat[:1].lower()}{repeat[1:]}."
        when = f"{_span(meeting, client_timezone)}, then {repeat[:1].lower()}{repeat[1:]}"
    if kind in _PROPOSED:
        confirms = _PROPOSED[kind]
        who = confirms[:1].upper() + confirms[1:]
        return f"Proposed for {when}. {who} confirms it before the client is invited."
    return when + "."


def next_steps(h: Handover, plan: Mapping[str, Any] | None) -> tuple[NextStep, ...]:
    """Return the handbook's meetings in its order, dated when the plan is known."""
    planned = {str(m["kind"]): m for m in (plan or {}).get("meetings", ())}
    steps = []
    for kind, title, who, what in _STEPS:
        meeting = planned.get(kind)
        when = _when(meeting, h.client.timezone) if meeting else ""
        if meeting is None and kind in {"internal_account_sync", "executive_sponsor_sync"}:
            what = f"{what} Runs {cadence_words(h.project.sync_cadence)}."
        steps.append(NextStep(title, when, who, what))
    return tuple(steps)


def steps_note(h: Handover, plan: Mapping[str, Any] | None) -> str:
    """Return what happens next in words while the meetings have no date yet ("" once planned)."""
    if plan and plan.get("meetings"):
        return ""
    if h.project_manager is None:
        return (
            "The meetings are planned as soon as Operations assigns the Project Manager; "
            "everyone gets an invitation with the date in their own time then."
        )
    return (
        "The meetings are being planned: everyone gets an invitation with the date in "
        "their own time, and the handover's page shows every date."
    )
