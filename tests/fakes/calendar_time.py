"""Calendar time handling: event times, recurrence expansion and busy-interval merging."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule

from tests.fakes.core import bad_request


def when(value: Any, label: str, recurring: bool) -> tuple[datetime, bool]:
    if not isinstance(value, dict) or not (value.get("date") or value.get("dateTime")):
        raise bad_request(f"Missing {label} time.", "required")
    zone_name = value.get("timeZone")
    zone = None
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise bad_request(
                f"Invalid time zone definition for {label} time.", "invalid"
            ) from None
    if value.get("date"):
        day = date.fromisoformat(value["date"])
        return datetime(day.year, day.month, day.day, tzinfo=zone or UTC), True
    moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    if recurring and zone is None:
        raise bad_request(f"Missing time zone definition for {label} time.", "required")
    if zone is not None:
        # Google expands a series in its timeZone: 10:00 Berlin stays 10:00 across DST.
        moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    elif moment.tzinfo is None:
        raise bad_request(f"Missing time zone definition for {label} time.", "required")
    return moment, False


def occurrences(
    event: dict[str, Any], low: datetime | None, high: datetime | None
) -> Iterator[tuple[datetime, datetime]]:
    start, _ = when(event["start"], "start", False)
    end, _ = when(event["end"], "end", False)
    duration = end - start
    if not event.get("recurrence"):
        if (low is None or end > low) and (high is None or start < high):
            yield start, end
        return
    rules = rrule.rrulestr("\n".join(event["recurrence"]), dtstart=start, forceset=True)
    assert isinstance(rules, rrule.rruleset)
    begin = (low or start) - duration
    finish = high or (begin + timedelta(days=730))
    for count, moment in enumerate(rules.xafter(begin, inc=True)):
        if moment >= finish or count > 2000:
            return
        if moment + duration > (low or start):
            yield moment, moment + duration


def aware(value: datetime | str) -> datetime:
    moment = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def bound(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise bad_request("Bad Request", "badRequest", name)
    return moment


def merged(
    intervals: list[tuple[datetime, datetime]], low: datetime, high: datetime
) -> list[tuple[datetime, datetime]]:
    clipped = sorted((max(s, low), min(e, high)) for s, e in intervals if e > low and s < high)
    result: list[tuple[datetime, datetime]] = []
    for start, end in clipped:
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def format_time(moment: datetime, zone: Any) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%SZ") if zone is UTC else local.isoformat()


def instance(series: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    instance = copy.deepcopy(series)
    instance.pop("recurrence", None)
    stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    instance["id"] = f"{series['id']}_{stamp}"
    instance["recurringEventId"] = series["id"]
    zone = series["start"].get("timeZone")
    instance["originalStartTime"] = {
        "dateTime": start.isoformat(),
        **({"timeZone": zone} if zone else {}),
    }
    instance["start"] = {"dateTime": start.isoformat(), **({"timeZone": zone} if zone else {})}
    instance["end"] = {"dateTime": end.isoformat(), **({"timeZone": zone} if zone else {})}
    return instance


def start_of(event: dict[str, Any]) -> datetime:
    value = event.get("start") or {}
    if value.get("dateTime"):
        return aware(value["dateTime"])
    return datetime.fromisoformat(value.get("date", "1970-01-01")).replace(tzinfo=UTC)
