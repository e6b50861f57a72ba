"""The service's internal names as the people reading a page say them.

Statuses, steps, meetings and warnings are stored under keys (`client_kickoff`,
`share_brief`, `failed`); pages show these words instead. Unknown keys fall back to the key
with its underscores spaced out, capitalised, so a new step never shows a raw key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

STATUS = {
    "pending": "Waiting to start",
    "running": "Setting up",
    "done": "Done",
    "failed": "Needs attention",
    "cancelled": "Cancelled",
}
STEP_STATE = {"pending": "Waiting", "running": "Working on it", "done": "Done", "failed": "Failed"}
STEP = {
    "client_folder": "Find or make the client's folder",
    "project_brief": "Write the Project Brief",
    "share_brief": "Share the brief with the team",
    "notify_team": "Email the team",
    "plan_meetings": "Plan the meetings",
    "sales_handover": "Invite to the Sales handover",
    "internal_kickoff": "Invite to the internal kickoff",
    "client_kickoff": "Propose the client kickoff",
    "account_syncs": "Set up the account syncs",
}
MEETING = {
    "sales_handover": "Sales handover",
    "internal_kickoff": "Internal kickoff",
    "client_kickoff": "Client kickoff",
    "internal_account_sync": "Internal Account Sync",
    "executive_sponsor_sync": "Executive Sponsor Sync",
}
MEETING_STATE = {
    "proposed": "Proposed",
    "confirmed": "Confirmed, sending",
    "sent": "Invitation sent",
    "cancelled": "Cancelled",
}
FIELD = {
    "client": "the client",
    "project": "the project",
    "account_manager": "the Account Manager",
    "project_manager": "the Project Manager",
    "sales": "Sales",
    "delivery_team": "the delivery team",
    "client_contacts": "the client's contacts",
    "success": "what success means",
    "influencers_notes": "the notes on influencers",
}
ROLE = {
    "sales": "Sales",
    "operations": "Operations",
    "account_manager": "Account Manager",
    "project_manager": "Project Manager",
    "admin": "Admin",
}
OPPORTUNITY_STATE = {
    "discussed_with_pm": "Discussed with the PM",
    "with_client": "With the client",
    "handed_to_sales": "Handed to Sales",
    "won": "Won",
    "lost": "Lost",
}
_KIND_PREFIX = re.compile(r"^([a-z]+(?:_[a-z]+)+): ")


def _fallback(key: str) -> str:
    return key.replace("_", " ").replace(".", " ").strip().capitalize() or "Unknown"


def status(key: str) -> str:
    """Return a handover's status in words: "Setting up", "Done", "Needs attention"."""
    return STATUS.get(key, _fallback(key))


def step(name: str) -> str:
    """Return what a step does, in words: "Write the Project Brief"."""
    return STEP.get(name, _fallback(name))


def step_state(key: str) -> str:
    """Return a step's state in words."""
    return STEP_STATE.get(key, _fallback(key))


def meeting(kind: str) -> str:
    """Return a meeting's name: "Client kickoff"."""
    return MEETING.get(kind, _fallback(kind))


def meeting_state(key: str | None) -> str:
    """Return a meeting's state in words."""
    return MEETING_STATE.get(key or "", _fallback(key or "unknown"))


def fields(keys: Iterable[str]) -> str:
    """Return the handover's parts named by their keys, in words: "the client and Sales"."""
    named = [FIELD.get(k, _fallback(k).lower()) for k in keys]
    if len(named) < 2:
        return "".join(named)
    return ", ".join(named[:-1]) + " and " + named[-1]


def role(key: str) -> str:
    """Return a role's name: "Project Manager"."""
    return ROLE.get(key, _fallback(key))


def opportunity_state(key: str) -> str:
    """Return an opportunity's stage in words: "With the client"."""
    return OPPORTUNITY_STATE.get(key, _fallback(key))


def warning(text: str) -> str:
    """Return a plan warning with its leading meeting key ("client_kickoff: ...") in words."""
    found = _KIND_PREFIX.match(text)
    if found is None:
        return text
    return f"{meeting(found.group(1))}: {text[found.end():]}"


def names(payload: Mapping[str, Any]) -> dict[str, str]:
    """Return each person's name by email address, from a handover's stored data."""
    people: list[Any] = [payload.get("account_manager"), payload.get("project_manager")]
    for group in ("sales", "delivery_team", "client_contacts"):
        people += list(payload.get(group) or [])
    out: dict[str, str] = {}
    for p in people:
        if isinstance(p, Mapping) and p.get("email") and p.get("name"):
            out.setdefault(str(p["email"]).lower(), str(p["name"]))
    return out


def person(email: str | None, known: Mapping[str, str]) -> str:
    """Return a person's name when known, else their address."""
    if not email:
        return "nobody"
    if email.startswith("token:"):
        return "An integration (through the API)"
    return known.get(email.lower(), email)
