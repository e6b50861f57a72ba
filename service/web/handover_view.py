"""A handover as its page shows it: steps, meetings and history in words, what needs attention.

`page_view` takes the API's JSON of the handover (`present.handover_json`), its stored data,
the viewer and what they may do, and returns what the templates need; no I/O but the
calendar's feed address, which the local backend gives (Google's events carry their own link).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from markupsafe import Markup

from service.web import words
from service.web.audit_words import Subject, sentence
from service.web.timewords import local_time

FINISHED = frozenset({"done", "failed", "cancelled"})
_HOURS_WORDS = ("outside working hours", "non-business day")


@runtime_checkable
class HasFeeds(Protocol):
    """A calendar that serves each person a subscribable feed (the local backend)."""

    def feed_url(self, email: str) -> str: ...


@runtime_checkable
class HasEventFiles(Protocol):
    """A calendar whose events are .ics files people may download (the local backend)."""

    def event_file(self, event_id: str) -> bytes | None: ...


@dataclass(frozen=True)
class Attention:
    """One thing that needs someone: what, who acts, and where (a link on this page)."""

    key: str
    text: str
    action: str = ""
    href: str = ""


def finished(h: Mapping[str, Any]) -> bool:
    """Return True when nothing on the page changes by itself any more."""
    return h["status"] in FINISHED and not any(
        m["state"] == "confirmed" for m in h.get("meetings") or ()
    )


def steps(h: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the steps in words, with their technical details kept apart."""
    return [
        {**s, "words": words.step(s["name"]), "state_words": words.step_state(s["state"])}
        for s in h["steps"]
    ]


def meetings(
    h: Mapping[str, Any],
    names: Mapping[str, str],
    *,
    viewer: str,
    feeds: HasFeeds | None,
) -> list[dict[str, Any]]:
    """Return the meetings with their organiser's name, state in words and links to the event
    (Google Calendar's page, or on the local backend the viewer's own calendar feed)."""
    events = {e["kind"]: e for e in h["artifacts"].get("events", [])}
    out = []
    for m in h["meetings"]:
        event = events.get(m["kind"])
        links: list[tuple[str, str]] = []
        if event and feeds is None and event.get("url"):
            links.append(("Open in Google Calendar", str(event["url"])))
        if event and event.get("meet_url"):
            links.append(("Join on Google Meet", str(event["meet_url"])))
        if event and feeds is not None:
            links.append(("Download the invitation", f"/handovers/{h['id']}/meetings/"
                          f"{m['kind']}.ics"))  # fmt: skip
        if event and feeds is not None and viewer.lower() in _attendees(event, m, names):
            links.append(("Add your calendar feed", feeds.feed_url(viewer)))
        out.append(
            {
                **m,
                "title": words.meeting(m["kind"]),
                "state_words": words.meeting_state(m["state"]),
                "organiser_name": words.person(m.get("organiser"), names),
                "links": links,
            }
        )
    return out


def _attendees(event: Mapping[str, Any], m: Mapping[str, Any], names: Mapping[str, str]) -> set[
    str
]:
    """Return who the feed holds the event for: its attendees, else the team named."""
    listed = event.get("attendees")
    if isinstance(listed, list) and listed:
        return {str(a.get("email", a) if isinstance(a, Mapping) else a).lower() for a in listed}
    return {*names, str(m.get("organiser") or "").lower()}


def attention(
    h: Mapping[str, Any],
    meetings_: Sequence[Mapping[str, Any]],
    plan: Mapping[str, Any] | None,
    can: Mapping[str, bool],
    *,
    viewer: str,
) -> list[Attention]:
    """Return what needs someone now, each with who acts and a link to act on this page."""
    if h["status"] == "cancelled":
        return []
    out: list[Attention] = []
    if h.get("waiting_for"):
        out.append(
            Attention(
                "pm",
                "No Project Manager yet: Operations assigns one. No meeting is planned or "
                "sent until then.",
                "Assign the Project Manager" if can.get("assign") else "",
                "#pm-form" if can.get("assign") else "",
            )
        )
    if h.get("account_pending"):
        out.append(
            Attention(
                "account",
                f"Operations must confirm this project joins {h['client']}'s account.",
                "Confirm it" if can.get("confirm") else "",
                "#account-pending" if can.get("confirm") else "",
            )
        )
    for m in meetings_:
        if m["state"] == "proposed":
            mine = viewer.lower() == str(m.get("organiser") or "").lower() or can.get("assign")
            out.append(
                Attention(
                    "meeting",
                    f"The {m['title']} is proposed: {m['organiser_name']} must confirm its "
                    "time before the client is invited.",
                    "Confirm the time" if mine else "",
                    f"#meeting-{m['kind']}" if mine else "",
                )
            )
    for w in (plan or {}).get("warnings") or ():
        if any(k in w for k in _HOURS_WORDS):
            out.append(
                Attention(
                    "hours",
                    words.warning(w),
                    "Change the handover" if can.get("change") else "",
                    f"/handovers/{h['id']}/edit" if can.get("change") else "",
                )
            )
    for s in h["steps"]:
        if s["state"] == "failed":
            out.append(
                Attention(
                    "failed",
                    f"“{words.step(s['name'])}” failed: {s['error'] or 'no reason given'}. "
                    "Fix what the message says (often a sharing or permission setting in "
                    "Google Workspace), then retry; Operations can retry it.",
                    "Retry the failed step" if can.get("retry") else "",
                    "#retry-form" if can.get("retry") else "",
                )
            )
    return out


def history(
    trail: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    zone: str,
    *,
    subject: str = "the handover",
) -> list[tuple[Markup, Markup]]:
    """Return a page's own audit lines as (when, sentence), its subject named `subject`."""
    this = Subject(subject, "", names)

    def time(value: str) -> Markup:
        return local_time(value, zone)

    return [(time(a["at"]), sentence(a, this, time=time)) for a in trail]


def plan_in_words(plan: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return the plan with its warnings' meeting keys in words."""
    if plan is None:
        return None
    return {**plan, "warnings": [words.warning(w) for w in plan.get("warnings") or ()]}


def flags(h: Mapping[str, Any]) -> list[str]:
    """Return the home page's attention flags of a handover, in words."""
    if h["status"] == "cancelled":
        return []
    out = []
    if h.get("waiting_for"):
        out.append("No PM yet")
    if h.get("account_pending"):
        out.append("Account to confirm")
    if any(m["state"] == "proposed" for m in h["meetings"]):
        out.append("Meeting to confirm")
    if any(any(k in w for k in _HOURS_WORDS) for w in (h.get("plan") or {}).get("warnings", ())):
        out.append("Outside someone's hours")
    if h["status"] == "failed":
        out.append("A step failed")
    return out


def summary(h: Mapping[str, Any], payload: Mapping[str, Any], *, now: str) -> dict[str, Any]:
    """Return one line of the home page: client, project, PM, status, next meeting, flags.

    `now` is an ISO instant; the next meeting is the earliest not cancelled starting after it.
    """
    pm = payload.get("project_manager") or {}
    ahead = [
        m
        for m in h["meetings"]
        if m["state"] != "cancelled" and m.get("start") and _after(m["start"], now)
    ]
    ahead.sort(key=lambda m: _instant(m["start"]))
    return {
        "id": h["id"],
        "client": h["client"],
        "project": h["project"],
        "pm": pm.get("name", ""),
        "status": h["status"],
        "status_words": words.status(h["status"]),
        "next": ahead[0] if ahead else None,
        "next_title": words.meeting(ahead[0]["kind"]) if ahead else "",
        "flags": flags(h),
        "people": {*words.names(payload), str(h["submitted_by"]).lower()},
    }


def _instant(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def _after(value: str, now: str) -> bool:
    return _instant(value) > _instant(now)


@dataclass(frozen=True)
class Filters:
    """The home page's search and filters, from its query string."""

    q: str = ""
    status: str = ""
    mine: bool = False
    attention: bool = False

    def any(self) -> bool:
        return bool(self.q or self.status or self.mine or self.attention)

    def needs_parts(self) -> bool:
        """Return True when the filters need a handover's steps and meetings to decide."""
        return bool(self.status or self.attention)

    def may_keep(
        self, client: str, project: str, payload: Mapping[str, Any], submitted_by: str,
        *, viewer: str,
    ) -> bool:
        """Return False when the stored row alone shows the handover fails the search or
        "mine" (cheap: before its steps and meetings are read)."""
        pm = (payload.get("project_manager") or {}).get("name", "")
        line = {"client": client, "project": project, "pm": pm, "status": "", "flags": [1],
                "people": {*words.names(payload), submitted_by.lower()}}
        return Filters(self.q, "", self.mine, False).keep(line, viewer)

    def keep(self, line: Mapping[str, Any], viewer: str) -> bool:
        """Return True when a home page line passes every filter."""
        q = self.q.casefold()
        if q and not any(q in str(line[k]).casefold() for k in ("client", "project", "pm")):
            return False
        if self.status and line["status"] != self.status:
            return False
        if self.mine and viewer.lower() not in line["people"]:
            return False
        return not (self.attention and not line["flags"])

    def args(self) -> dict[str, str]:
        """Return the filters as query arguments (for the next page's link)."""
        out = {"q": self.q, "status": self.status}
        out |= {"mine": "1"} if self.mine else {}
        out |= {"attention": "1"} if self.attention else {}
        return {k: v for k, v in out.items() if v}
