"""Lays out the plan as an SVG timeline: one lane per meeting, ordering arrows between them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.domain.recurrence_words import zone_words

LANES = (
    ("sales_handover", "Sales handover"),
    ("internal_kickoff", "Internal kickoff"),
    ("client_kickoff", "Client kickoff"),
    ("internal_account_sync", "Internal Account Sync"),
    ("executive_sponsor_sync", "Executive Sponsor Sync"),
)
# "must come before" edges the plan satisfies (the handbook's order).
ORDER = (
    ("sales_handover", "internal_kickoff"),
    ("internal_kickoff", "client_kickoff"),
    ("client_kickoff", "executive_sponsor_sync"),
    ("internal_account_sync", "executive_sponsor_sync"),
)
WIDTH, LEFT, LANE_H, TOP = 900, 190, 46, 34


def layout(meetings: list[dict[str, Any]], viewer_zone: str) -> dict[str, Any]:
    """Return boxes, arrows and day ticks for the template to draw."""
    by_kind = {m["kind"]: m for m in meetings}
    starts = [datetime.fromisoformat(m["start"]) for m in meetings]
    ends = [datetime.fromisoformat(m["end"]) for m in meetings]
    if not starts:
        return {"boxes": [], "arrows": [], "ticks": [], "height": TOP, "width": WIDTH}
    lo, hi = min(starts), max(ends)
    span = max((hi - lo).total_seconds(), 3600.0)
    usable = WIDTH - LEFT - 30
    zone = ZoneInfo(viewer_zone)

    def x(moment: datetime) -> float:
        return LEFT + usable * (moment - lo).total_seconds() / span

    boxes: dict[str, dict[str, Any]] = {}
    for lane, (kind, label) in enumerate(LANES):
        meeting = by_kind.get(kind)
        if meeting is None:
            continue
        start, end = (
            datetime.fromisoformat(meeting["start"]),
            datetime.fromisoformat(meeting["end"]),
        )
        local = start.astimezone(ZoneInfo(meeting["timezone"]))
        boxes[kind] = {
            "kind": kind,
            "label": label,
            "x": round(x(start), 1),
            "w": round(max(x(end) - x(start), 8.0), 1),
            "y": TOP + lane * LANE_H,
            "when": f"{local:%a} {local.day} {local:%b %H:%M} {zone_words(meeting['timezone'])}",
            # a label past the middle ends at its box, so it never runs off the right edge
            "anchor": "end" if x(start) > LEFT + usable / 2 else "start",
            "repeats": bool(meeting.get("recurrence")),
        }
    arrows = [
        {
            "x1": boxes[a]["x"] + boxes[a]["w"],
            "y1": boxes[a]["y"] + 12,
            "x2": boxes[b]["x"],
            "y2": boxes[b]["y"] + 12,
        }
        for a, b in ORDER
        if a in boxes and b in boxes
    ]
    days: list[dict[str, Any]] = []
    day = lo.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= hi and len(days) < 60:
        if day >= lo:
            days.append({"x": round(x(day), 1), "label": f"{day.day} {day:%b}"})
        day = datetime.fromordinal(day.toordinal() + 1).replace(tzinfo=zone)
    step = max(1, len(days) // 12)
    return {
        "boxes": list(boxes.values()),
        "arrows": arrows,
        "ticks": days[::step],
        "height": TOP + len(LANES) * LANE_H,
        "width": WIDTH,
    }
