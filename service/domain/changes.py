"""A change to a handover in words: what changed, who was added, who was taken off.

Pure: works on two stored payloads (the handover as it was and as it is now).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

PART_MEANING = {
    "Project Manager": (
        "you run the project day to day: the brief and the client folder are shared with you, "
        "you organise the internal kickoff and the client kickoff (the client is invited only "
        "once you confirm its time), and contract drafts come to you for review"
    ),
    "Account Manager": (
        "you own the account: the client folder is shared with you and you organise the "
        "Internal Account Sync and the Executive Sponsor Sync (the client is invited only once "
        "you confirm it)"
    ),
    "Sales": (
        "you walk the AM and PM through the proposal and the brief in the sales handover "
        "meeting, which is sent from your calendar"
    ),
    "delivery team": (
        "you get the brief to comment on, and invitations to the internal kickoff and the "
        "client kickoff"
    ),
}
_SUCCESS = {
    "why_bought": "why the client bought",
    "problem_and_goals": "the problem and goals",
    "success_definition": "what success means",
    "roadblocks": "potential roadblocks",
}

Person = tuple[str, str, str]  # email, name, part


def _person(value: Any) -> tuple[str, str] | None:
    if isinstance(value, Mapping) and value.get("email"):
        return str(value["email"]).strip().lower(), str(value.get("name") or value["email"])
    return None


def parts(payload: Mapping[str, Any]) -> dict[str, Person]:
    """Return each agency person of a handover with their part, AM and PM first."""
    out: dict[str, Person] = {}
    for key, part in (
        ("account_manager", "Account Manager"),
        ("project_manager", "Project Manager"),
    ):
        found = _person(payload.get(key))
        if found:
            out.setdefault(found[0], (found[0], found[1], part))
    for key, part in (("sales", "Sales"), ("delivery_team", "delivery team")):
        for value in payload.get(key) or []:
            found = _person(value)
            if found:
                out.setdefault(found[0], (found[0], found[1], part))
    return out


def _words(value: Any) -> str:
    """Return a project value as people read it: a date as "20 Nov 2026"."""
    if not value:
        return "nothing"
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%b %Y}"


def _label(value: Any) -> str:
    found = _person(value)
    return f"{found[1]} <{found[0]}>" if found else "nobody"


def _names(values: list[Any]) -> set[str]:
    return {_label(v) for v in values}


def describe_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[list[str], list[Person], list[Person]]:
    """Return what changed (sentences), the people added and the people taken off."""
    lines: list[str] = []
    for key, title in (
        ("project_manager", "Project Manager"),
        ("account_manager", "Account Manager"),
    ):
        old, new = _person(before.get(key)), _person(after.get(key))
        if (old and old[0]) != (new and new[0]):
            if old is None:
                lines.append(f"{title} assigned: {_label(after.get(key))}")
            elif new is None:
                lines.append(f"{title} removed: {_label(before.get(key))} (none now)")
            else:
                lines.append(
                    f"{title} changed from {_label(before.get(key))} to {_label(after.get(key))}"
                )
    for key, title in (("sales", "Sales"), ("delivery_team", "Delivery team"),
                       ("client_contacts", "Client contacts")):  # fmt: skip
        old_names, new_names = _names(before.get(key) or []), _names(after.get(key) or [])
        added, gone = sorted(new_names - old_names), sorted(old_names - new_names)
        if added:
            lines.append(f"{title}: added {', '.join(added)}")
        if gone:
            lines.append(f"{title}: removed {', '.join(gone)}")
    old_project, new_project = before.get("project") or {}, after.get("project") or {}
    for key, title in (("name", "Project name"), ("sync_cadence", "Account sync cadence"),
                       ("contract_signed_on", "Contract signed on"),
                       ("proposal_url", "Proposal link")):  # fmt: skip
        if old_project.get(key) != new_project.get(key):
            lines.append(
                f"{title} changed from {_words(old_project.get(key))} "
                f"to {_words(new_project.get(key))}"
            )
    old_success, new_success = before.get("success") or {}, after.get("success") or {}
    answers = [t for k, t in _SUCCESS.items() if old_success.get(k) != new_success.get(k)]
    if before.get("influencers_notes") != after.get("influencers_notes"):
        answers.append("the influencers, champions and detractors")
    if answers:
        lines.append(f"The brief's answers changed: {', '.join(answers)}")
    was, now = parts(before), parts(after)
    added_people = [now[e] for e in now if e not in was]
    removed_people = [was[e] for e in was if e not in now]
    return lines, added_people, removed_people
