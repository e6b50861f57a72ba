"""The plan's rules and warnings as sentences people read: no meeting kinds, ISO times or codes.

The planner states each rule a meeting keeps ("Must come after the sales handover and the
internal kickoff.") and each warning ("Priya Rao (Kolkata time) is outside working hours
09:00-17:00: 19:30-20:30 their time, up to 210 minutes outside.") with these helpers, so
the plan table, the API and the brief show the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache

import holidays

from service.domain.business_days import zone
from service.domain.planning_model import MeetingKind, Participant
from service.domain.recurrence_words import zone_words

KIND_WORDS = {
    MeetingKind.SALES_HANDOVER: "the sales handover",
    MeetingKind.INTERNAL_KICKOFF: "the internal kickoff",
    MeetingKind.CLIENT_KICKOFF: "the client kickoff",
    MeetingKind.INTERNAL_ACCOUNT_SYNC: "the Internal Account Sync",
    MeetingKind.EXECUTIVE_SPONSOR_SYNC: "the Executive Sponsor Sync",
}
# A rule the planner could not keep (never expected: the planner keeps them), in words.
RULE_WORDS = {
    "missing": "that the plan holds all five meetings",
    "timezone": "that the meeting is written in its own time zone",
    "duration": "on how long the meeting lasts",
    "attendees": "on who is invited",
    "recurrence": "on how the meeting repeats",
    "exception": "on the meetings moved off holidays",
    "earliest": "that no meeting starts before the earliest allowed time",
    "order": "on the handbook's order of the meetings",
    "lead": "that each Internal Account Sync comes early enough before its Executive Sponsor Sync",
    "hours": "on working hours",
    "holiday": "on weekends and public holidays",
}


def kind_words(kind: str) -> str:
    """Return a meeting kind as people say it: "the internal kickoff"."""
    try:
        return KIND_WORDS[MeetingKind(kind)]
    except ValueError:
        return "a meeting"


def kind_label(kind: str) -> str:
    """Return a meeting kind as a label starting a line: "Internal kickoff"."""
    words = kind_words(kind).removeprefix("the ").removeprefix("a ")
    return words[:1].upper() + words[1:]


def join_words(words: Sequence[str], last: str = "and") -> str:
    """Return ["a", "b", "c"] -> "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


@cache
def country_words(code: str) -> str:
    """Return an ISO 3166 code as a country's name: "US" -> "the United States"."""
    try:
        table = holidays.country_holidays(code.split("-", 1)[0].upper())
    except NotImplementedError:
        return code.upper()
    for cls in type(table).__mro__:
        if cls.__module__.startswith("holidays.countries") and len(cls.__name__) > 3:
            name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cls.__name__)
            plural = name.split()[0] in {"United", "Netherlands", "Philippines", "Bahamas"}
            return f"the {name}" if plural or name.endswith("s") else name
    return code.upper()


def countries_words(codes: Iterable[str]) -> str:
    """Return country codes as "Germany or the United States"."""
    return join_words(sorted({country_words(c) for c in codes}), "or")


def person_words(person: Participant) -> str:
    """Return a person as a warning names them: "Priya Rao (Kolkata time)"."""
    return f"{person.name or person.email} ({zone_words(person.timezone)})"


def when_words(moment: datetime, timezone: str) -> str:
    """Return an instant in a zone, the zone named: "Mon 2 Mar 2026, 09:00 New York time"."""
    local = moment.astimezone(zone(timezone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {zone_words(timezone)}"


def day_words(day: date) -> str:
    """Return a day as people write it: "Fri 25 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def minutes_words(minutes: int) -> str:
    """Return "1 minute" or "105 minutes"."""
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def count_words(count: int, one: str, many: str) -> str:
    """Return "1 meeting" or "3 meetings"."""
    return f"{count} {one if count == 1 else many}"
