"""Where each meeting of a handover stands: proposed, confirmed, sent or cancelled.

Internal meetings are sent at once. The two meetings with the client (the client kickoff
and the Executive Sponsor Sync series) are only proposed: nothing reaches the client until
their organiser (the PM, the AM), Operations or an admin confirms the time or picks one
of the offered alternatives. Each meeting's state is one `meeting:<kind>` artifact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.domain.planning_model import MeetingKind
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import HandoverRow

PROPOSED_KINDS = frozenset(
    {MeetingKind.CLIENT_KICKOFF.value, MeetingKind.EXECUTIVE_SPONSOR_SYNC.value}
)
STATES = ("proposed", "confirmed", "sent", "cancelled")
KIND_ORDER = [k.value for k in MeetingKind]


def artifact_kind(kind: str) -> str:
    """Return the artifact kind that holds a meeting's state."""
    return f"meeting:{kind}"


def get(db: Database, handover_id: str, kind: str) -> dict[str, Any] | None:
    """Return the meeting's stored state, or None before it was planned."""
    with db.transaction() as session:
        row = repo.artifact(session, handover_id, artifact_kind(kind))
        return dict(row.data) if row is not None else None


def put(db: Database, handover_id: str, kind: str, data: dict[str, Any]) -> None:
    """Store the meeting's state."""
    with db.transaction() as session:
        repo.put_artifact(session, handover_id, artifact_kind(kind), external_id=kind, data=data)


def released(state: dict[str, Any] | None) -> bool:
    """Return True when a meeting may go to its attendees (confirmed, or sent already)."""
    return state is not None and state.get("state") in {"confirmed", "sent"}


def propose(
    db: Database, handover_id: str, meeting: dict[str, Any], *, now: datetime
) -> dict[str, Any]:
    """Store the meeting as proposed at the plan's time with its alternatives; return it.

    A proposal already made for the same time keeps its date (the reminder counts from it).
    """
    kind = meeting["kind"]
    before = get(db, handover_id, kind) or {}
    same = before.get("state") == "proposed" and before.get("start") == meeting["start"]
    data = {
        "state": "proposed",
        "start": meeting["start"],
        "end": meeting["end"],
        "timezone": meeting["timezone"],
        "organiser": meeting["organiser"],
        "alternatives": meeting.get("alternatives", []),
        "proposed_at": before["proposed_at"] if same else now.isoformat(),
        "reminded_at": before.get("reminded_at") if same else None,
        "mailed": before.get("mailed", []),
    }
    if data != before:
        put(db, handover_id, kind, data)
    return data


def mark_sent(
    db: Database,
    handover_id: str,
    meeting: dict[str, Any],
    *,
    calendar: str,
    fallback: str,
) -> None:
    """Record that the meeting's invitation went out (from `calendar`)."""
    kind = meeting["kind"]
    before = get(db, handover_id, kind) or {}
    data = {
        **before,
        "state": "sent",
        "start": meeting["start"],
        "end": meeting["end"],
        "timezone": meeting["timezone"],
        "organiser": meeting["organiser"],
        "calendar": calendar,
        "fallback": fallback,
    }
    if data != before:
        put(db, handover_id, kind, data)


def offered(state: dict[str, Any]) -> list[dict[str, str]]:
    """Return the slots a proposal offers: its own time first, then the alternatives."""
    first = {"start": state["start"], "end": state["end"]}
    return [first, *[dict(a) for a in state.get("alternatives", [])]]


def meetings_json(row: HandoverRow) -> list[dict[str, Any]]:
    """Return the handover's meetings as the API lists them, in the handbook's order."""
    out = []
    for artifact in row.artifacts:
        if not artifact.kind.startswith("meeting:"):
            continue
        data = artifact.data
        kind = artifact.kind.removeprefix("meeting:")
        out.append(
            {
                "kind": kind,
                "state": data.get("state"),
                "start": data.get("start"),
                "end": data.get("end"),
                "timezone": data.get("timezone"),
                "organiser": data.get("organiser"),
                "alternatives": data.get("alternatives", [])
                if data.get("state") == "proposed"
                else [],
                "sent_from": data.get("calendar", ""),
                "note": data.get("fallback", "") or data.get("flag", ""),
            }
        )
    out.sort(key=lambda m: KIND_ORDER.index(m["kind"]) if m["kind"] in KIND_ORDER else 99)
    return out
