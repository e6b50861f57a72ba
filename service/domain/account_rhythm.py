"""The account rhythm's rules: who may do what on an account, what an item must carry,
how an opportunity moves on, and what goes on a sync's agenda. Pure: no I/O.

An account's AM and PMs are the people named so on its handovers (with that role);
Operations and admins act on every account; Sales may only log opportunities.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.domain.access import (
    ACCOUNT_MANAGER,
    ADDRESS,
    ADMIN,
    OPERATIONS,
    PROJECT_MANAGER,
    SALES,
    named_on,
)
from service.domain.business_days import add_business_days, zone
from service.domain.contracts import CONTROL

AM, PM = "am", "pm"
KINDS = ("opportunity", "escalation", "task", "note")
SEVERITIES = ("low", "medium", "high", "critical")
# Where the AM moves an opportunity on; "awaiting_pm" and "new" are where it starts.
OPPORTUNITY_STEPS = ("discussed_with_pm", "with_client", "handed_to_sales", "won", "lost")
OPPORTUNITY_CLOSED = frozenset({"won", "lost"})
# Past this point an opportunity the AM raised has gone to the client: the PM first.
NEEDS_PM = frozenset({"with_client", "handed_to_sales", "won"})
STATE_WORDS = {
    "new": "new",
    "awaiting_pm": "waiting for the PM",
    "discussed_with_pm": "discussed with the PM",
    "with_client": "discussed with the client",
    "handed_to_sales": "handed to Sales",
    "won": "won",
    "lost": "lost",
    "open": "open",
    "acknowledged": "acknowledged by the AM",
    "resolved": "resolved",
    "done": "done",
    "recorded": "recorded",
}
# The handbook's Internal Account Sync questions: the default agenda template.
DEFAULT_QUESTIONS = (
    "Is the project going well?",
    "Have there been any glitches?",
    "Has the client asked for additional team members?",
    "Has the client increased or decreased hours or scope?",
)
# The PM's guidelines of success, answered at each internal sync (account health).
HEALTH_QUESTIONS = {
    "on_track": "Is the project on track for budget and scope?",
    "resourcing_met": "Did we meet the resourcing demands of the project?",
    "client_happy": "Is the client happy with our current delivery?",
    "would_recommend": "Would the client recommend our services to a colleague?",
}
HEALTH_ANSWERS = {"yes": 2, "partly": 1, "no": 0}
MAX_TEXT = 4000
# The dates an item or an answer may carry: year-month-day in ASCII digits, in this window.
DAY_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)

# What each standing on the account may do (admins may do everything).
ACTIONS: Mapping[str, frozenset[str]] = {
    "see": frozenset({AM, PM, OPERATIONS}),
    "log_opportunity": frozenset({AM, PM, OPERATIONS, SALES}),
    "move_opportunity": frozenset({AM, OPERATIONS}),
    "acknowledge_opportunity": frozenset({PM}),
    "raise_escalation": frozenset({PM, OPERATIONS}),
    "acknowledge_escalation": frozenset({AM}),
    "resolve_escalation": frozenset({AM, PM, OPERATIONS}),
    "add_task": frozenset({AM, PM, OPERATIONS}),
    "finish_task": frozenset({AM, PM, OPERATIONS}),
    "add_note": frozenset({AM, PM, OPERATIONS}),
    "edit_template": frozenset({AM, PM}),
    "mark_executive": frozenset({AM}),
    "answer_health": frozenset({AM, PM}),
}


@dataclass(frozen=True)
class AccountPeople:
    """The account's AMs and PMs (lower-cased emails), from its handovers, with names."""

    ams: frozenset[str]
    pms: frozenset[str]
    names: Mapping[str, str]

    def name(self, email: str) -> str:
        """Return the person's name as the handovers give it, else the address."""
        return self.names.get(email.lower(), email)


def account_people(payloads: Iterable[Mapping[str, Any]]) -> AccountPeople:
    """Return the AMs and PMs the handovers of an account name."""
    ams: set[str] = set()
    pms: set[str] = set()
    names: dict[str, str] = {}
    for payload in payloads:
        named = named_on(payload)
        ams |= named[ACCOUNT_MANAGER]
        pms |= named[PROJECT_MANAGER]
        for field in ("account_manager", "project_manager"):
            person = payload.get(field)
            if isinstance(person, Mapping) and person.get("email"):
                names[str(person["email"]).lower()] = str(person.get("name") or person["email"])
    return AccountPeople(frozenset(ams), frozenset(pms), names)


def standing(email: str, role: str, people: AccountPeople) -> str | None:
    """Return what the person is on this account: admin, operations, am, pm, sales or None."""
    me = email.strip().lower()
    if role in {ADMIN, OPERATIONS, SALES}:
        return role
    if role == ACCOUNT_MANAGER and me in people.ams:
        return AM
    if role == PROJECT_MANAGER and me in people.pms:
        return PM
    return None


def may(action: str, who: str | None) -> bool:
    """Return whether someone of this standing may do the action on the account."""
    return who == ADMIN or (who is not None and who in ACTIONS[action])


def agency_domain(allowed_domain: str | None, people: AccountPeople) -> str | None:
    """Return the agency's domain: ALLOWED_DOMAIN when set, else the account's AM's."""
    if allowed_domain:
        return allowed_domain.lower()
    for email in sorted(people.ams):
        return email.rpartition("@")[2]
    return None


# --- what an item must carry ------------------------------------------------------------


def _text(value: Any, field: str, errors: dict[str, str], *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "is required"
        return ""
    text = value.strip()
    if len(text) > limit:
        errors[field] = f"must be at most {limit} characters"
    elif CONTROL.search(text):
        errors[field] = "must not contain control characters"
    return text


def remark(value: Any) -> str:
    """Return the note someone adds when moving an item on ("" for none), or raise
    InvalidItem: a note is kept whole, never cut."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidItem({"note": "must be text"})
    errors: dict[str, str] = {}
    text = _text(value, "note", errors) if value.strip() else ""
    if errors:
        raise InvalidItem(errors)
    return text


def _day(value: Any, field: str, errors: dict[str, str]) -> date | None:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "is required (a date like 2027-01-31)"
        return None
    try:
        if not DAY_SHAPE.fullmatch(value.strip()):
            raise ValueError(value)
        day = date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = "must be a date like 2027-01-31"
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors[field] = f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"
        return None
    return day


def _flag(value: Any, field: str, errors: dict[str, str]) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    errors[field] = "must be true or false"
    return False


@dataclass(frozen=True)
class NewItem:
    """A validated item, ready to store."""

    kind: str
    summary: str
    urgent: bool = False
    severity: str | None = None
    owner_email: str | None = None
    due_on: date | None = None
    held_on: date | None = None
    attendees: tuple[str, ...] = ()


class InvalidItem(ValueError):
    """What the person sent cannot be stored; `errors` says why, by field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k} {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def _body(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidItem({"body": "must be a JSON object"})
    return body


def opportunity(body: Any) -> NewItem:
    """Return the opportunity in the body, or raise InvalidItem."""
    body, errors = _body(body), dict[str, str]()
    summary = _text(body.get("summary"), "summary", errors)
    urgent = _flag(body.get("urgent"), "urgent", errors)
    if errors:
        raise InvalidItem(errors)
    return NewItem("opportunity", summary, urgent=urgent)


def escalation(body: Any) -> NewItem:
    """Return the escalation in the body, or raise InvalidItem."""
    body, errors = _body(body), dict[str, str]()
    summary = _text(body.get("summary"), "summary", errors)
    severity = body.get("severity")
    if severity not in SEVERITIES:
        errors["severity"] = f"must be one of {', '.join(SEVERITIES)}"
    if errors:
        raise InvalidItem(errors)
    return NewItem("escalation", summary, severity=str(severity))


def task(body: Any, *, agency: str | None) -> NewItem:
    """Return the task in the body, or raise InvalidItem (the owner must be of the agency)."""
    body, errors = _body(body), dict[str, str]()
    title = _text(body.get("title"), "title", errors, limit=300)
    owner = body.get("owner_email")
    address = owner.strip().lower() if isinstance(owner, str) else ""
    if len(address) > 254 or not ADDRESS.fullmatch(address):
        errors["owner_email"] = "must be an email address"
    elif agency is None or address.rpartition("@")[2] != agency:
        errors["owner_email"] = (
            f"must be an address of the agency ({agency})" if agency else "must be of the agency"
        )
    due = _day(body.get("due_on"), "due_on", errors)
    if errors:
        raise InvalidItem(errors)
    return NewItem("task", title, owner_email=address, due_on=due)


def note(body: Any, *, today: date) -> NewItem:
    """Return the ad-hoc meeting's notes in the body, or raise InvalidItem."""
    body, errors = _body(body), dict[str, str]()
    held = _day(body.get("held_on"), "held_on", errors)
    if held is not None and held > today:
        errors["held_on"] = "must not be in the future: record a meeting once it was held"
    raw = body.get("attendees")
    if isinstance(raw, str):
        raw = [p for p in (x.strip() for x in raw.replace("\n", ",").split(",")) if p]
    people: list[str] = []
    if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
        errors["attendees"] = "must name who was there (a list of names or addresses)"
    else:
        people = [p.strip() for p in raw if p.strip()]
        if not people or any(len(p) > 254 or CONTROL.search(p) for p in people):
            errors["attendees"] = "must name who was there (a list of names or addresses)"
    notes = _text(body.get("notes"), "notes", errors, limit=20000)
    if errors:
        raise InvalidItem(errors)
    return NewItem("note", notes, held_on=held, attendees=tuple(people))


def first_state(item: NewItem, raised_as: str) -> str:
    """Return the state a new item starts in."""
    if item.kind == "opportunity":
        # The handbook: an opportunity the AM hears of is discussed with the PM first.
        return "awaiting_pm" if raised_as == AM else "new"
    return {"escalation": "open", "task": "open", "note": "recorded"}[item.kind]


def move_error(state: str, to: str, *, acknowledged: bool, raised_as: str) -> str | None:
    """Return why an opportunity may not move from state to `to`; None when it may."""
    if to not in OPPORTUNITY_STEPS:
        return f"must be one of {', '.join(OPPORTUNITY_STEPS)}"
    if state in OPPORTUNITY_CLOSED:
        return f"the opportunity is {STATE_WORDS[state]} already"
    if raised_as == AM and to in NEEDS_PM and not acknowledged:
        return "the PM must acknowledge an opportunity the AM raised before it goes to the client"
    return None


def health_answers(body: Any) -> tuple[date, dict[str, str]]:
    """Return the sync's date and the answers in the body, or raise InvalidItem."""
    body, errors = _body(body), dict[str, str]()
    day = _day(body.get("sync_on"), "sync_on", errors)
    answers: dict[str, str] = {}
    for key in HEALTH_QUESTIONS:
        value = body.get(key)
        if value not in HEALTH_ANSWERS:
            errors[key] = "must be yes, partly or no"
        else:
            answers[key] = str(value)
    if errors or day is None:
        raise InvalidItem(errors)
    return day, answers


def questions(body: Any) -> list[str]:
    """Return the agenda template's questions in the body, or raise InvalidItem."""
    body, errors = _body(body), dict[str, str]()
    raw = body.get("questions")
    if isinstance(raw, str):
        raw = [line for line in raw.splitlines()]
    if not isinstance(raw, list) or not all(isinstance(q, str) for q in raw):
        raise InvalidItem({"questions": "must be a list of questions, one a line"})
    kept = [q.strip() for q in raw if q.strip()]
    if not kept or len(kept) > 30:
        errors["questions"] = "must hold between 1 and 30 questions"
    elif any(len(q) > 300 or CONTROL.search(q) for q in kept):
        errors["questions"] = "each question must be at most 300 plain characters"
    if errors:
        raise InvalidItem(errors)
    return kept


def is_open(kind: str, state: str) -> bool:
    """Return whether an item still needs someone (it goes on every agenda until closed)."""
    if kind == "opportunity":
        return state not in OPPORTUNITY_CLOSED
    return state in {"open", "acknowledged", "awaiting_pm"}


def health_points(answers: Sequence[Mapping[str, Any]]) -> list[tuple[date, float]]:
    """Return (sync date, score 0..1) per answered sync, oldest first."""
    points = []
    for entry in answers:
        values = [HEALTH_ANSWERS[entry["answers"][k]] for k in HEALTH_QUESTIONS]
        points.append((entry["sync_on"], sum(values) / (2 * len(values))))
    return sorted(points)


def moment_in_words(at: datetime, timezone: str) -> str:
    """Return the instant as people read it, at the zone's wall time:
    "Monday 7 December 2026, 10:00 (Europe/Berlin)"."""
    local = at.astimezone(zone(timezone))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} ({timezone})"


def day_in_words(day: date | None) -> str:
    """Return the date as people read it: "Friday 15 January 2027" ("" for none)."""
    return f"{day:%A} {day.day} {day:%B %Y}" if day else ""


def notice_marks(kind: str, *, urgent: bool, state: str) -> frozenset[str]:
    """Return the marks of the notices an item in this state may owe (those it sent are
    in its `reminders`): urgent, check_with_pm, raised or shared."""
    marks = set()
    if kind == "opportunity" and urgent:
        marks.add("urgent")
    if kind == "opportunity" and state == "awaiting_pm":
        marks.add("check_with_pm")
    if kind == "escalation":
        marks.add("raised")
    if kind == "note":
        marks.add("shared")
    return frozenset(marks)


def reminder_mark(due: date, today: date, lead_days: int, country: str) -> str | None:
    """Return the mark of the task reminder due today (`overdue:<due>` or `due_soon:<due>`),
    None until `lead_days` business days (in `country`) before the due date: a task due
    on Monday is reminded on the Friday before, not on the Sunday."""
    if today > due:
        return f"overdue:{due.isoformat()}"
    if today >= add_business_days(due, -lead_days, country):
        return f"due_soon:{due.isoformat()}"
    return None
