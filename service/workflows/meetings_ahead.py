"""The meetings alongside the kickoff steps (the whole handover's critical path).

The meetings need neither the shares nor the email: once a PM is known, the planning and
the invitations start when the kickoff does, on helper threads, and the internal
invitations of different organisers go out side by side. Each is recorded exactly as its
own step records it, so the meeting steps that follow find the work done and call nothing;
a failure is only logged, and the step it belongs to does the work again and reports it.

Only on a Drive that reserves ids (Google): the brief's address, which the invitations
carry, is known from its reserved id before the brief exists.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from integrations.ports import DriveIds
from service.domain.model import Handover
from service.domain.planning_model import ONE_OFF_KINDS, SYNC_KINDS
from service.store.db import Database
from service.workflows.context import StepContext
from service.workflows.drive_steps import guarded, planned_id

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pools: dict[str, ThreadPoolExecutor] = {}
_running: dict[str, Future[None]] = {}
_planned: set[str] = set()  # handovers whose plan the helper stored in this process
_planning: dict[str, threading.Event] = {}  # set once the helper's planning is over


def _pool(name: str, workers: int) -> ThreadPoolExecutor:
    """Return a helper pool kept for the process (its threads keep their API clients).

    Two pools: a planning task waits on its sends, so they must not share one pool.
    """
    with _lock:
        if name not in _pools:
            _pools[name] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        return _pools[name]


def start(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Start planning and sending the meetings beside the kickoff, when they may start."""
    drive = ctx.drive
    if (
        ctx.calendar is None
        or h.project_manager is None  # the PM comes first: the meetings wait for one
        or not isinstance(drive, DriveIds)
        or ctx.settings.brief_template_doc_id  # the brief's id is known only once copied
    ):
        return
    # Reserved here, before the brief's own helper starts: both use the same id.
    planned_id(db, handover_id, "brief", drive)
    work = guarded(lambda: _plan_and_send(handover_id, h, ctx, db), "meetings", handover_id)
    pool = _pool("meetings-ahead", 4)
    with _lock:
        if handover_id in _running:
            return
        _planning[handover_id] = threading.Event()
        _running[handover_id] = pool.submit(work)


def wait_planned(handover_id: str, timeout: float = 30.0) -> bool:
    """Wait until the planning started beside the kickoff is over (stored or failed);
    return False when none was started for this handover."""
    with _lock:
        over = _planning.get(handover_id)
    if over is None:
        return False
    over.wait(timeout)
    return True


def wait(handover_id: str) -> bool:
    """Wait for the meetings started beside the kickoff of this handover, if any; return
    True when they planned the meetings (from the handover as this run read it)."""
    with _lock:
        future = _running.pop(handover_id, None)
        _planning.pop(handover_id, None)
    if future is None:
        return False
    future.result()
    with _lock:
        planned = handover_id in _planned
        _planned.discard(handover_id)
    return planned


def _plan_and_send(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Plan, then send every meeting (propose the client's) side by side."""
    from service.workflows.meeting_steps import plan_meetings, send_one, send_sync

    try:
        plan_meetings(handover_id, h, ctx, db)
        with _lock:
            _planned.add(handover_id)
    finally:
        with _lock:
            over = _planning.get(handover_id)
        if over is not None:
            over.set()  # the brief, waiting for the dates, goes on
    sends: list[Callable[[], None]] = [
        _bind(send_one, handover_id, h, ctx, db, kind.value) for kind in ONE_OFF_KINDS
    ]
    sends += [_bind(send_sync, handover_id, h, ctx, db, kind.value) for kind in SYNC_KINDS]
    pool = _pool("meetings-send", 8)
    futures = [pool.submit(guarded(s, "a meeting", handover_id)) for s in sends]
    for future in futures:
        future.result()


def _bind(
    send: Callable[[str, Handover, StepContext, Database, str], None],
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    db: Database,
    kind: str,
) -> Callable[[], None]:
    return lambda: send(handover_id, h, ctx, db, kind)
