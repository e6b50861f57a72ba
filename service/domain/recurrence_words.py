"""A series' repeat rule in words people read: "Every 2 weeks on Tuesday, 10:00-10:30".

`repeat_words(recurrence, start, end, timezone)` is pure: it reads the RRULE line of a
series (RFC 5545) and its first occurrence, and says how often it repeats, on which day,
at what time and in which zone, the way a calendar app would. It covers what the planner
writes (weekly with an interval, monthly on an nth weekday, "that weekday within days
7-13") and the rest of the common rules (daily, yearly, the last weekday, COUNT, UNTIL)
so a series edited by hand in Google Calendar still reads well. A rule it cannot read is
described as "Repeats on a custom schedule" rather than shown raw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from service.domain.business_days import zone

DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
CUSTOM = "Repeats on a custom schedule"


def zone_words(timezone: str) -> str:
    """Return an IANA zone as people say it: "America/New_York" -> "New York time"."""
    if timezone.upper() in {"UTC", "ETC/UTC", "GMT", "ETC/GMT"}:
        return "UTC"
    place = timezone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{place} time"


def _ordinal_day(n: int) -> str:
    """Return 7 -> "7th", 1 -> "1st", 22 -> "22nd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _join(words: Sequence[str]) -> str:
    """Return ["a", "b", "c"] -> "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _parts(line: str) -> dict[str, str]:
    """Return the NAME=value parts of an RRULE line."""
    body = line.split(":", 1)[1] if ":" in line else line
    out = {}
    for part in body.split(";"):
        name, _, value = part.partition("=")
        out[name.strip().upper()] = value.strip().upper()
    return out


def _days(byday: str) -> str | None:
    """Return BYDAY in words ("Tuesday", "the fourth Wednesday"), or None if unreadable."""
    words = []
    for item in byday.split(","):
        match = _BYDAY.match(item.strip())
        if not match:
            return None
        count, day = match.groups()
        if count is None:
            words.append(DAY_NAMES[day])
        elif int(count) in ORDINALS:
            words.append(f"the {ORDINALS[int(count)]} {DAY_NAMES[day]}")
        else:
            return None
    return _join(words)


def _month_days(value: str) -> str | None:
    """Return BYMONTHDAY in words: a run of days reads "between the 7th and the 13th"."""
    try:
        days = [int(d) for d in value.split(",")]
    except ValueError:
        return None
    if any(d < 1 for d in days):
        return None
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"between the {_ordinal_day(days[0])} and the {_ordinal_day(days[-1])}"
    return "the " + _join([_ordinal_day(d) for d in days])


def _rule_words(line: str, start: datetime) -> str | None:
    """Return the "Every ... on ..." part of an RRULE line, or None if unreadable."""
    parts = _parts(line)
    unit = UNITS.get(parts.get("FREQ", ""))
    if unit is None:
        return None
    try:
        interval = int(parts.get("INTERVAL", "1") or "1")
    except ValueError:
        return None
    head = f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"
    if unit == "day" and interval == 1 and parts.get("BYDAY") == "MO,TU,WE,TH,FR":
        head, parts = "Every weekday", {k: v for k, v in parts.items() if k != "BYDAY"}
    byday, bymonthday = parts.get("BYDAY"), parts.get("BYMONTHDAY")
    on: str | None
    if byday and bymonthday:
        days, dates = _days(byday), _month_days(bymonthday)
        if days is None or dates is None or days.startswith("the "):
            return None
        on = f"the {days} {dates}"
    elif byday:
        on = _days(byday)
    elif bymonthday:
        on = _month_days(bymonthday)
    elif unit == "week":
        on = f"{start:%A}"
    elif unit == "month":
        on = f"the {_ordinal_day(start.day)}"
    elif unit == "year":
        on = f"{start.day} {start:%B}"
    else:
        on = ""
    if on is None:
        return None
    text = f"{head} on {on}" if on else head
    if "COUNT" in parts and parts["COUNT"].isdigit():
        text += f", {parts['COUNT']} times"
    elif "UNTIL" in parts:
        until = re.match(r"^(\d{4})(\d{2})(\d{2})", parts["UNTIL"])
        if until:
            year, month, day = (int(g) for g in until.groups())
            text += f", until {day} {datetime(year, month, day):%B %Y}"
    return text


def repeat_words(recurrence: Sequence[str], start: datetime, end: datetime, timezone: str) -> str:
    """Return how a series repeats, in words, with its time and zone; "" if it does not.

    "Every 2 weeks on Tuesday, 10:00-10:30 (New York time)". The time is the first
    occurrence's wall time in the series' own zone, which the rule keeps across DST.
    """
    rules = [line for line in recurrence if line.strip().upper().startswith("RRULE:")]
    if not rules:
        return ""
    tzinfo = zone(timezone)
    local_start, local_end = start.astimezone(tzinfo), end.astimezone(tzinfo)
    words = _rule_words(rules[0], local_start) or CUSTOM
    hours = f"{local_start:%H:%M}-{local_end:%H:%M}"
    return f"{words}, {hours} ({zone_words(timezone)})"
