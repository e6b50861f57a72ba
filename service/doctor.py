"""`handover doctor`: check settings, database, queue and Google; say what will fail and why."""

from __future__ import annotations

from collections.abc import Mapping

from integrations.google.doctor import Finding
from service.config import Settings, SettingsError


def diagnose_all(environ: Mapping[str, str]) -> list[Finding]:
    """Run every check the settings call for; nothing is changed anywhere."""
    try:
        settings = Settings.from_env(environ)
    except SettingsError as error:
        return [Finding("settings", False, str(error))]
    findings = [Finding("settings", True, _summary(settings))]
    findings.append(_database(settings))
    findings.append(_queue(settings))
    if settings.is_local:
        findings.append(
            Finding("google", True, "WORKSPACE_BACKEND=local: nothing at Google to check")
        )
    else:
        from integrations.google.doctor import diagnose

        findings += diagnose(
            auth=settings.google_auth,
            impersonate=settings.google_impersonate,
            endpoint=settings.google_api_endpoint,
            clients_folder=settings.drive_clients_folder,
            account=settings.google_service_account,
        )
    return findings


def _summary(settings: Settings) -> str:
    where = "App Engine" if settings.on_app_engine else "this machine"
    return f"backend {settings.workspace_backend}, queue {settings.task_queue}, on {where}"


def _database(settings: Settings) -> Finding:
    from sqlalchemy.exc import SQLAlchemyError

    from service.store.db import make_engine, ping

    url = settings.database_url
    try:
        engine = make_engine(url)
        try:
            answer = ping(engine)
        finally:
            engine.dispose()
    except (SQLAlchemyError, ValueError, OSError) as error:
        hint = ""
        if "/cloudsql/" in url:
            hint = (
                " On App Engine the socket /cloudsql/PROJECT:REGION:INSTANCE appears only when "
                "the app's service account has roles/cloudsql.client and the instance "
                "connection name in DATABASE_URL is exact."
            )
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return Finding("database", False, f"cannot connect to DATABASE_URL: {first_line}.{hint}")
    assert answer == 1
    return Finding("database", True, f"{engine.dialect.name} database answers")


def _queue(settings: Settings) -> Finding:
    queue = settings.task_queue
    if queue == "inline":
        if settings.on_app_engine:
            message = (
                "TASK_QUEUE=inline on App Engine runs jobs inside web instances, which App "
                "Engine stops at will: set TASK_QUEUE=cloud-tasks:projects/P/locations/L/queues/Q"
            )
            return Finding("queue", False, message)
        return Finding("queue", True, "jobs run inside the web process (TASK_QUEUE=inline)")
    if queue == "database":
        return Finding("queue", True, "jobs wait in the database: run `handover worker` too")
    from google.api_core.exceptions import GoogleAPICallError, RetryError

    from integrations.tasks.cloud_tasks import CloudTasks, make_client, queue_path

    try:
        queue_path(queue)
    except ValueError as error:
        return Finding("queue", False, str(error))
    try:
        tasks = CloudTasks(make_client(settings.cloud_tasks_endpoint), queue)
    except Exception as error:  # no credentials: google.auth raises its own errors
        return Finding("queue", False, f"cannot make a Cloud Tasks client: {error}")
    try:
        return Finding("queue", True, tasks.check())
    except (GoogleAPICallError, RetryError) as error:
        return Finding(
            "queue",
            False,
            f"Cloud Tasks refused {tasks.queue}: {error}. Create it (gcloud tasks queues create, "
            "or deploy queue.yaml) and give the app's service account roles/cloudtasks.enqueuer.",
        )
    finally:
        tasks.close()
