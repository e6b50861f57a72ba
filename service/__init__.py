"""The handover service: `create_app()` is the one place that wires everything."""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from integrations.tasks.inline import InlineTasks
from service import logs
from service.config import Settings, process_environment
from service.jobs import run_job
from service.rendering import Renderer
from service.store.db import Database, make_engine, migrate
from service.wiring import Services, build_workspace, review_policy

csrf = CSRFProtect()


def create_app(
    settings: Settings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    serving: bool = True,
) -> Flask:
    """Build the Flask app from settings (read from the environment when not given).

    `serving` False (the CLI's commands) starts no background sweeper.
    """
    if settings is None:
        settings = Settings.from_env(process_environment() if environ is None else environ)
    logs.configure(settings.log_format)

    app = Flask(__name__, template_folder="../templates/pages", static_folder=None)
    from service.web.json_body import BoundedJSONProvider

    app.json = BoundedJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        TESTING=settings.testing,
    )

    engine = make_engine(settings.database_url)
    migrate(engine)
    db = Database(engine)
    workspace = build_workspace(settings, db)
    services = Services(
        settings=settings,
        db=db,
        drive=workspace.drive,
        mail=workspace.mail,
        calendar=workspace.calendar,
        renderer=Renderer(),
    )
    services.tasks = _build_tasks(settings, services)
    services.change_feed, services.approvals = workspace.change_feed, workspace.approvals
    services.chat, services.review_policy = workspace.chat, review_policy(settings)
    services.closers.append(workspace.close)
    app.extensions["handover"] = services

    csrf.init_app(app)
    from service.web import api, calendar_feed, files, pages, tasks

    app.register_blueprint(pages.bp)
    from service.web import timewords

    timewords.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(tasks.appengine_bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(calendar_feed.bp)
    csrf.exempt(api.bp)
    csrf.exempt(tasks.bp)
    from service.web import hooks, reviews

    app.register_blueprint(hooks.bp)
    csrf.exempt(hooks.bp)

    app.register_blueprint(reviews.bp)
    app.register_blueprint(reviews.api_bp)
    csrf.exempt(reviews.api_bp)
    from service.web import review_upload

    app.register_blueprint(review_upload.bp)
    csrf.exempt(review_upload.upload)  # checks its token itself, after raising the size limit
    if settings.is_local and not settings.testing:
        _watch_local_drive(services)
    if settings.task_queue == "inline" and serving and not settings.testing:
        from service.sweeper import Sweeper

        sweeper = Sweeper(services, interval=settings.lease_seconds).start()
        services.closers.append(sweeper.close)
    if not settings.is_local and not settings.testing:
        _open_drive_channel(services)

    from service.web import audit, people, signin

    signin.init_app(app, settings)
    app.register_blueprint(audit.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(people.api_bp)
    csrf.exempt(people.api_bp)
    from service.web import accounts

    app.register_blueprint(accounts.bp)
    app.register_blueprint(accounts.api_bp)
    csrf.exempt(accounts.api_bp)

    from service.web.errors import register as register_errors

    register_errors(app)
    return app


def _build_tasks(settings: Settings, services: Services) -> Any:
    if settings.task_queue.startswith("cloud-tasks:"):
        from integrations.tasks.cloud_tasks import CloudTasks, make_client

        return CloudTasks(make_client(settings.cloud_tasks_endpoint), settings.task_queue)
    if settings.task_queue == "database":  # `handover worker` runs the jobs
        from service.worker import DatabaseTasks

        return DatabaseTasks(services.db, clock=lambda: services.clock())
    tasks = InlineTasks(
        lambda job, payload: run_job(services, job, payload), workers=settings.inline_workers
    )
    atexit.register(tasks.close)
    return tasks


def _open_drive_channel(services: Services) -> None:
    """Queue the job that opens a Drive push channel when none is open (and renews those
    about to expire): a new deployment watches Contracts folders with no operator step."""
    try:
        services.tasks.enqueue("renew_channels", {}, key="renew_channels:start")
    except Exception:  # the daily renewal cron and App Engine's warmup try again
        logging.getLogger(__name__).warning("could not queue the drive channel", exc_info=True)


def _watch_local_drive(services: Services) -> None:
    """Watch the local drive folder: a dropped contract draft queues a sync within seconds."""
    from integrations.local.watcher import LocalWatcher

    def sync() -> None:
        services.tasks.enqueue("sync_drive", {}, key="sync_drive")

    feed = services.change_feed
    # With the in-process queue the syncs run here: the local feed then looks at the paths
    # the watcher saw. A separate worker (database queue) walks the folder instead.
    note = getattr(feed, "note", None) if services.settings.task_queue == "inline" else None
    if note is not None:
        feed.watched()  # type: ignore[attr-defined]
    root = services.settings.workspace_dir / "drive"
    watcher = LocalWatcher(root, sync, on_paths=note).start()
    services.closers.append(watcher.stop)
    atexit.register(watcher.stop)
    sync()  # what arrived while the service was down
