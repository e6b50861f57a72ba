"""The audit trail in sentences: "Priya Shah assigned Dana Lee as Project Manager of Acme Corp:
Website relaunch", with people's names and links to what the line is about.

`sentence(line, ...)` takes one line as `audit_json` gives it (`actor`, `action`, `subject`,
`detail`) and returns escaped markup. `Subject` says how to name what the line is about; on a
handover's own page it is "the handover" with no link. Unknown actions still read as a
sentence ("… did: something new"), never as a raw key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from service.web import words

MACHINES = {
    "service": "The service",
    "cron": "The service's daily run",
    "drive": "Google Drive",
}


@dataclass(frozen=True)
class Subject:
    """What an audit line is about: its name, where to see it, and the names it knows."""

    label: str
    href: str = ""
    names: Mapping[str, str] = field(default_factory=dict)

    def link(self) -> Markup:
        if not self.href:
            return escape(self.label)
        return Markup('<a href="{}">{}</a>').format(self.href, self.label)


Time = Callable[[str], Markup]


def _plain_time(value: str) -> Markup:
    return escape(value)


def who(actor: str, names: Mapping[str, str]) -> str:
    """Return the actor's name: a person's name when known, the service in words."""
    return MACHINES.get(actor) or words.person(actor, names)


def _people(emails: Any, names: Mapping[str, str]) -> str:
    listed = [words.person(str(e), names) for e in (emails or [])]
    if len(listed) < 3:
        return " and ".join(listed) or "nobody"
    return ", ".join(listed[:-1]) + " and " + listed[-1]


def _count(n: int, one: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {one}s"


def sentence(
    line: Mapping[str, Any], subject: Subject, *, time: Time = _plain_time
) -> Markup:
    """Return the line as a sentence with its subject linked (markup, escaped)."""
    d: Mapping[str, Any] = line.get("detail") or {}
    names = subject.names
    s = subject.link()
    actor = escape(who(str(line.get("actor", "")), names))
    action = str(line.get("action", ""))
    kind, _, what = action.partition(".")
    phrase = _phrase(kind, what, d, s, names, time)
    if phrase is None:
        phrase = Markup("did “{}” on {}").format(action.replace(".", " ").replace("_", " "), s)
    return Markup("{} {}").format(actor, phrase)


# What a step, role or review line says, by action; "{0}", "{1}" stand for the arguments
# `_said` is given in order.
STEP_WORDS = {
    "done": "finished “{0}” for {1}",
    "failed": "could not “{0}” for {1}: {2}",
    "postponed": "will try “{0}” for {1} again at {3}",
}
ROLE_WORDS = {"assigned": "gave {0} the role {1}", "removed": "took the role {1} from {0}"}
REVIEW_WORDS = {
    "opened": "opened the contract review {0}",
    "reopened": "opened a new round of the contract review {0}",
    "alerted": "alerted Operations that the contract review {0} is late",
    "reminded": "reminded the Project Manager of the contract review {0}",
    "approved": "approved the contract draft {0}",
    "changes_requested": "asked for changes to the contract draft {0}",
}


def _said(words_of: Mapping[str, str], what: str, *args: Any) -> Markup | None:
    """Return the sentence `words_of` gives `what`, its arguments escaped; None if none."""
    if what not in words_of:
        return None
    return Markup(words_of[what]).format(*args)  # noqa: S704 - our constants; args escaped


def _phrase(
    kind: str,
    what: str,
    d: Mapping[str, Any],
    s: Markup,
    names: Mapping[str, str],
    time: Time,
) -> Markup | None:
    fmt = Markup
    if kind == "handover":
        return _handover(what, d, s, names)
    if kind == "step":
        step = words.step(str(d.get("step", "")))
        until = time(str(d["until"])) if what == "postponed" else ""
        return _said(STEP_WORDS, what, step, s, d.get("error", ""), until)
    if kind == "meeting":
        meeting = words.meeting(str(d.get("kind", "client_kickoff")))
        if what == "confirmed":
            return fmt("confirmed the {} of {} for {}").format(meeting, s, time(str(d["start"])))
        if what == "kickoff_moved":
            return fmt("moved the Client kickoff of {} to {}").format(s, time(str(d["start"])))
    if kind == "pm" and what == "needed_told":
        return fmt("told {} that {} needs a Project Manager").format(
            _people(d.get("to"), names), s
        )
    if kind == "syncs" and what == "extended":
        return fmt("planned more occurrences of the {} of {}").format(
            words.meeting(str(d.get("kind", ""))), s
        )
    if kind == "review":
        return _review(what, d, s, names)
    if kind == "role":
        return _said(ROLE_WORDS, what, s, words.role(str(d.get("role", ""))))
    if kind == "user":
        return fmt("signed in") if what == "signed_in" else fmt("signed out")
    return _account(kind, what, d, s, time)


def _handover(
    what: str, d: Mapping[str, Any], s: Markup, names: Mapping[str, str]
) -> Markup | None:
    fmt = Markup
    if what == "submitted":
        return fmt("submitted {}").format(s)
    if what == "pm_assigned":
        if d.get("pm"):
            return fmt("assigned {} as Project Manager of {}").format(
                words.person(str(d["pm"]), names), s
            )
        return fmt("assigned the Project Manager of {}").format(s)
    if what == "changed":
        changed = [str(k) for k in d.get("changed") or []]
        if not changed:
            return fmt("saved {} without changes").format(s)
        return fmt("changed {} of {}").format(words.fields(changed), s)
    if what == "cancelled":
        return fmt("cancelled {} and its meetings").format(s)
    if what == "retried":
        return fmt("retried the failed steps of {}").format(s)
    if what == "account_pending":
        return fmt("asked Operations to confirm {} joins {}'s account").format(
            s, d.get("client", "the client")
        )
    if what == "account_confirmed":
        return fmt("confirmed {} joins {}'s account").format(s, d.get("client", "the client"))
    return None


def _review(
    what: str, d: Mapping[str, Any], s: Markup, names: Mapping[str, str]
) -> Markup | None:
    fmt = Markup
    if what in REVIEW_WORDS:
        return _said(REVIEW_WORDS, what, s)
    if what == "routed":
        return fmt("sent the contract review {} to {}").format(
            s, words.person(str(d.get("pm") or ""), names)
        )
    if what == "assigned":
        return fmt("matched the contract draft {} to the account {}").format(
            s, d.get("account", "")
        )
    if what == "shared_outside":
        return fmt("found the contract draft {} shared outside the agency, with {}").format(
            s, _people(d.get("recipients"), names)
        )
    return None


def _account(
    kind: str, what: str, d: Mapping[str, Any], s: Markup, time: Time
) -> Markup | None:
    fmt = Markup
    if kind == "account" and what in {"folder_lost", "folder_back"}:
        which = "Contracts folder" if d.get("folder") == "contracts" else "folder"
        gone = "saw the {} of {} trashed or deleted" if what == "folder_lost" else (
            "saw the {} of {} back")
        return fmt(gone).format(which, s)
    if kind in {"opportunity", "escalation", "task", "note"}:
        article = "an" if kind[0] in "aeo" else "a"
        item = f"an urgent {kind}" if d.get("urgent") else f"{article} {kind}"
        verbs = {
            "logged": fmt("logged {} on {}").format(item, s),
            "acknowledged": fmt("acknowledged an escalation on {}").format(s),
            "moved": fmt("moved an opportunity of {} to “{}”").format(
                s, words.opportunity_state(str(d.get("state", "")))
            ),
            "reminded": fmt("sent a reminder of a task of {}").format(s),
            "overdue": fmt("told the owner a task of {} is overdue").format(s),
        }
        return verbs.get(what, fmt("marked an item of {} {}").format(s, what.replace("_", " ")))
    if kind == "agenda":
        meeting = words.meeting(str(d.get("meeting", "")))
        if what in {"made", "updated"}:
            verb = "wrote" if what == "made" else "updated"
            return fmt("{} the agenda of the {} of {} on {}").format(
                verb, meeting, s, time(str(d.get("sync", "")))
            )
        if what == "executive_marked":
            return fmt("put {} on the next Executive Sponsor Sync agenda of {}").format(
                _count(len(d.get("items") or []), "item"), s
            )
        if what == "template_changed":
            return fmt("changed the agenda questions of {} ({})").format(
                s, _count(int(d.get("count", 0)), "question")
            )
    if kind == "health" and what == "answered":
        return fmt("answered the health questions of {}").format(s)
    return None
