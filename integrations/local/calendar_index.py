"""What free/busy and the feeds need from the local calendar's `.ics` files, in SQLite.

The `.ics` files stay what people see and what counts; this index is derived from them
(`calendar/.index.sqlite`) so that a free/busy query reads the asked people's occurrences
in the window, and a feed reads only its person's files, never the whole workspace.
LocalCalendar updates an event's rows right after it writes the event's file. When the
calendar starts, `reconcile()` compares every file's size and modification time with the
index and re-reads the files that differ (all of them when the index is missing or was
made by another version), so a crash between the two writes, a hand-edited or deleted file,
or a deleted index heal on the next start.

Recurring events keep their occurrences up to `spans_until`: about a year past the later
of the series' start and the time it was indexed. A query reaching past that expands
those series from their files once more, a year beyond the query, and keeps the result.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import recurring_ical_events
from icalendar import Calendar as VCalendar

from integrations.local import ics

SCHEMA_VERSION = "1"
AHEAD = timedelta(days=400)  # how far past indexing (or a query) a series' occurrences are kept
_ALWAYS = 2**62  # kept_until of a one-off or cancelled event: nothing more to expand
# Rows per person: a query reads one person's rows of the window through (email, start);
# `longest` (meta) bounds how long before the window a meeting reaching into it began.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER);
CREATE TABLE IF NOT EXISTS people (
    email TEXT NOT NULL, event_id TEXT NOT NULL, attendee INTEGER NOT NULL,
    kept_until INTEGER NOT NULL, PRIMARY KEY (email, event_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS people_short ON people (email, kept_until);
CREATE INDEX IF NOT EXISTS people_event ON people (event_id);
CREATE TABLE IF NOT EXISTS spans (
    email TEXT NOT NULL, start INTEGER NOT NULL, stop INTEGER NOT NULL, event_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS spans_when ON spans (email, start);
CREATE INDEX IF NOT EXISTS spans_event ON spans (event_id);
CREATE TABLE IF NOT EXISTS feeds (key TEXT PRIMARY KEY, email TEXT NOT NULL) WITHOUT ROWID;
"""


@dataclass
class IndexStats:
    """How much the index read since it was made (tests and benches count it)."""

    files_parsed: int = 0
    span_rows: int = 0


class CalendarIndex:
    """The local calendar's busy-time and feed index, kept in step with its event files."""

    def __init__(self, path: Path, events_dir: Path) -> None:
        self.path = path
        self.events_dir = events_dir
        self.stats = IndexStats()
        self._local = threading.local()
        self._connection().executescript(_SCHEMA)
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if row is None or row[0] != SCHEMA_VERSION:
                for table in ("events", "people", "spans"):  # refilled by reconcile()
                    db.execute(f"DELETE FROM {table}")  # noqa: S608 - our own names
                db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (SCHEMA_VERSION,))

    # --- keeping in step ----------------------------------------------------------

    def reconcile(self) -> int:
        """Re-read the files that differ from the index, drop the gone; return how many."""
        on_disk: dict[str, tuple[int, int]] = {}
        with os.scandir(self.events_dir) as entries:
            for entry in entries:
                if entry.name.endswith(".ics") and not entry.name.startswith("."):
                    st = entry.stat()
                    on_disk[entry.name[:-4]] = (st.st_mtime_ns, st.st_size)
        with self._tx() as db:
            rows = db.execute("SELECT id, mtime_ns, size FROM events")
            known = {r[0]: (r[1], r[2]) for r in rows}
            for gone in known.keys() - on_disk.keys():
                _forget(db, gone)
        stale = [e for e, stamp in on_disk.items() if known.get(e) != stamp]
        for event_id in stale:
            self.refresh(event_id)
        return len(stale) + len(known.keys() - on_disk.keys())

    def refresh(self, event_id: str) -> None:
        """Index the event's file as it is now (or forget the event if it has none)."""
        path = self.events_dir / f"{event_id}.ics"
        try:
            st = path.stat()
            data = path.read_bytes()
        except FileNotFoundError:
            with self._tx() as db:
                _forget(db, event_id)
            return
        self.stats.files_parsed += 1
        cal = VCalendar.from_ical(data)
        vevents = cal.events
        people: dict[str, int] = {}
        for vevent in vevents:
            for person in ics.attendees(vevent):
                people[person.email] = 1
            organizer = ics.organizer_email(vevent)
            if organizer:
                people.setdefault(organizer, 0)
        live = [v for v in vevents if ics.status(v) != "CANCELLED"]
        spans: list[tuple[datetime, datetime]] = []
        kept_until = _ALWAYS
        if any(ics.RECURRENCE_NAMES & set(v.keys()) for v in live):
            first = min(_utc(v.start) for v in live)
            until = max(first, _now()) + AHEAD
            spans, kept_until = _expand(cal, first, until), _ts(until)
        elif live:
            spans = [(_utc(v.start), _utc(v.end)) for v in live]
        with self._tx() as db:
            _forget(db, event_id)
            db.execute(
                "INSERT INTO events VALUES (?, ?, ?)", (event_id, st.st_mtime_ns, st.st_size)
            )
            db.executemany(
                "INSERT INTO people VALUES (?, ?, ?, ?)",
                [(e, event_id, a, kept_until) for e, a in people.items()],
            )
            _add_spans(db, event_id, people, spans)

    def in_step(self, event_id: str) -> bool:
        """True when the index holds the event's file as it is on disk now."""
        path = self.events_dir / f"{event_id}.ics"
        with self._tx(write=False) as db:
            row = db.execute(
                "SELECT mtime_ns, size FROM events WHERE id = ?", (event_id,)
            ).fetchone()
        try:
            st = path.stat()
        except FileNotFoundError:
            return row is None
        return row is not None and (row[0], row[1]) == (st.st_mtime_ns, st.st_size)

    # --- queries --------------------------------------------------------------------

    def busy(
        self, emails: Iterable[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Return each person's occurrences overlapping [start, end), unmerged, in UTC."""
        low, high = _ts(start), _ts(end)
        found: dict[str, list[tuple[datetime, datetime]]] = {}
        for email in sorted({e.lower() for e in emails}):
            with self._tx(write=False) as db:
                short = db.execute(
                    "SELECT event_id FROM people WHERE email = ? AND kept_until < ?", (email, high)
                ).fetchall()
            for (event_id,) in short:
                self._widen(event_id, high + int(AHEAD.total_seconds()))
            with self._tx(write=False) as db:
                longest = _longest(db)
                rows = db.execute(
                    "SELECT start, stop FROM spans WHERE email = ? AND start >= ? AND start < ?"
                    " AND stop > ?",
                    (email, low - longest, high, low),
                ).fetchall()
            self.stats.span_rows += len(rows)
            found[email] = [(_dt(s), _dt(e)) for s, e in rows]
        return found

    def events_of(self, email: str) -> list[str]:
        """Return the ids of the events the person is invited to (cancelled ones too)."""
        with self._tx(write=False) as db:
            rows = db.execute(
                "SELECT event_id FROM people WHERE email = ? AND attendee = 1 ORDER BY event_id",
                (email.lower(),),
            )
            return [r[0] for r in rows]

    # --- feed tokens ----------------------------------------------------------------

    def known(self, token: str) -> str | None:
        """Return the email whose feed token this is, if it was ever registered."""
        with self._tx(write=False) as db:
            row = db.execute("SELECT email FROM feeds WHERE key = ?", (_key(token),)).fetchone()
        return str(row[0]) if row else None

    def remember(self, tokens: dict[str, str]) -> None:
        """Remember token -> email pairs (kept by a hash of the token, looked up in one row)."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR IGNORE INTO feeds VALUES (?, ?)",
                [(_key(t), e) for t, e in tokens.items()],
            )

    # --- internals ------------------------------------------------------------------

    def _widen(self, event_id: str, until: int) -> None:
        """Add a series' occurrences from the end of its kept window up to `until`."""
        path = self.events_dir / f"{event_id}.ics"
        with self._tx() as db:
            row = db.execute(
                "SELECT min(kept_until) FROM people WHERE event_id = ?", (event_id,)
            ).fetchone()
        kept = row[0] if row else None
        if kept is None or kept >= until or not path.exists():
            return
        self.stats.files_parsed += 1
        cal = VCalendar.from_ical(path.read_bytes())
        # One that began before the old end is kept already.
        spans = [(s, e) for s, e in _expand(cal, _dt(kept), _dt(until)) if _ts(s) >= kept]
        with self._tx() as db:
            people = dict(
                db.execute(
                    "SELECT email, attendee FROM people WHERE event_id = ? AND kept_until = ?",
                    (event_id, kept),
                ).fetchall()
            )
            if not people:
                return  # rewritten or widened meanwhile: the next query looks again
            _add_spans(db, event_id, people, spans)
            db.execute("UPDATE people SET kept_until = ? WHERE event_id = ?", (until, event_id))

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # One connection per thread; sqlite's own locks order writers across processes.
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _forget(db: sqlite3.Connection, event_id: str) -> None:
    db.execute("DELETE FROM events WHERE id = ?", (event_id,))
    db.execute("DELETE FROM people WHERE event_id = ?", (event_id,))
    db.execute("DELETE FROM spans WHERE event_id = ?", (event_id,))


def _add_spans(
    db: sqlite3.Connection,
    event_id: str,
    people: Mapping[str, int],
    spans: list[tuple[datetime, datetime]],
) -> None:
    rows = [(e, _ts(s), _ts(t), event_id) for s, t in spans for e in people]
    db.executemany("INSERT INTO spans VALUES (?, ?, ?, ?)", rows)
    longest = max((_ts(t) - _ts(s) for s, t in spans), default=0)
    if longest > _longest(db):
        db.execute("INSERT OR REPLACE INTO meta VALUES ('longest', ?)", (str(longest),))


def _longest(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'longest'").fetchone()
    return int(row[0]) if row else 0


def _expand(cal: VCalendar, low: datetime, high: datetime) -> list[tuple[datetime, datetime]]:
    return [(_utc(o.start), _utc(o.end)) for o in recurring_ical_events.of(cal).between(low, high)]


def _utc(value: date) -> datetime:
    if not isinstance(value, datetime):  # all-day: the service never writes these
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _dt(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)
