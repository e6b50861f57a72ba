"""Use cases of the handover kickoff: submit, advance the steps, reassign, retry, sweep.

A handover is stored with all its steps pending before anything happens outside; the
queue then runs `advance_handover`, which claims one step at a time (a lease in the
database, so two workers never run the same step) and records the outcome.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from integrations.ports import Tasks
from service.domain.access import EVERYWHERE, named_on
from service.domain.changes import describe_changes
from service.domain.model import Handover, Person, account_key
from service.schema import FieldError, HandoverIn, InvalidHandover, validate_handover
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import HandoverRow
from service.workflows.context import StepContext, StepFailed
from service.workflows.meeting_steps import MEETING_STEPS
from service.workflows.steps import ACCOUNT_STEPS, STEP_NAMES, run_step

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
TRANSIENT_ATTEMPTS = 5  # a step failing transiently runs this often before it is left failed
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Submitted:
    handover_id: str
    created: bool


class KeyReused(ValueError):
    """The idempotency key was used before, by this caller, with another body."""


class NotAllowed(PermissionError):
    """The actor's role may not make this change (a PM changed by Sales...)."""


def scoped_key(idempotency_key: str, actor: str) -> str:
    """Return the stored form of a caller's key: one caller's key never finds another's."""
    digest = hashlib.sha256(f"{actor.lower()}\0{idempotency_key}".encode()).hexdigest()
    return f"k:{digest}"


def body_fingerprint(payload: dict[str, Any]) -> str:
    """Return a fingerprint of a validated handover body (key order and spacing aside)."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def submit_handover(
    data: dict[str, Any],
    *,
    idempotency_key: str | None,
    actor: str,
    db: Database,
    tasks: Tasks,
    actor_role: str | None = None,
    allowed_domain: str | None = None,
) -> Submitted:
    """Validate and store a handover with its steps, then queue the work.

    The same idempotency key (of the same actor) with the same body returns the first
    handover and changes nothing; with another body it raises KeyReused. A handover for an
    existing account by someone not on it (`actor_role` given and not Operations or admin)
    is stored waiting for Operations before it touches the account (`confirm_account`).
    `actor_role` None is a trusted caller (the CLI on the server).
    """
    parsed, handover = validate_handover(data, allowed_domain=allowed_domain)
    payload = parsed.model_dump(mode="json")
    fingerprint = body_fingerprint(payload)
    key = scoped_key(idempotency_key, actor) if idempotency_key else None
    with db.transaction() as session:
        if key and (found := repo.find_by_key(session, key)):
            return _same_body(found, fingerprint, idempotency_key or "")
        handover_id = uuid.uuid4().hex
        account = account_key(handover.client)
        pending = actor_role is not None and not _on_the_account(
            session, account, actor, actor_role
        )
        row = repo.add_handover(
            session,
            handover_id=handover_id,
            idempotency_key=key,
            account_key=account,
            client_name=handover.client.name,
            project_name=handover.project.name,
            payload=payload,
            submitted_by=actor,
            step_names=STEP_NAMES,
        )
        if row is None:  # lost a race with the same key
            found = repo.find_by_key(session, key or "")
            assert found is not None
            return _same_body(found, fingerprint, idempotency_key or "")
        row.idempotency_body = fingerprint
        # The handbook: Operations assigns the PM first; the meetings wait for one.
        row.pm_needed_since = row.created_at if handover.project_manager is None else None
        repo.record(
            session,
            actor=actor,
            action="handover.submitted",
            subject=handover_id,
            client=handover.client.name,
            project=handover.project.name,
        )
        if pending:
            row.account_pending_since = row.created_at
            repo.record(
                session,
                actor="service",
                action="handover.account_pending",
                subject=handover_id,
                client=handover.client.name,
                note=f"Operations must confirm this project joins {handover.client.name}'s "
                "account: it was submitted by someone not on the account",
            )
    log.info("handover stored", extra={"handover_id": handover_id})
    queue_advance(tasks, handover_id)
    if handover.project_manager is None:
        queue_pm_needed(tasks, handover_id)
    return Submitted(handover_id, created=True)


def _same_body(found: Any, fingerprint: str, key: str) -> Submitted:
    if found.idempotency_body not in (None, fingerprint):
        raise KeyReused(
            f"The Idempotency-Key {key[:40]!r} was already used for another handover: "
            "send a new key for a new handover."
        )
    return Submitted(found.id, created=False)


def _on_the_account(session: Any, account: str, actor: str, role: str) -> bool:
    """Return whether the actor may add a project to the account without Operations: it is a
    new account, or they are its AM, or a PM or Sales of one of its running projects."""
    if role in EVERYWHERE:
        return True
    rows = [r for r in repo.account_handovers(session, account) if r.account_pending_since is None]
    if not rows:
        return not repo.account_exists(session, account)
    me = actor.strip().lower()
    for row in rows:
        named = named_on(row.payload)
        if me in named["account_manager"]:
            return True
        if row.cancelled_at is None and (me in named["project_manager"] or me in named["sales"]):
            return True
    return False


def confirm_account(
    handover_id: str, *, actor: str, db: Database, tasks: Tasks, clock: Clock
) -> bool:
    """Let a waiting handover join its account (Operations' choice): the account's folder
    is shared and its syncs updated now. Return False if it was not waiting."""
    with db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        if row is None:
            raise LookupError(f"no handover {handover_id}")
        if row.account_pending_since is None:
            return False
        row.account_pending_since = None
        repo.reset_steps(session, handover_id, ACCOUNT_STEPS, now=clock())
        repo.record(
            session,
            actor=actor,
            action="handover.account_confirmed",
            subject=handover_id,
            client=row.client_name,
        )
    queue_advance(tasks, handover_id)
    return True


def queue_pm_needed(tasks: Tasks, handover_id: str) -> None:
    """Ask the queue to tell Operations that this handover needs a PM."""
    tasks.enqueue("pm_needed", {"handover_id": handover_id}, key=f"pm-needed-{handover_id}")


def queue_advance(tasks: Tasks, handover_id: str) -> None:
    """Ask the queue to run the handover's next steps."""
    tasks.enqueue("advance_handover", {"handover_id": handover_id}, key=f"advance-{handover_id}")


def load_handover(payload: dict[str, Any]) -> Handover:
    """Return the domain handover from its stored payload."""
    return HandoverIn.model_validate(payload).to_domain()


def advance_handover(
    handover_id: str, *, db: Database, ctx: StepContext, clock: Clock, lease: timedelta = LEASE
) -> str:
    """Run the handover's pending steps in order; return the handover's status after.

    Each step is claimed for `lease` (LEASE_SECONDS): a worker that dies mid-step leaves it
    `running`, and another worker takes it over once the lease has passed.
    """
    while True:
        with db.transaction() as session:
            row = repo.get_handover(session, handover_id)
            if row is None:
                raise LookupError(f"no handover {handover_id}")
            if row.cancelled_at is not None:
                return "cancelled"
            step = next((s for s in row.steps if s.state != "done"), None)
            if step is None:
                return "done"
            if step.state == "failed":
                return "failed"
            if step.name in MEETING_STEPS and not row.payload.get("project_manager"):
                return "waiting"  # for Operations to assign the PM: no meeting before
            if not repo.claim_step(session, step.id, now=clock(), lease=lease):
                return "running"  # another worker holds it
            step_id, name, generation = step.id, step.name, step.generation
            # This run's number among the runs since the step last started afresh.
            attempt, payload = step.transient_failures + 1, dict(row.payload)
        log.info("step %s started", name, extra={"handover_id": handover_id, "step": name})
        try:
            run_step(name, handover_id, load_handover(payload), ctx=ctx, db=db)
        except StepFailed as exc:
            if exc.transient and attempt < TRANSIENT_ATTEMPTS:
                step_ref = (step_id, generation, name)
                _postpone(handover_id, step_ref, exc, attempt, db=db, now=clock(), lease=lease)
                return "postponed"
            with db.transaction() as session:
                repo.fail_step(session, step_id, error=str(exc), now=clock(), generation=generation)
                repo.record(
                    session,
                    actor="service",
                    action="step.failed",
                    subject=handover_id,
                    step=name,
                    error=str(exc),
                )
            log.warning(
                "step %s failed: %s", name, exc, extra={"handover_id": handover_id, "step": name}
            )
            return "failed"
        with db.transaction() as session:
            repo.finish_step(session, step_id, generation=generation, now=clock())
            repo.record(
                session, actor="service", action="step.done", subject=handover_id, step=name
            )
        log.info("step %s done", name, extra={"handover_id": handover_id, "step": name})


def _postpone(
    handover_id: str,
    step: tuple[int, int, str],
    exc: StepFailed,
    attempt: int,
    *,
    db: Database,
    now: datetime,
    lease: timedelta,
) -> None:
    """Leave a transiently failed step pending for `lease`, when its job comes back."""
    step_id, generation, name = step
    until = now + lease
    with db.transaction() as session:
        repo.postpone_step(
            session,
            step_id,
            error=f"will try again: {exc}",
            now=now,
            until=until,
            generation=generation,
        )
        repo.record(
            session,
            actor="service",
            action="step.postponed",
            subject=handover_id,
            step=name,
            attempt=attempt,
            until=until.isoformat(timespec="seconds"),
            error=str(exc),
        )
    log.warning(
        "step %s put off until %s after attempt %d: %s",
        name,
        until.isoformat(timespec="seconds"),
        attempt,
        exc,
        extra={"handover_id": handover_id, "step": name},
    )


def _pm_email(payload: dict[str, Any]) -> str:
    pm = payload.get("project_manager")
    return str(pm.get("email") or "").lower() if isinstance(pm, dict) else ""


def assign_project_manager(
    handover_id: str,
    pm: Person,
    *,
    actor: str,
    db: Database,
    tasks: Tasks,
    clock: Clock,
    actor_role: str | None = None,
    allowed_domain: str | None = None,
) -> None:
    """Set or change the PM; the brief is written again into the same document."""
    with db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        if row is None:
            raise LookupError(f"no handover {handover_id}")
        payload = dict(row.payload)
    payload["project_manager"] = {
        "name": pm.name,
        "email": pm.email,
        "timezone": pm.timezone,
        "country": pm.country,
    }
    update_handover(
        handover_id,
        payload,
        actor=actor,
        db=db,
        tasks=tasks,
        clock=clock,
        action="handover.pm_assigned",
        actor_role=actor_role,
        allowed_domain=allowed_domain,
    )


def update_handover(
    handover_id: str,
    data: dict[str, Any],
    *,
    actor: str,
    db: Database,
    tasks: Tasks,
    clock: Clock,
    action: str = "handover.changed",
    actor_role: str | None = None,
    allowed_domain: str | None = None,
) -> None:
    """Replace a handover's data; the brief, shares and the same meetings follow the change.

    Meetings keep the times already sent; only attendees change, and the account's syncs
    are planned anew when the cadence changed. The client's account cannot change. Only
    Operations and admins (or a trusted caller, `actor_role` None) may set or change the
    PM: NotAllowed otherwise.
    """
    parsed, handover = validate_handover(data, allowed_domain=allowed_domain)
    with db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        if row is None:
            raise LookupError(f"no handover {handover_id}")
        check_change(row, parsed, handover, actor_role=actor_role)
        before = row.payload
        row.payload = parsed.model_dump(mode="json")
        row.client_name, row.project_name = handover.client.name, handover.project.name
        repo.reset_steps(session, handover_id, STEP_NAMES[1:], now=clock())
        changed = sorted(k for k in row.payload if row.payload.get(k) != before.get(k))
        pm_now = _pm_email(row.payload) if _pm_email(row.payload) != _pm_email(before) else None
        repo.record(
            session, actor=actor, action=action, subject=handover_id, changed=changed,
            **({"pm": pm_now} if pm_now else {}),
        )  # fmt: skip
        newly_waiting = handover.project_manager is None and row.pm_needed_since is None
        if handover.project_manager is None:
            row.pm_needed_since = row.pm_needed_since or clock()
        else:
            row.pm_needed_since = None
        told = change_notice(before, row.payload, actor=actor)
    queue_advance(tasks, handover_id)
    if newly_waiting:
        queue_pm_needed(tasks, handover_id)
    if told is not None:
        tasks.enqueue("tell_changes", {"handover_id": handover_id, **told}, key=told["key"])


def check_change(
    row: HandoverRow, parsed: HandoverIn, handover: Handover, *, actor_role: str | None
) -> None:
    """Raise InvalidHandover or NotAllowed if this valid input may not replace the stored one:
    a cancelled handover, a PM changed by someone not of Operations, another client account."""
    if row.cancelled_at is not None:
        raise InvalidHandover(
            [FieldError("body", "This handover was cancelled: it can no longer be changed.")]
        )
    pm_changed = _pm_email(parsed.model_dump(mode="json")) != _pm_email(row.payload)
    if pm_changed and actor_role is not None and actor_role not in EVERYWHERE:
        raise NotAllowed("Only Operations may assign or change the Project Manager.")
    if account_key(handover.client) != row.account_key:
        raise InvalidHandover(
            [
                FieldError(
                    "client.domain",
                    f"Keep the email domain {row.account_key}: for another client, kick off "
                    "a new handover.",
                )
            ]
        )


def change_notice(
    before: dict[str, Any], after: dict[str, Any], *, actor: str
) -> dict[str, str] | None:
    """Return the payload of the job that tells people about a change (None: nothing to tell)."""
    if describe_changes(before, after) == ([], [], []):
        return None
    text = json.dumps({"before": before, "after": after}, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return {"before": json.dumps(before), "actor": actor, "key": f"changes-{digest}"}


def cancel_handover(
    handover_id: str, *, actor: str, db: Database, tasks: Tasks, clock: Clock
) -> None:
    """Stop a handover and cancel its meetings (the account's syncs stay if others use them)."""
    with db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        if row is None:
            raise LookupError(f"no handover {handover_id}")
        if row.cancelled_at is None:
            row.cancelled_at = clock()
            repo.record(session, actor=actor, action="handover.cancelled", subject=handover_id)
    tasks.enqueue("cancel_meetings", {"handover_id": handover_id}, key=f"cancel-{handover_id}")


def retry_handover(
    handover_id: str, *, actor: str, db: Database, tasks: Tasks, clock: Clock
) -> int:
    """Set the failed steps back to pending and queue the work; return how many."""
    with db.transaction() as session:
        count = repo.reset_steps(session, handover_id, (), now=clock())
        if count:
            repo.record(session, actor=actor, action="handover.retried", subject=handover_id)
    if count:
        queue_advance(tasks, handover_id)
    return count


def sweep(
    *, db: Database, tasks: Tasks, clock: Clock, idle: timedelta = timedelta(minutes=2)
) -> list[str]:
    """Queue again every handover whose steps were left pending or running by a crash."""
    with db.transaction() as session:
        stuck = repo.handovers_needing_work(
            session, now=clock(), idle=idle, waiting_for_pm=MEETING_STEPS
        )
    for handover_id in stuck:
        queue_advance(tasks, handover_id)
    if stuck:
        log.info("sweep re-queued %d handovers", len(stuck))
    return stuck


def handover_status(states: list[str], *, cancelled: bool = False) -> str:
    """Return the handover's status from its steps' states."""
    if cancelled:
        return "cancelled"
    if any(s == "failed" for s in states):
        return "failed"
    if all(s == "done" for s in states):
        return "done"
    if any(s in {"running", "done"} for s in states):
        return "running"
    return "pending"
