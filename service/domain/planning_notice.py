"""Notice: the earliest a meeting may start after the form (the `MEETING_NOTICE` setting).

By default no meeting starts before the next business day of each of its internal
attendees (in their own zone, skipping their country's weekend and public holidays): a
handover sent on Friday afternoon in New York gets its first meeting on Monday, or on
Tuesday when Monday is a holiday, never three minutes later. `Notice(hours=48)` asks for
a fixed number of hours instead; `Notice(hours=0)` for none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from service.domain.business_days import localize, next_business_day, zone
from service.domain.planning_model import Participant

NEXT_BUSINESS_DAY = "next-business-day"
_HOURS = re.compile(r"^(\d{1,4})\s*h(ours?)?$")


@dataclass(frozen=True)
class Notice:
    """How long before a meeting its people are told: hours, or None for the next business day."""

    hours: int | None = None

    def earliest(self, sent_at: datetime, people: Iterable[Participant]) -> datetime:
        """Return the earliest start of a meeting with these people for a form sent at sent_at."""
        if self.hours is not None:
            return sent_at + timedelta(hours=self.hours)
        floor = sent_at
        for person in people:
            if not person.internal:
                continue
            tzinfo = zone(person.timezone)
            today = sent_at.astimezone(tzinfo).date()
            start = localize(
                datetime.combine(next_business_day(today, person.country), time()), tzinfo
            )
            floor = max(floor, start)
        return floor

    def sentence(self) -> str:
        """Return the rule in one sentence for the form's preview."""
        if self.hours is None:
            return (
                "No meeting starts before the next business day of its agency attendees, "
                "so everyone gets notice."
            )
        if self.hours == 0:
            return "Meetings may start as soon as everyone is free; no notice is added."
        unit = "hour" if self.hours == 1 else "hours"
        return f"No meeting starts sooner than {self.hours} {unit} after the handover is sent."


def parse_notice(text: str) -> Notice:
    """Return the notice a setting names: `next-business-day`, or hours such as `48h`."""
    value = text.strip().lower().replace("_", "-").replace(" ", "-")
    if value in {NEXT_BUSINESS_DAY, "next-business-day-of-attendees", "1bd"}:
        return Notice()
    match = _HOURS.match(text.strip().lower())
    if match:
        return Notice(hours=int(match.group(1)))
    raise ValueError(f"expected next-business-day or a number of hours such as 48h, got {text!r}")
