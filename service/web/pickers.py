"""The form's pickers: every time zone with a name people know, every country by name.

A zone is offered as "Kolkata (India, UTC+5:30)" and submits its IANA name
(`Asia/Kolkata`); a country is offered by name and submits its two-letter code (`IN`).
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from service.schema import country_names, supported_countries, zones


@cache
def _zone_countries() -> dict[str, str]:
    """Return the country code of each zone that belongs to one (tzdata's zone.tab)."""
    text = (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}


def _offset(zone: str, on: date) -> str:
    delta = datetime.combine(on, time(12), ZoneInfo(zone)).utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"


def zone_label(zone: str, on: date) -> str:
    """Return "Kolkata (India, UTC+5:30)" for `Asia/Kolkata` on that day."""
    if zone.startswith("Etc/"):
        return f"{zone.removeprefix('Etc/')} (a fixed offset, {_offset(zone, on)})"
    if "/" not in zone:
        return f"{zone} ({_offset(zone, on)})"
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    country = country_names().get(_zone_countries().get(zone, ""), "")
    return f"{city} ({country + ', ' if country else ''}{_offset(zone, on)})"


@cache
def zone_options(on: date) -> tuple[tuple[str, str], ...]:
    """Return (zone, label) for every zone, by label; the labels' offsets are of that day."""
    return tuple(sorted(((z, zone_label(z, on)) for z in zones()), key=lambda o: o[1]))


@cache
def country_options() -> tuple[tuple[str, str], ...]:
    """Return (code, name) for every country with known public holidays, by name."""
    names = country_names()
    return tuple(
        sorted(((c, names[c]) for c in supported_countries() if c in names), key=lambda o: o[1])
    )
