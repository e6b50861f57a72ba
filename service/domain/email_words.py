"""How emails speak to the person who reads them: their first name, the meetings at their
own wall time with the zone named, a review's deadline in the PM's zone. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from service.domain.business_days import zone
from service.domain.recurrence_words import repeat_words, zone_words

MEETING_NAMES = {
    "sales_handover": "Sales handover",
    "internal_kickoff": "Internal kickoff",
    "client_kickoff": "Client kickoff",
    "internal_account_sync": "Internal Account Sync",
    "executive_sponsor_sync": "Executive Sponsor Sync",
}


def meeting_name(kind: str) -> str:
    """Return a meeting kind as people name it ("client_kickoff" -> "Client kickoff")."""
    return MEETING_NAMES.get(kind, kind.replace("_", " ").capitalize())


def first_name(name: str) -> str:
    """Return the name a person is greeted by: the first word of their name ("" if none,
    or if all that is known of them is their address)."""
    words = name.split()
    return words[0] if words and "@" not in words[0] else ""


def greeting(names: Iterable[str]) -> str:
    """Return the greeting line: "Hi Priya,", "Hi Priya and Sam,", "Hello," without a name."""
    firsts = list(dict.fromkeys(n for n in map(first_name, names) if n))
    if not firsts:
        return "Hello,"
    if len(firsts) == 1:
        return f"Hi {firsts[0]},"
    return f"Hi {', '.join(firsts[:-1])} and {firsts[-1]},"


def when_words(start: datetime, timezone: str, end: datetime | None = None) -> str:
    """Return a meeting's time at the reader's wall time, the zone named:
    "Monday 7 December 2026, 10:00–11:00 (Berlin time)"."""
    local, named = start.astimezone(zone(timezone)), zone_words(timezone)
    day = f"{local:%A} {local.day} {local:%B %Y}"
    if end is None:
        return f"{day}, {local:%H:%M} ({named})"
    until = end.astimezone(zone(timezone))
    if until.date() == local.date():
        return f"{day}, {local:%H:%M}–{until:%H:%M} ({named})"
    return f"{day}, {local:%H:%M} – {until:%A} {until.day} {until:%B %Y}, {until:%H:%M} ({named})"


def deadline_words(deadline: datetime, timezone: str) -> str:
    """Return a deadline as the PM reads it: "Tuesday 1 December, 16:00 (Berlin time)"."""
    local = deadline.astimezone(zone(timezone))
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M} ({zone_words(timezone)})"


def meeting_lines(
    meetings: Sequence[Mapping[str, Any]], email: str, timezone: str
) -> list[str]:
    """Return the planned meetings this person attends, each at their own wall time:
    "Client kickoff: Monday 7 December 2026, 16:00–17:00 (Berlin time)", first one first;
    a series says how it repeats. A meeting is a stored plan's entry (kind, start, end,
    attendees, recurrence)."""
    mine = [
        m
        for m in meetings
        if any(str(a.get("email", "")).lower() == email.lower() for a in m.get("attendees", []))
    ]
    mine.sort(key=lambda m: datetime.fromisoformat(str(m["start"])))
    lines = []
    for m in mine:
        start, end = datetime.fromisoformat(str(m["start"])), datetime.fromisoformat(str(m["end"]))
        line = f"{meeting_name(str(m['kind']))}: {when_words(start, timezone, end)}"
        repeats = repeat_words(list(m.get("recurrence") or []), start, end, timezone)
        then = f"; from then on: {repeats[0].lower()}{repeats[1:]}" if repeats else ""
        lines.append(line + then)
    return lines
