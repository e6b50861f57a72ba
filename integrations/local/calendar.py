"""The Calendar port on the local disk: `.ics` invitations by email and per-person feeds.

Each meeting is one RFC 5545 file, `root/events/<event id>.ics`, rewritten with a higher
SEQUENCE on every real change and mailed to its attendees. People subscribe to their own
feed (`feed_url`), whose secret token is an HMAC of their email. Exclusive file locks make
every read-modify-write safe across threads and gunicorn workers.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from icalendar import Event

from integrations.local import ics
from integrations.local.calendar_index import CalendarIndex
from integrations.ports import (
    Attachment,
    Busy,
    CalendarEvent,
    Email,
    EventRef,
    EventState,
    Mail,
    above,
)

log = logging.getLogger(__name__)

_SUBJECTS = {"new": "Invitation", "update": "Updated invitation", "cancel": "Cancelled"}
_LEADS = {
    "new": "You are invited to this meeting.",
    "update": "This meeting has changed; the invitation below replaces the earlier one.",
    "cancel": "This meeting has been cancelled.",
}


class LocalCalendar:
    """Meetings as `.ics` files under a directory, invitations sent through the Mail port."""

    def __init__(
        self,
        root: Path,
        *,
        mail: Mail,
        organizer_email: str = "handover@agency.local",
        base_url: str = "http://127.0.0.1:8080",
        feed_secret: str,
    ) -> None:
        if len(feed_secret) < 16:
            raise ValueError("feed_secret must be at least 16 characters")
        self.root = root.resolve()
        self.events_dir = self.root / "events"
        self.events_dir.mkdir(parents=True, exist_ok=True)
        self.mail = mail
        self.organizer_email = organizer_email
        self.base_url = base_url.rstrip("/")
        self._secret = feed_secret.encode()
        self._feeds_path = self.root / "feeds.json"
        self.index = CalendarIndex(self.root / ".index.sqlite", self.events_dir)
        self._import_feeds()
        self.index.reconcile()  # heals a crash between a file and its rows, or a lost index
        log.warning("LocalCalendar in use: invitations are .ics files under %s", self.root)

    # --- the port -------------------------------------------------------------------

    def upsert_event(self, event: CalendarEvent) -> EventRef:
        """Write the event and mail its attendees, unless it is already in this state."""
        ics.check_event_id(event.id)
        if event.end <= event.start:
            raise ValueError(f"event {event.id} ends before it starts")
        url = self._page_path(event)
        # The person the handbook names sends it (the ORGANIZER); else the service.
        organizer = event.organizer.email if event.organizer else self.organizer_email
        name = (event.organizer.name if event.organizer else "") or "Handover service"
        wanted = ics.fingerprint(event, organizer)
        with self._locked(event.id):
            old = self._read(event.id)
            if (
                old is not None
                and str(old.get(ics.FINGERPRINT, "")) == wanted
                and ics.status(old) == "CONFIRMED"
            ):
                if not self.index.in_step(event.id):  # a retry after a crash between the two
                    self.index.refresh(event.id)
                return EventRef(event.id, url, calendar=organizer)
            sequence = 0 if old is None else old.sequence + 1
            vevent = ics.build_vevent(
                event,
                organizer=organizer,
                organizer_name=name,
                sequence=sequence,
                stamp=_now(),
                url=event.link,
            )
            data = ics.invitation(vevent, "REQUEST")
            self._register(a.email for a in ics.attendees(vevent))
            # Mail before writing: a retry after a crash in between finds the old file,
            # picks the same sequence, and the outbox drops the repeated key.
            self.mail.send(self._email(vevent, data, "new" if old is None else "update"))
            if old is not None and ics.status(old) == "CONFIRMED":
                self._tell_removed(old, vevent)
            kept = self._overrides(event.id) if event.recurrence else []
            self._write(event.id, ics.stored(vevent, kept) if kept else data)
        return EventRef(event.id, url, calendar=organizer)

    def describe_occurrence(
        self, event_id: str, original_start: datetime | None, description: str, *,
        calendar: str = "",
    ) -> None:
        """Put text on top of one occurrence's description: a RECURRENCE-ID override in the
        series' file (subscribed feeds show it), or a single event's DESCRIPTION; what the
        event said stays below. Nobody is mailed."""
        ics.check_event_id(event_id)
        with self._locked(event_id):
            master = self._read(event_id)
            if master is None:
                raise LookupError(f"no event {event_id}")
            said = str(master.get("DESCRIPTION", ""))
            if original_start is None:
                changed = ics.with_description(master, above(description, said))
                self._write(event_id, ics.stored(changed, []))
                return
            moment = original_start.astimezone(UTC)
            kept = [o for o in self._overrides(event_id) if ics.recurrence_id(o) != moment]
            added = ics.override(master, moment, above(description, said))
            self._write(event_id, ics.stored(master, [*kept, added]))

    def read_event(self, event_id: str, *, calendar: str = "") -> EventState | None:
        """Return the event as its file stands now (a person may have moved or cancelled it)."""
        ics.check_event_id(event_id)
        vevent = self._read(event_id)
        if vevent is None:
            return None
        start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
        return EventState(event_id, start, end, cancelled=ics.status(vevent) == "CANCELLED")

    def event_file(self, event_id: str) -> bytes | None:
        """Return the event's .ics file as stored (the series and its moved occurrences)."""
        ics.check_event_id(event_id)
        path = self._path(event_id)
        return path.read_bytes() if path.exists() else None

    def cancel_event(self, event_id: str, *, calendar: str = "") -> None:
        """Mark the event cancelled and mail its attendees; a missing one is fine."""
        ics.check_event_id(event_id)
        with self._locked(event_id):
            old = self._read(event_id)
            if old is None or ics.status(old) == "CANCELLED":
                return
            sequence = old.sequence + 1
            vevent = ics.restamped(old, sequence=sequence, stamp=_now(), status="CANCELLED")
            data = ics.invitation(vevent, "CANCEL")
            self.mail.send(self._email(vevent, data, "cancel"))
            self._write(event_id, data)

    def busy(self, emails: Sequence[str], start: datetime, end: datetime) -> dict[str, list[Busy]]:
        """Return each person's busy intervals between start and end, merged, in UTC."""
        found = self.index.busy(emails, start, end)
        low, high = start.astimezone(UTC), end.astimezone(UTC)
        return {e: _merged(found[e.lower()], low, high) for e in emails}

    # --- feeds ----------------------------------------------------------------------

    def feed_token(self, email: str) -> str:
        """Return the secret token of a person's feed, remembering the person."""
        self._register([email])
        return self._token(email)

    def feed_url(self, email: str) -> str:
        """Return the address a person subscribes to for all their handover meetings."""
        return f"{self.base_url}/calendar/{self.feed_token(email)}.ics"

    def feed(self, token: str) -> bytes | None:
        """Return the feed of the person with this token, or None for an unknown token."""
        email = self.index.known(token)
        if email is None or not hmac.compare_digest(self._token(email), token):
            return None  # unknown, or issued under an earlier secret
        mine = [v for event_id in self.index.events_of(email) if (v := self._read(event_id))]
        mine.sort(key=lambda v: (v.start, str(v.get("UID"))))
        return ics.feed(mine)

    # --- internals ------------------------------------------------------------------

    @staticmethod
    def _page_path(event: CalendarEvent) -> str:
        """Return where the meeting shows on our site (the handover page), as a path: the
        stored link is made whole with today's base when shown (service/links.py)."""
        handover = event.properties.get("handoverId")
        return f"/handovers/{handover}" if handover else "/"

    def _email(self, vevent: Event, data: bytes, kind: str, *, key_suffix: str = "") -> Email:
        method = "CANCEL" if kind == "cancel" else "REQUEST"
        uid = str(vevent["UID"]).removesuffix("@handover")
        people = ics.attendees(vevent)
        text, html = _bodies(vevent, _LEADS[kind], ics.organizer_words(vevent))
        return Email(
            key=f"calendar:{uid}:{vevent.sequence}{key_suffix}",
            to=tuple(a.email for a in people),
            subject=f"{_SUBJECTS[kind]}: {vevent['SUMMARY']}",
            text=text,
            html=html,
            attachments=(Attachment("invite.ics", f"text/calendar; method={method}", data),),
        )

    def _tell_removed(self, old: Event, new: Event) -> None:
        """Send a CANCEL to the people taken off the event (RFC 5546 3.2.5)."""
        kept = {a.email for a in ics.attendees(new)}
        gone = [a.email for a in ics.attendees(old) if a.email not in kept]
        if gone:
            cancel = ics.restamped(
                ics.only_attendees(old, gone),
                sequence=new.sequence,
                stamp=new.decoded("DTSTAMP"),
                status="CANCELLED",
            )
            data = ics.invitation(cancel, "CANCEL")
            self.mail.send(self._email(cancel, data, "cancel", key_suffix=":removed"))

    def _path(self, event_id: str) -> Path:
        return self.events_dir / f"{event_id}.ics"

    def _read(self, event_id: str) -> Event | None:
        path = self._path(event_id)
        return ics.parse(path.read_bytes()) if path.exists() else None

    def _overrides(self, event_id: str) -> list[Event]:
        path = self._path(event_id)
        return ics.overrides(path.read_bytes()) if path.exists() else []

    def _write(self, event_id: str, data: bytes) -> None:
        _atomic_write(self._path(event_id), data)
        self.index.refresh(event_id)

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        # flock is per open file description, so this excludes other threads as well
        # as other processes.
        with open(self.events_dir / f".{name}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _token(self, email: str) -> str:
        digest = hmac.new(self._secret, email.strip().lower().encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:32]

    def _register(self, emails: Iterable[str]) -> None:
        """Remember people's feed tokens (token -> email) the first time they are seen."""
        self.index.remember({self._token(e): e.strip().lower() for e in emails})

    def _import_feeds(self) -> None:
        """Take over the people an earlier version listed in feeds.json (then unused)."""
        if self._feeds_path.exists():
            index: dict[str, str] = json.loads(self._feeds_path.read_text(encoding="utf-8"))
            self.index.remember(index)


def _bodies(vevent: Event, lead: str, organizer: str) -> tuple[str, str]:
    """Return the plain-text and HTML bodies of an invitation email."""
    summary = str(vevent["SUMMARY"])
    when = ics.describe_when(vevent)
    repeats = ics.describe_repeats(vevent)
    # The description says who comes and the agenda under its own heading: shown once.
    agenda = str(vevent.get("DESCRIPTION", "")).strip()
    people = [
        (f"{a.name} <{a.email}>" if a.name else a.email) + (" (optional)" if a.optional else "")
        for a in ics.attendees(vevent)
    ]
    facts = [("When", when)] + ([("Repeats", repeats)] if repeats else [])
    facts.append(("Organizer", organizer))
    text = "\n".join(
        [lead, "", summary, "", *(f"{k}: {v}" for k, v in facts), "",
         *([agenda, ""] if agenda else []), "Attendees", *(f"- {p}" for p in people), "",
         "The invitation is attached (invite.ics): open it to answer and to add it to your "
         "calendar."]
    )  # fmt: skip
    html = "".join(
        [f"<p>{escape(lead)}</p><h2>{escape(summary)}</h2><table>",
         *(f"<tr><th align=left>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts),
         "</table>",
         f"<p style='white-space:pre-wrap'>{escape(agenda)}</p>" if agenda else "",
         "<h3>Attendees</h3><ul>",
         *(f"<li>{escape(p)}</li>" for p in people),
         "</ul><p>The invitation is attached (invite.ics).</p>"]
    )  # fmt: skip
    return text, html


def _merged(spans: list[tuple[datetime, datetime]], low: datetime, high: datetime) -> list[Busy]:
    """Clip the spans to [low, high) and merge those that overlap or touch, like freebusy."""
    result: list[Busy] = []
    for start, end in sorted((max(s, low), min(e, high)) for s, e in spans if e > low and s < high):
        if result and start <= result[-1].end:
            result[-1] = Busy(result[-1].start, max(result[-1].end, end))
        else:
            result.append(Busy(start, end))
    return result


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
