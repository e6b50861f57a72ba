"""Endpoints the queue and cron call: run a job, sweep stuck steps.

Trusted only when the caller proves it is the platform: on App Engine the
`X-AppEngine-QueueName` / `X-Appengine-Cron` headers (App Engine strips them from
outside requests); elsewhere a shared secret in `X-Tasks-Secret`. Everything else: 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, jsonify, request

from integrations.ports import RetryLater
from service.jobs import JOBS, run_job
from service.jobs import sweep as sweep_all
from service.store.db import ping
from service.web import services as _services

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
appengine_bp = Blueprint("appengine", __name__, url_prefix="/_ah")
# Jobs cron may start (cron.yaml): App Engine cron sends GET with X-Appengine-Cron: true.
CRON_JOBS = frozenset(
    {"sync_drive", "renew_channels", "sweep", "review_reminders", "extend_syncs"}
    | {"sync_agendas", "account_reminders"}
    | {"pm_reminders", "meeting_reminders", "follow_meetings"}
)
F = TypeVar("F", bound=Callable[..., Any])



def trusted_caller() -> bool:
    """Return True when the request comes from the platform's queue or cron."""
    settings = _services().settings
    if settings.on_app_engine and (
        request.headers.get("X-AppEngine-QueueName") or request.headers.get("X-Appengine-Cron")
    ):
        return True
    secret = settings.tasks_secret
    if not secret:
        return False
    given = request.headers.get("X-Tasks-Secret", "")
    return hmac.compare_digest(secret.encode(), given.encode())


def platform_only(view: F) -> F:
    """Refuse every caller that is not the queue or cron."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not trusted_caller():
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.post("/run/<job>")
@platform_only
def run(job: str) -> Response:
    """Run one queued job with its JSON payload."""
    if job not in JOBS:
        abort(404)
    payload = request.get_json(silent=True) or {}
    if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
        abort(400)
    try:
        run_job(_services(), job, payload)
    except RetryLater as later:
        # Not a failure: a task for then is queued, and this one ends well (an App Engine
        # target answering 5xx would also make Cloud Tasks throttle the whole queue).
        again = "-".join([f"later-{job}", *(f"{k}={v}" for k, v in sorted(payload.items()))])
        _services().tasks.enqueue(job, payload, key=again[:200], delay_seconds=later.seconds)
        return jsonify({"ok": True, "again_in_seconds": later.seconds, "why": str(later)})
    return jsonify({"ok": True})


@bp.route("/sweep", methods=["GET", "POST"])
@platform_only
def sweep() -> Response:
    """Queue again the handovers and draft routings a crash left behind (cron)."""
    stuck, reviews = sweep_all(_services())
    return jsonify({"requeued": stuck, "reviews_requeued": reviews})


@bp.get("/cron/<job>")
@platform_only
def cron(job: str) -> Response:
    """Run one periodic job now, in this request (App Engine cron sends GET)."""
    if job not in CRON_JOBS:
        abort(404)
    run_job(_services(), job, {})
    return jsonify({"ok": True, "job": job})


@appengine_bp.get("/warmup")
def warmup() -> tuple[str, int]:
    """Open a database connection before App Engine sends the instance real traffic, and
    make sure a Drive push channel is open (the queued job opens one when none is)."""
    services = _services()
    ping(services.db.engine)
    if not services.settings.is_local:
        services.tasks.enqueue("renew_channels", {}, key="renew_channels:start")
    return "", 200
