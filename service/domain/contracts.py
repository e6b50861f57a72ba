"""Contract reviews as the handbook sees them: pure rules, no I/O.

"Share any contracts with PM before sharing with the client for review, allowing (at
minimum) 1 business day to review prior to sending." This module decides what a
contract draft is, when one arrived in a watched folder, whose it is, how a review moves
from state to state, and when a share is outside the agency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.domain.business_days import zone
from service.domain.recurrence_words import zone_words

UNMATCHED = "unmatched"  # no account found: Operations picks one
ROUTING = "routing"  # account known; the PM is being given access and told
OPEN = "open"  # the PM was told; waiting for a decision
APPROVED = "approved"
CHANGES_REQUESTED = "changes_requested"
DECISIONS = (APPROVED, CHANGES_REQUESTED)
STATES = (UNMATCHED, ROUTING, OPEN, *DECISIONS)

GOOGLE_DOC = "application/vnd.google-apps.document"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
MAX_COMMENT = 5000
# Control characters (tabs and line breaks aside) and lone surrogates: no text needs them,
# and databases refuse some of them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class ReviewError(Exception):
    """A review rule was broken; the message says which, in words a person can act on."""


class InvalidDecision(ReviewError):
    """The decision input is not valid; `errors` maps each bad field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class WrongState(ReviewError):
    """The review is not in a state that allows this."""


class NotAllowed(ReviewError):
    """This person may not do that to this review."""


@dataclass(frozen=True)
class ContractPatterns:
    """What makes a file a contract draft: a kind's pattern in the name, and a document type."""

    kinds: tuple[tuple[str, str], ...] = (
        ("msa", r"\bmsa\b|\bmaster (?:services? )?agreement\b"),
        ("sow", r"\bsows?\b|\bstatements? of work\b"),
        ("amendment", r"\bamendments?\b|\baddendum\b"),
        ("change_order", r"\bchange orders?\b|\bchange requests?\b"),
        ("contract", r"\bcontracts?\b|\bagreements?\b"),
    )
    mime_types: frozenset[str] = frozenset(
        {GOOGLE_DOC, DOCX, ODT, "application/pdf", "application/msword"}
    )
    extensions: frozenset[str] = frozenset({".docx", ".doc", ".pdf", ".odt"})


DEFAULT_PATTERNS = ContractPatterns()


@dataclass(frozen=True)
class ReviewPolicy:
    """The knobs of the review flow (settings can build one; defaults follow the handbook)."""

    patterns: ContractPatterns = field(default_factory=ContractPatterns)
    share_role: str = "commenter"
    settle_seconds: float = 120.0
    reminder_lead: timedelta = timedelta(hours=4)


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def classify(
    name: str, mime_type: str, patterns: ContractPatterns = DEFAULT_PATTERNS
) -> str | None:
    """Return the kind of contract draft the file is (msa, sow...), or None if it is not one."""
    _stem, dot, ext = name.rpartition(".")
    has_type = mime_type in patterns.mime_types or (
        bool(dot) and f".{ext.lower()}" in patterns.extensions
    )
    if not has_type:
        return None
    words = " ".join(_words(name))
    for kind, pattern in patterns.kinds:
        if re.search(pattern, words, re.IGNORECASE):
            return kind
    return None


@dataclass(frozen=True)
class Sighting:
    """A file as it was seen once: its name, type and parent folders."""

    name: str
    mime_type: str
    parents: frozenset[str]


def arrival(
    previous: Sighting | None,
    current: Sighting,
    watched: Iterable[str],
    patterns: ContractPatterns = DEFAULT_PATTERNS,
) -> str | None:
    """Return the watched folder a contract draft just arrived in, or None.

    A draft arrives when its parents now include a watched folder they did not include
    when it was last seen (a new file, a move, a copy synced with old dates), or when a
    file already there becomes a draft (renamed `notes.txt` -> `MSA draft.pdf`).
    Never by creation time.
    """
    here = current.parents & frozenset(watched)
    if not here or classify(current.name, current.mime_type, patterns) is None:
        return None
    if previous is None:
        return min(here)
    entered = here - previous.parents
    if entered:
        return min(entered)
    if classify(previous.name, previous.mime_type, patterns) is None:
        return min(here)
    return None


def match_client(file_name: str, clients: Mapping[str, str]) -> str | None:
    """Return the key of the client named in the file name (whole words, longest name wins).

    Case and separators do not matter (`SOW_acme-corp_v2.pdf` names "Acme Corp"); two
    different accounts with an equally long matching name are ambiguous: None.
    """
    words = _words(file_name)
    best: list[tuple[int, str]] = []
    for key, client in clients.items():
        needle = _words(client)
        if not needle:
            continue
        n = len(needle)
        if any(words[i : i + n] == needle for i in range(len(words) - n + 1)):
            best.append((len(" ".join(needle)), key))
    if not best:
        return None
    best.sort(reverse=True)
    top = [key for size, key in best if size == best[0][0]]
    return top[0] if len(set(top)) == 1 else None


def check_decision(decision: object, comment: object) -> tuple[str, str]:
    """Return the decision and comment, or raise InvalidDecision naming each bad field."""
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["decision"] = "must be approved or changes_requested"
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        errors["comment"] = "must be text"
    elif len(comment) > MAX_COMMENT:
        errors["comment"] = f"must be at most {MAX_COMMENT} characters"
    elif CONTROL.search(comment):
        errors["comment"] = "must not contain control characters"
    elif decision == CHANGES_REQUESTED and not comment.strip():
        errors["comment"] = "say what has to change"
    if errors:
        raise InvalidDecision(errors)
    return str(decision), str(comment).strip()


def after_decision(state: str, decision: str) -> str:
    """Return the state after the PM's decision (the PM may change their mind)."""
    if state == UNMATCHED:
        raise WrongState("this draft has no account yet: Operations assigns it first")
    return decision


def after_assign(state: str) -> str:
    """Return the state after Operations picked the account of an unmatched draft."""
    if state != UNMATCHED:
        raise WrongState("this draft already belongs to an account")
    return ROUTING


def after_routed(state: str) -> str:
    """Return the state once the PM was given access and told (a decision stands)."""
    return OPEN if state == ROUTING else state


def reopens(state: str) -> bool:
    """Return whether a new revision starts a new review round (it was decided already)."""
    return state in DECISIONS


def may_decide(user_email: str, user_role: str, pm_email: str | None) -> bool:
    """Return whether this user may decide: the review's PM, Operations or an admin."""
    if user_role in {"admin", "operations"}:
        return True
    return bool(pm_email) and user_email.lower() == str(pm_email).lower()


def internal_domains(allowed_domain: str | None, *emails: str | None) -> frozenset[str]:
    """Return the agency's domains: ALLOWED_DOMAIN, else the domains of the AM and PM."""
    if allowed_domain:
        return frozenset({allowed_domain.lower()})
    return frozenset(e.rpartition("@")[2].lower() for e in emails if e and "@" in e)


def outside_recipients(shared_with: Iterable[str], internal: frozenset[str]) -> tuple[str, ...]:
    """Return the addresses (or domains, or `anyone`) outside the agency's domains."""
    outside: list[str] = []
    for entry in shared_with:
        item = entry.strip().lower()
        if not item:
            continue
        domain = item.rpartition("@")[2]
        inside = domain in internal or any(domain.endswith("." + d) for d in internal)
        if item.startswith("anyone") or not inside:
            outside.append(item)
    return tuple(sorted(set(outside)))


def guard_applies(state: str, deadline: datetime | None, now: datetime) -> bool:
    """Return whether sharing outside now is too early: not approved, or before the deadline."""
    return state != APPROVED or deadline is None or now < deadline


def reminder_due(
    state: str, deadline: datetime | None, reminded: bool, now: datetime, lead: timedelta
) -> bool:
    """Return whether the PM should be reminded now: undecided, not reminded, deadline near."""
    if state != OPEN or deadline is None or reminded:
        return False
    return deadline - lead <= now < deadline


def format_deadline(deadline: datetime, tz: str) -> str:
    """Return the deadline as a person reads it, in their zone, the zone named in words:
    `Mon 30 Nov 2026, 16:00 (London time)`."""
    local = deadline.astimezone(zone(tz))
    return f"{local:%a %d %b %Y, %H:%M} ({zone_words(tz)})"
