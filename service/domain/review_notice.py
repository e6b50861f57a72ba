"""How a contract review reads to people: when it is due, and who hears of its decision.

Pure rules, no I/O. "Due" is the review's deadline, the earliest time the draft may go to
the client, counted in business days of the PM's zone and country.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from service.domain.business_days import is_business_day, zone
from service.domain.contracts import APPROVED, OPEN, ROUTING

# The states a review is still waiting for the PM's decision in.
UNDECIDED = (ROUTING, OPEN)


def business_days_between(start: date, end: date, country: str) -> int:
    """Return how many business days lie after start, up to and including end."""
    days, day = 0, start
    while day < end:
        day = date.fromordinal(day.toordinal() + 1)
        days += is_business_day(day, country)
    return days


def due_badge(
    state: str, deadline: datetime | None, now: datetime, tz: str, country: str
) -> str | None:
    """Return the badge an undecided review carries: "Due today", "Overdue by 2 business
    days"; None when it is decided, has no deadline yet, or is due later than today."""
    if state not in UNDECIDED or deadline is None:
        return None
    local_deadline, local_now = deadline.astimezone(zone(tz)), now.astimezone(zone(tz))
    if deadline > now:
        return "Due today" if local_deadline.date() == local_now.date() else None
    late = business_days_between(local_deadline.date(), local_now.date(), country)
    if late == 0 and local_deadline.date() == local_now.date():
        return f"Overdue since {local_deadline:%H:%M} today"
    if late == 0:  # only weekend days or holidays since
        return f"Overdue since {local_deadline:%a %d %b}"
    return f"Overdue by {late} business day{'s' if late > 1 else ''}"


def counts_text(open_count: int, overdue: int) -> str:
    """Return the counts at the top of the reviews page: "3 to review, 1 overdue"."""
    if open_count == 0:
        return "Nothing to review"
    return f"{open_count} to review, {overdue} overdue"


@dataclass(frozen=True)
class Told:
    """Who hears of a decision: each `(role, name, email)` emailed, and what was not said
    to someone, in words."""

    people: tuple[tuple[str, str, str], ...]
    notes: tuple[str, ...]


def decision_told(
    *,
    am: tuple[str, str] | None,
    uploader: tuple[str, str] | None,
    internal: frozenset[str],
) -> Told:
    """Return whom the decision is emailed to: the AM, and the uploader when they are of
    the agency (a client never hears of an internal review). Each pair is (name, email)."""
    people: list[tuple[str, str, str]] = []
    notes: list[str] = []
    if am is not None:
        people.append(("the AM", am[0] or am[1], am[1].lower()))
    if uploader is None:
        notes.append("Who uploaded the draft is not known, so no uploader was told.")
    elif not _inside(uploader[1], internal):
        notes.append(
            "The uploader is outside the agency and was not told: the review is internal."
        )
    elif am is None or uploader[1].lower() != am[1].lower():
        people.append(("the uploader", uploader[0] or uploader[1], uploader[1].lower()))
    else:
        people[0] = ("the AM and uploader", people[0][1], people[0][2])
    return Told(tuple(people), tuple(notes))


def _inside(email: str, internal: frozenset[str]) -> bool:
    domain = email.rpartition("@")[2].lower()
    return bool(internal) and any(domain == d or domain.endswith("." + d) for d in internal)


def decision_words(decision: str) -> str:
    """Return the decision as a person reads it."""
    return "approved" if decision == APPROVED else "changes requested"


def confirmation(decision: str, told: Told) -> str:
    """Return the sentence the review page shows once the decision is recorded and told:
    "Recorded: approved. The AM Priya Shah and the uploader Sam Reed were told." """
    head = f"Recorded: {decision_words(decision)}."
    if told.people:
        names = [f"{role} {name}" for role, name, _email in told.people]
        said = " and ".join(names)
        head += f" {said[0].upper()}{said[1:]} {'was' if len(names) == 1 else 'were'} told."
    else:
        head += " Nobody else was told: the account has no AM on record."
    return " ".join([head, *told.notes])
