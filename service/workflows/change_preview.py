"""What saving a change to a handover will do, in words, before it is saved.

Nothing is stored or sent: the change is described (`describe_changes`, the words the AM
and PM get by email), the meetings are planned again as a save plans them (times already
sent are kept; the account's syncs are planned anew only for another cadence) and compared
with the stored plan, and the emails `tell_changes` would send are listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.config import Settings
from service.domain.changes import describe_changes, parts
from service.domain.model import Handover
from service.domain.planning_model import SYNC_KINDS, PlannedMeeting
from service.workflows import meetings

CADENCE_WORDS = {
    "fortnightly": "every two weeks",
    "monthly": "every month",
    "quarterly": "every three months",
}


BRIEF = "The Project Brief is written again with the change."
NOT_PLANNED = "The meetings are not planned yet: they will be planned with these details."


@dataclass(frozen=True)
class ChangePreview:
    """The change in words: what changes, what happens to each meeting, who is emailed."""

    lines: tuple[str, ...]
    meetings: tuple[str, ...]
    emails: tuple[str, ...]
    nothing: bool  # saving would store the same handover


def preview_change(
    handover_id: str,
    before: dict[str, Any],
    after: dict[str, Any],
    handover: Handover,
    *,
    stored_plan: dict[str, Any] | None,
    settings: Settings,
    now: datetime,
) -> ChangePreview:
    """Return what saving `after` over `before` would do (`after` validated, as stored)."""
    lines, added, removed = describe_changes(before, after)
    said: tuple[str, ...] = (NOT_PLANNED,)
    if stored_plan and stored_plan.get("meetings"):
        plan = meetings.make_plan(
            handover_id,
            handover,
            settings=settings,
            now=now,
            sent=meetings.sent_series(stored_plan),
        )
        old_cadence = (before.get("project") or {}).get("sync_cadence")
        new_cadence = (after.get("project") or {}).get("sync_cadence")
        said = _meetings(
            plan.meetings, stored_plan["meetings"], old_cadence != new_cadence, new_cadence
        )
    emails = _emails(after, bool(lines), added, removed)
    if before == after:
        return ChangePreview((), said, (), nothing=True)
    return ChangePreview((*lines, BRIEF), said, emails, nothing=False)


def _meetings(
    planned: tuple[PlannedMeeting, ...],
    stored: list[dict[str, Any]],
    cadence_changed: bool,
    new_cadence: Any,
) -> tuple[str, ...]:
    """Return a sentence per meeting planned again: its time kept or planned again, its
    guests compared with the stored meeting of its kind."""
    old_by_kind = {m["kind"]: m for m in stored}
    out: list[str] = []
    for meeting in planned:
        old = old_by_kind.get(meeting.kind.value)
        old_guests = {a["email"].lower(): a["name"] for a in (old or {}).get("attendees", ())}
        new_guests = {a.email.lower(): a.name for a in meeting.attendees}
        invited = [new_guests[e] for e in new_guests if e not in old_guests]
        taken_off = [old_guests[e] for e in old_guests if e not in new_guests]
        if meeting.kind in SYNC_KINDS and cadence_changed:
            when = f"planned again to run {CADENCE_WORDS.get(str(new_cadence), new_cadence)}"
        else:
            when = "keeps its time"
        said = [when]
        if invited:
            said.append(f"invited: {', '.join(invited)}")
        if taken_off:
            said.append(f"taken off the invitation: {', '.join(taken_off)}")
        if len(said) == 1 and when == "keeps its time":
            said.append("the same guests")  # "X keeps its time; the same guests."
        out.append(f"{meeting.title} {'; '.join(said)}.")
    return tuple(out)


def _emails(
    after: dict[str, Any],
    changed: bool,
    added: list[tuple[str, str, str]],
    removed: list[tuple[str, str, str]],
) -> tuple[str, ...]:
    """Return the emails `tell_changes` would send, one sentence each."""
    leads = [
        (email, name)
        for email, name, part in parts(after).values()
        if part in {"Account Manager", "Project Manager"}
    ]
    out: list[str] = []
    if changed and leads:
        names = " and ".join(name for _, name in leads)
        out.append(f"{names}: a summary of what changed")
    for _email, name, part in added:
        out.append(f"{name}: that they now take part ({_part(part)}) and what it means for them")
    for _email, name, part in removed:
        out.append(f"{name}: that they no longer take part ({_part(part)})")
    return tuple(out)


def _part(part: str) -> str:
    return "a member of the delivery team" if part == "delivery team" else part
