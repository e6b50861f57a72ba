"""Jinja filters for time as people read it: repeats in words, times in the viewer's zone.

`repeats` turns a planned meeting (the plan's JSON) into "Every 2 weeks on Tuesday,
10:00-10:30 (New York time)". `local_time` writes a `<time datetime="...">` element whose
text is the meeting's own wall time and zone; the base page's script rewrites it into the
viewer's zone (the browser's) and keeps the meeting's own time beside it when they differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from markupsafe import Markup

from service.domain.business_days import zone
from service.domain.recurrence_words import repeat_words, zone_words


def repeats(meeting: Mapping[str, Any]) -> str:
    """Return how a planned meeting repeats, in words ("" for a one-off meeting)."""
    recurrence = tuple(meeting.get("recurrence") or ())
    if not recurrence:
        return ""
    return repeat_words(
        recurrence,
        datetime.fromisoformat(meeting["start"]),
        datetime.fromisoformat(meeting["end"]),
        meeting["timezone"],
    )


def local_time(value: str, timezone: str, end: str | None = None) -> Markup:
    """Return a <time> element: the meeting's wall time in its zone, for the script to localise."""
    start = _aware(value).astimezone(zone(timezone))
    text = f"{start:%a %d %b %Y, %H:%M}"
    end_attr = Markup("")
    if end:
        finish = _aware(end).astimezone(zone(timezone))
        text += f"-{finish:%H:%M}"
        end_attr = Markup(' data-end="{}"').format(finish.isoformat())
    return Markup('<time datetime="{}" data-zone="{}"{}>{} {}</time>').format(
        start.isoformat(), timezone, end_attr, text, zone_words(timezone)
    )


def _aware(value: str) -> datetime:
    """Return the instant; one stored without an offset (the database's) is UTC."""
    at = datetime.fromisoformat(value)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def day_words(value: str, timezone: str) -> str:
    """Return an instant's day in a zone as people write it: "Fri 25 Dec 2026"."""
    return f"{datetime.fromisoformat(value).astimezone(zone(timezone)):%a %d %b %Y}"


def register(app: Flask) -> None:
    """Add the filters to the app's templates."""
    app.jinja_env.filters["repeats"] = repeats
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["day_words"] = day_words
