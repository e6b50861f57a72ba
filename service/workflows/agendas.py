"""The agenda of every account sync: what is on it, when it is made, and making it.

Before each Internal Account Sync occurrence (`AGENDA_LEAD_BUSINESS_DAYS`, one business day
by default, counted in `BUSINESS_COUNTRY`: a sync the day after a holiday gets its agenda
the business day before that holiday, at the sync's own time of day) the `sync_agendas`
cron job writes a document into the client folder (Drive: a Google Doc; locally HTML),
links it from that occurrence's description, and emails it to the AM and PM. The
Executive Sponsor Sync's agenda is made the same way, from the items the AM marked after
the internal sync, with the status of each project. Each step is recorded on the agenda
row (document id, described_at, emailed_at), and each outside effect is keyed (the
document by `appProperties`, the email by `agenda:<account>:<kind>:<occurrence>`), so a
repeated run finishes what an earlier one left and makes nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from integrations.ports import DescribesOccurrences, Email
from service.domain import account_rhythm as rules
from service.domain.business_days import add_business_days, localize, zone
from service.domain.contracts import OPEN
from service.domain.email_words import greeting
from service.domain.planning_model import MeetingKind
from service.domain.recurrence import occurrences
from service.links import absolute
from service.store import account_items as repo
from service.store import handovers as handover_repo
from service.workflows.account_items import RhythmContext, item_json, people_of
from service.workflows.kickoff import handover_status
from service.workflows.meetings import series_from_json

log = logging.getLogger(__name__)

INTERNAL = MeetingKind.INTERNAL_ACCOUNT_SYNC.value
EXECUTIVE = MeetingKind.EXECUTIVE_SPONSOR_SYNC.value
TITLES = {INTERNAL: "Internal Account Sync", EXECUTIVE: "Executive Sponsor Sync"}
CHANGE_WORDS = {
    "handover.submitted": "New project handed over",
    "handover.changed": "Project changed",
    "handover.updated": "Project changed",
    "handover.pm_assigned": "Project Manager assigned",
    "handover.cancelled": "Project cancelled",
}


@dataclass(frozen=True)
class SyncOccurrence:
    """One occurrence of an account's sync series."""

    kind: str
    series_id: str
    original: datetime  # the rule's instant, UTC (Google names the instance by it)
    start: datetime  # when it really starts (a moved occurrence elsewhere), UTC
    timezone: str
    moved: bool
    end: datetime
    calendar: str = ""  # whose calendar holds the series ("": the service user's)

    @property
    def moved_id(self) -> str:
        """Return the id of the single event a moved occurrence was made as."""
        local = self.original.astimezone(zone(self.timezone))
        return f"{self.series_id}{local:%Y%m%d}"


def _series(ctx: RhythmContext, key: str, kind: str) -> tuple[str, dict[str, Any]] | None:
    """Return the account's newest sent series of this kind: (event id, stored data)."""
    with ctx.db.transaction() as session:
        return repo.newest_series(session, key, kind)


def sync_occurrences(
    ctx: RhythmContext, key: str, kind: str, *, since: datetime, until: datetime
) -> list[SyncOccurrence]:
    """Return the occurrences of the account's sync series starting in [since, until)."""
    found = _series(ctx, key, kind)
    if found is None:
        return []
    series_id, data = found
    spec = series_from_json(data)
    wide = since - timedelta(days=40)  # a moved occurrence may start days after its rule time
    return [
        SyncOccurrence(
            kind, series_id, o.original, o.start, spec.timezone, o.moved, o.start + spec.duration,
            str(data.get("calendar") or ""),
        )
        for o in occurrences(spec, since=wide, until=until + timedelta(days=40))
        if since <= o.start < until
    ]


def next_sync(ctx: RhythmContext, key: str, kind: str, now: datetime) -> SyncOccurrence | None:
    """Return the account's next occurrence of the sync (starting after now), if any."""
    ahead = sync_occurrences(ctx, key, kind, since=now, until=now + timedelta(days=200))
    return ahead[0] if ahead else None


def previous_sync(ctx: RhythmContext, key: str, kind: str, before: datetime) -> datetime | None:
    """Return when the account's last sync of the kind before `before` started, if any."""
    behind = sync_occurrences(ctx, key, kind, since=before - timedelta(days=200), until=before)
    return behind[-1].start if behind else None


def agenda_due(occurrence: SyncOccurrence, *, lead: int, country: str) -> datetime:
    """Return when the occurrence's agenda is due: `lead` business days before, same time."""
    local = occurrence.start.astimezone(zone(occurrence.timezone))
    day = add_business_days(local.date(), -lead, country)
    return localize(datetime.combine(day, local.time()), occurrence.timezone)


def due_at(ctx: RhythmContext, key: str, occurrence: SyncOccurrence) -> datetime:
    """Return when the occurrence's agenda is made: `AGENDA_LEAD_BUSINESS_DAYS` before it;
    an Executive Sponsor Sync's not before the internal sync ahead of it has ended (the AM
    marks its items there)."""
    due = agenda_due(
        occurrence,
        lead=ctx.settings.agenda_lead_business_days,
        country=ctx.settings.business_country,
    )
    if occurrence.kind == EXECUTIVE:
        internal = sync_occurrences(
            ctx, key, INTERNAL, since=occurrence.start - timedelta(days=60), until=occurrence.start
        )
        if internal:
            due = max(due, internal[-1].end)
    return due


# --- what is on it ----------------------------------------------------------------------


def _entry(kind: str, summary: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "summary": summary, "owner": None, "due_on": None, **more}


def agenda_items(
    ctx: RhythmContext, key: str, occurrence: SyncOccurrence | None, now: datetime
) -> list[dict[str, Any]]:
    """Return what goes on the agenda of this occurrence (the internal sync by default)."""
    kind = occurrence.kind if occurrence else INTERNAL
    at = occurrence.start if occurrence else now
    since = previous_sync(ctx, key, INTERNAL, at if kind == INTERNAL else now)
    with ctx.db.transaction() as session:
        account = repo.account(session, key)
        assert account is not None
        since = since or account.created_at
        template = repo.template(session, key)
        handovers = repo.handovers_of(session, key)
        rows = repo.agenda_rows(
            session, key, since=since, marked_for=occurrence.original if occurrence else None
        )
        changes = repo.changes_since(session, [h.id for h in handovers], since)
        reviews = repo.reviews_of(session, key)
        projects = {h.id: h.project_name for h in handovers}
        status = [
            (h.project_name, handover_status(
                [s.state for s in h.steps], cancelled=h.cancelled_at is not None),
             (h.payload.get("project_manager") or {}).get("name", "to be assigned"))
            for h in (handovers if kind == EXECUTIVE else [])
        ]  # fmt: skip
        views = [item_json(r, []) for r in rows]
        marked = [
            item_json(r, []) for r in rows
            if occurrence is not None and r.for_executive_at == occurrence.original
        ]  # fmt: skip
        review_views: list[dict[str, Any]] = [
            {"id": r.id, "name": r.name, "state": r.state, "pm": r.pm_email,
             "due": r.deadline.astimezone(zone(r.pm_timezone or ctx.settings.agency_timezone))
             .date().isoformat() if r.deadline else None,
             "decided_at": r.decided_at}
            for r in reviews
        ]  # fmt: skip
    if kind == EXECUTIVE:
        out = [_entry("project_status", f"{name}: {state}", owner=pm) for name, state, pm in status]
        out += [
            _entry(v["kind"], v["summary"], owner=v["owner"], due_on=v["due_on"], id=v["id"],
                   state=v["state"])
            for v in marked
        ]  # fmt: skip
        return out
    questions = template.questions if template else list(rules.DEFAULT_QUESTIONS)
    out = [_entry("question", q) for q in questions]
    for line in changes:
        if line.action in CHANGE_WORDS:
            what = CHANGE_WORDS[line.action]
            fields = ", ".join(str(f).replace("_", " ") for f in line.detail.get("changed", []))
            out.append(
                _entry("change", f"{what}: {projects.get(line.subject, '')}"
                       + (f" ({fields})" if fields else ""), at=line.at.isoformat())
            )  # fmt: skip
    for v in views:
        recent = v["created_at"] >= since.isoformat()
        if v["kind"] == "note" and not recent:
            continue
        if v["kind"] != "note" and not v["open"]:
            continue
        more = {"id": v["id"], "state": v["state"], "by": v["raised_by"]}
        if v["kind"] == "opportunity":
            more["urgent"] = v["urgent"]
        if v["kind"] == "escalation":
            more["severity"] = v["severity"]
        if v["kind"] == "note":
            more["held_on"], more["attendees"] = v["held_on"], v["attendees"]
        out.append(_entry(v["kind"], v["summary"], owner=v["owner"], due_on=v["due_on"], **more))
    for r in review_views:
        decided = r["decided_at"]
        if r["state"] == OPEN or (isinstance(decided, datetime) and decided >= since):
            out.append(
                _entry("contract_review", str(r["name"]), owner=r["pm"], due_on=r["due"],
                       id=r["id"], state=r["state"])
            )  # fmt: skip
    return _ordered(out)


_ORDER = ("question", "change", "escalation", "opportunity", "note", "contract_review", "task")


def _ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: _ORDER.index(i["kind"]) if i["kind"] in _ORDER else 99)


def agenda_json(ctx: RhythmContext, key: str, kind: str = INTERNAL) -> dict[str, Any]:
    """Return the next sync's agenda as the API shows it (made or still to be made)."""
    now = ctx.clock()
    occurrence = next_sync(ctx, key, kind, now)
    document_url = None
    if occurrence is not None:
        with ctx.db.transaction() as session:
            row = repo.agenda(session, key, kind, occurrence.original)
            if row and row.document_url:
                document_url = absolute(row.document_url, ctx.settings.public_base_url)
    return {
        "meeting": kind,
        "sync_starts_at": occurrence.start.isoformat() if occurrence else None,
        "sync_when": (
            rules.moment_in_words(occurrence.start, occurrence.timezone) if occurrence else None
        ),
        "due_at": due_at(ctx, key, occurrence).isoformat() if occurrence else None,
        "document_url": document_url,
        "items": agenda_items(ctx, key, occurrence, now),
    }


# --- making it --------------------------------------------------------------------------


def make_due_agendas(*, ctx: RhythmContext) -> list[str]:
    """Make every agenda that is due and not made (cron); return what was made or finished."""
    now = ctx.clock()
    done: list[str] = []
    with ctx.db.transaction() as session:
        keys = repo.account_keys_with_syncs(session)
    for key in keys:
        for kind in (INTERNAL, EXECUTIVE):
            occurrence = next_sync(ctx, key, kind, now)
            if occurrence is None:
                continue
            try:
                if now >= due_at(ctx, key, occurrence) and make_agenda(key, occurrence, ctx=ctx):
                    done.append(f"{key}:{kind}:{occurrence.original.isoformat()}")
            except Exception:  # noqa: BLE001 - one account's trouble must not stop the rest
                log.warning("the %s agenda of %s waits for the next run", kind, key,
                            exc_info=True)  # fmt: skip
    return done


def make_agenda(key: str, occurrence: SyncOccurrence, *, ctx: RhythmContext) -> bool:
    """Write the occurrence's agenda document, link it from the occurrence and email it;
    each once. Return True when something was done."""
    with ctx.db.transaction() as session:
        row = repo.ensure_agenda(session, key, occurrence.kind, occurrence.original,
                                 occurrence.start)  # fmt: skip
        agenda_id, made = row.id, list(row.items or [])
        complete = bool(row.document_id and row.described_at and row.emailed_at)
    # A made agenda is rewritten while its sync is ahead when what is on it changed (an item
    # logged or marked for the executive sync since); it is not sent again.
    if complete and agenda_items(ctx, key, occurrence, ctx.clock()) == made:
        return False
    now = ctx.clock()
    with ctx.db.transaction() as session:
        if not repo.claim_agenda(
            session, agenda_id, now=now, until=now + ctx.settings.lease
        ):
            return False  # another worker is making it
    try:
        return _make(key, occurrence, agenda_id, ctx=ctx)
    finally:
        with ctx.db.transaction() as session:
            repo.release_agenda(session, agenda_id)


def _describe(ctx: RhythmContext, occurrence: SyncOccurrence, description: str) -> None:
    """Put the text on top of the occurrence's description in the calendar."""
    assert isinstance(ctx.calendar, DescribesOccurrences)
    if occurrence.moved:
        ctx.calendar.describe_occurrence(
            occurrence.moved_id, None, description, calendar=occurrence.calendar
        )
    else:
        ctx.calendar.describe_occurrence(
            occurrence.series_id, occurrence.original, description, calendar=occurrence.calendar
        )


def _make(key: str, occurrence: SyncOccurrence, agenda_id: int, *, ctx: RhythmContext) -> bool:
    kind, stamp = occurrence.kind, f"{occurrence.original:%Y%m%dT%H%M%SZ}"
    with ctx.db.transaction() as session:
        row = repo.ensure_agenda(session, key, kind, occurrence.original, occurrence.start)
        document_id = row.document_id
        account = repo.account(session, key)
        assert account is not None
        folder_id, client = account.folder_id, account.client_name
        lost = account.folder_lost_at is not None
    if not folder_id or lost:
        # Never into the trash: the next handover of the client makes the folder again.
        log.warning("account %s has no folder (yet or any more): its agenda waits", key)
        return False
    people = people_of(ctx, key)
    items = agenda_items(ctx, key, occurrence, ctx.clock())
    local = occurrence.start.astimezone(zone(occurrence.timezone))
    when = rules.moment_in_words(occurrence.start, occurrence.timezone)
    title = f"{TITLES[kind]} agenda - {client} - {local:%Y-%m-%d}"
    html = ctx.renderer.document(
        "sync_agenda", title=title, client=client, when=when, meeting=TITLES[kind],
        items=_for_people(items), account_url=ctx.url(key), executive=kind == EXECUTIVE,
        people=[people.name(e) for e in sorted(people.ams | people.pms)],
    )  # fmt: skip
    doc = ctx.drive.write_document(
        title,
        html,
        parent_id=folder_id,
        properties={"accountKey": key, "kind": f"agenda-{kind}-{stamp}"},
        existing_id=document_id,
    )
    with ctx.db.transaction() as session:
        row = repo.ensure_agenda(session, key, kind, occurrence.original, occurrence.start)
        row.document_id, row.document_url, row.items = doc.id, doc.url, items
        described, emailed = row.described_at, row.emailed_at
        if described and emailed:
            handover_repo.record(
                session, actor="cron", action="agenda.updated", subject=key, meeting=kind,
                sync=occurrence.start.isoformat(), document=doc.id,
            )  # fmt: skip
    document_url = absolute(doc.url, ctx.settings.public_base_url)
    # The client's executive sponsor receives the Executive Sponsor Sync: its invitation
    # keeps the agenda it had and gets no link of ours (the document is in the agency's
    # drive, the account page is internal).
    if described is None and isinstance(ctx.calendar, DescribesOccurrences):
        if kind != EXECUTIVE:
            _describe(ctx, occurrence, (
                f"Agenda for this sync: {document_url}\n\nThe account, its opportunities, "
                f"escalations and tasks: {ctx.url(key)}\n"
            ))  # fmt: skip
        with ctx.db.transaction() as session:
            repo.ensure_agenda(session, key, kind, occurrence.original, occurrence.start)
            _stamp(session, agenda_id, "described_at", ctx.clock())
    if emailed is None:
        rendered = ctx.renderer.email(
            "sync_agenda", meeting=TITLES[kind], client=client, when=when,
            document_url=document_url,
            greeting=greeting(map(people.name, sorted(people.ams | people.pms))),
            items=_for_people(items), account_url=ctx.url(key),
        )  # fmt: skip
        ctx.mail.send(
            Email(
                key=f"agenda:{key}:{kind}:{stamp}",
                to=tuple(sorted(people.ams | people.pms)),
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
            )
        )
        with ctx.db.transaction() as session:
            _stamp(session, agenda_id, "emailed_at", ctx.clock())
            handover_repo.record(
                session, actor="cron", action="agenda.made", subject=key, meeting=kind,
                sync=occurrence.start.isoformat(), document=doc.id,
            )  # fmt: skip
    return True


def _for_people(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the agenda's items with their dates in words, for the document and email."""
    return [
        {**i, **{f"{name}_words": rules.day_in_words(date.fromisoformat(i[name]))
                 for name in ("due_on", "held_on") if i.get(name)}}
        for i in items
    ]  # fmt: skip


def _stamp(session: Any, agenda_id: int, column: str, now: datetime) -> None:
    from service.store.account_models import AgendaRow

    row = session.get(AgendaRow, agenda_id)
    if row is not None and getattr(row, column) is None:
        setattr(row, column, now)
