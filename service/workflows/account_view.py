"""How an account looks from outside: the API's JSON, which the page shows too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.domain import account_rhythm as rules
from service.domain.business_days import zone
from service.domain.contracts import OPEN, format_deadline
from service.links import absolute
from service.store import account_items as repo
from service.store import handovers as handover_repo
from service.workflows.account_items import RhythmContext, item_json, people_of
from service.workflows.agendas import EXECUTIVE, INTERNAL, due_at, next_sync
from service.workflows.kickoff import handover_status


def account_json(ctx: RhythmContext, key: str) -> dict[str, Any]:
    """Return the account with its projects, people, syncs, reviews, items and health.
    LookupError: no such account."""
    people = people_of(ctx, key)
    now = ctx.clock()
    zone_name = ctx.settings.agency_timezone
    base = ctx.settings.public_base_url
    syncs: list[dict[str, Any]] = []
    for kind in (INTERNAL, EXECUTIVE):
        occurrence = next_sync(ctx, key, kind, now)
        if occurrence is None:
            continue
        due = due_at(ctx, key, occurrence)
        syncs.append(
            {"kind": kind, "starts_at": occurrence.start.isoformat(), "timezone":
             occurrence.timezone, "agenda_due_at": due.isoformat(),
             "when": rules.moment_in_words(occurrence.start, occurrence.timezone),
             "agenda_due_when": rules.moment_in_words(due, occurrence.timezone),
             "original_start": occurrence.original.isoformat()}
        )  # fmt: skip
    with ctx.db.transaction() as session:
        account = repo.account(session, key)
        if account is None:
            raise LookupError(key)
        handovers = repo.handovers_of(session, key)
        rows = repo.items(session, key)
        stories = repo.history(session, [r.id for r in rows])
        items = [item_json(r, stories[r.id]) for r in rows]
        reviews = repo.reviews_of(session, key)
        made = {
            (a.meeting_kind, a.occurrence_start.isoformat()): a for a in repo.agendas(session, key)
        }
        for sync in syncs:
            found = made.get((sync["kind"], sync["original_start"]))
            sync["agenda_url"] = (
                absolute(found.document_url, base) if found and found.document_url else None
            )
        agendas = [
            {"meeting": a.meeting_kind, "sync_starts_at": a.starts_at.isoformat(),
             "document_url": absolute(a.document_url, base) or None,
             "emailed": a.emailed_at is not None}
            for a in made.values()
        ]  # fmt: skip
        template = repo.template(session, key)
        health = [
            {"sync_on": h.sync_on.isoformat(), "answers": dict(h.answers),
             "answered_by": h.answered_by}
            for h in repo.health(session, key)
        ]  # fmt: skip
        history = [
            {"at": a.at.isoformat(), "by": a.actor, "action": a.action}
            for a in handover_repo.audit_trail(session, key, limit=100)
        ]
        projects = [
            {
                "id": h.id,
                "name": h.project_name,
                "status": handover_status(
                    [s.state for s in h.steps], cancelled=h.cancelled_at is not None
                ),
                "page_url": f"{base}/handovers/{h.id}",
                "project_manager": h.payload.get("project_manager"),
                "sync_cadence": (h.payload.get("project") or {}).get("sync_cadence"),
            }
            for h in handovers
        ]
        review_views = [
            {"id": r.id, "name": r.name, "state": r.state, "kind": r.kind,
             "deadline": r.deadline.isoformat() if r.deadline else None,
             # The day and time as the PM reads them, in the PM's zone.
             "due_on": _local(r.deadline, r.pm_timezone or zone_name).date().isoformat()
             if r.deadline else None,
             "deadline_text": format_deadline(r.deadline, r.pm_timezone or zone_name)
             if r.deadline else None,
             "page_url": f"{base}/reviews/{r.id}", "project_manager": r.pm_email}
            for r in reviews
        ]  # fmt: skip
        client_name, folder_id = account.client_name, account.folder_id
    by_kind = {k: [i for i in items if i["kind"] == k] for k in rules.KINDS}
    # The handbook: contract reviews are the PM's to do, so they show among the tasks.
    review_tasks: list[dict[str, Any]] = [
        {"id": r["id"], "kind": "contract_review", "summary": f"Review the contract draft "
         f"{r['name']}", "owner": r["project_manager"], "due_on": r["due_on"],
         "state": "open", "state_text": "waiting for the PM", "open": True,
         "page_url": r["page_url"], "history": []}
        for r in review_views if r["state"] == OPEN
    ]  # fmt: skip
    points = rules.health_points(
        [{"sync_on": h["sync_on"], "answers": h["answers"]} for h in health]
    )
    return {
        "id": key,
        "client": client_name,
        "folder_id": folder_id,
        "page_url": ctx.url(key),
        "projects": projects,
        "people": {
            "account_managers": [{"email": e, "name": people.name(e)} for e in sorted(people.ams)],
            "project_managers": [{"email": e, "name": people.name(e)} for e in sorted(people.pms)],
        },
        "next_syncs": syncs,
        "contract_reviews": review_views,
        "opportunities": by_kind["opportunity"],
        "escalations": by_kind["escalation"],
        "tasks": by_kind["task"] + review_tasks,
        "notes": by_kind["note"],
        "health": [dict(h, score=score) for h, (_, score) in zip(health, points, strict=True)],
        "agendas": agendas,
        "agenda_template": list(template.questions) if template else list(rules.DEFAULT_QUESTIONS),
        "history": history,
    }


def _local(at: datetime, tz: str) -> datetime:
    """Return the instant at the zone's wall time (a naive one is UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone(tz))
