"""What App Engine relies on: cron routes, warmup, the deploy files, Cloud SQL URLs, doctor."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import text

from service.cli import main as cli
from service.store.db import make_engine
from service.web.tasks import CRON_JOBS
from tests.conftest import TASKS_SECRET, postgres_url

ROOT = Path(__file__).resolve().parents[2]


def test_cron_runs_each_periodic_job_for_the_platform_only(client: Any) -> None:
    for job in sorted(CRON_JOBS - {"renew_channels"}):
        assert client.get(f"/tasks/cron/{job}").status_code == 403
        assert client.get(f"/tasks/cron/{job}", headers={"X-Appengine-Cron": "true"}).status_code == 403
        answer = client.get(f"/tasks/cron/{job}", headers={"X-Tasks-Secret": TASKS_SECRET})
        assert answer.status_code == 200 and answer.get_json() == {"ok": True, "job": job}
    assert client.get("/tasks/cron/advance_handover", headers={"X-Tasks-Secret": TASKS_SECRET}).status_code == 404


def test_on_app_engine_the_cron_header_is_believed(app: Any, client: Any) -> None:
    services = app.extensions["handover"]
    services.settings = replace(services.settings, on_app_engine=True)
    answer = client.get("/tasks/cron/sweep", headers={"X-Appengine-Cron": "true"})
    assert answer.status_code == 200


def test_warmup_answers_200(client: Any) -> None:
    assert client.get("/_ah/warmup").status_code == 200


def test_cron_yaml_names_only_routes_that_exist() -> None:
    jobs = yaml.safe_load((ROOT / "cron.yaml").read_text())["cron"]
    urls = {job["url"] for job in jobs}
    assert urls == {f"/tasks/cron/{name}" for name in CRON_JOBS}
    for job in jobs:
        assert re.fullmatch(r"every \d+ (minutes|hours)", job["schedule"]), job


def test_queue_yaml_limits_the_rate_and_retries() -> None:
    [queue] = yaml.safe_load((ROOT / "queue.yaml").read_text())["queue"]
    number, unit = queue["rate"].split("/")
    per_minute = float(number) * {"s": 60, "m": 1, "h": 1 / 60}[unit]
    assert per_minute * 15 <= 600, "Calendar: 600 requests/min/user, ~15 per handover"
    assert per_minute * 1 <= 60, "Docs: 60 writes/min/user, 1 per handover"
    assert queue["retry_parameters"]["task_age_limit"]


def test_app_yaml_runs_gunicorn_with_workers_warmup_and_no_secrets() -> None:
    config = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert config["runtime"] == "python312"
    assert re.search(r"gunicorn .*--workers [2-9].*--threads \d+ .*service:create_app\(\)", config["entrypoint"])
    assert "warmup" in config["inbound_services"]
    assert config["includes"] == ["secret_env.yaml"]
    for name in ("SECRET_KEY", "API_TOKENS", "DATABASE_URL", "TASKS_SECRET"):
        assert name not in config["env_variables"]
    assert "secret_env.yaml" in (ROOT / ".gcloudignore").read_text().splitlines()


def test_cloud_sql_socket_urls_reach_psycopg_whole() -> None:
    url = "postgresql://handover:p%40ss%2Fw0rd@/handover?host=/cloudsql/acme-prod:europe-west1:handover-db"
    engine = make_engine(url)
    _args, kwargs = engine.dialect.create_connect_args(engine.url)
    assert engine.dialect.driver == "psycopg"
    assert (kwargs["host"], kwargs["dbname"], kwargs["user"], kwargs["password"]) == (
        "/cloudsql/acme-prod:europe-west1:handover-db",
        "handover",
        "handover",
        "p@ss/w0rd",
    )


@pytest.mark.postgres
def test_a_socket_directory_named_like_cloud_sql_connects() -> None:
    """App Engine mounts /cloudsql/PROJECT:REGION:INSTANCE/.s.PGSQL.5432: colons and all."""
    if postgres_url() is None:
        pytest.skip("TEST_POSTGRES_URL is not set")
    socket = Path("/var/run/postgresql/.s.PGSQL.5432")
    if not socket.exists():
        pytest.skip("the local PostgreSQL has no Unix socket here")
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="cs") as short:  # sockets: 107 bytes
        mount = Path(short) / "acme-prod:europe-west1:handover-db"
        mount.mkdir()
        (mount / ".s.PGSQL.5432").symlink_to(socket)
        engine = make_engine(f"postgresql://postgres@/test?host={mount}")
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT inet_server_addr() IS NULL")).scalar()
        finally:
            engine.dispose()


def doctor(env: dict[str, str], tmp_path: Path) -> Any:
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "WORKSPACE_DIR": str(tmp_path / "ws")}
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "TASK_", "GAE_"))}
    return CliRunner().invoke(cli, ["doctor"], env={**keep, **base, **env}, catch_exceptions=False)


def test_doctor_passes_on_the_local_backend(tmp_path: Path) -> None:
    result = doctor({"WORKSPACE_BACKEND": "local", "TASK_QUEUE": "inline"}, tmp_path)
    assert result.exit_code == 0, result.output
    assert "ok    database: sqlite database answers" in result.output
    assert result.output.strip().endswith("all checks passed")


def test_doctor_says_what_will_fail_and_exits_1(tmp_path: Path) -> None:
    result = doctor(
        {
            "DATABASE_URL": "postgresql://handover:x@/handover?host=/cloudsql/acme:europe-west1:nope",
            "TASK_QUEUE": "cloud-tasks:projects/acme",
        },
        tmp_path,
    )
    assert result.exit_code == 1
    assert "FAIL  database: cannot connect to DATABASE_URL" in result.output
    assert "roles/cloudsql.client" in result.output
    assert "FAIL  queue: TASK_QUEUE must look like cloud-tasks:projects/P/locations/L/queues/Q" in result.output
    assert "2 problem(s): database, queue" in result.output


def test_doctor_refuses_bad_settings_in_words(tmp_path: Path) -> None:
    result = doctor({"WORKSPACE_BACKEND": "gogle"}, tmp_path)
    assert result.exit_code == 1
    assert "FAIL  settings: WORKSPACE_BACKEND must be local or google" in result.output


def test_doctor_checks_google_through_the_fake(tmp_path: Path, fake_google: Any) -> None:
    result = doctor(
        {
            "WORKSPACE_BACKEND": "google",
            "GOOGLE_AUTH": "anonymous",
            "GOOGLE_API_ENDPOINT": fake_google.url,
            "GOOGLE_IMPERSONATE": "handover@agency.example",
        },
        tmp_path,
    )
    checks = re.findall(r"^(ok  |FAIL)  ([a-z ]+):", result.output, re.M)
    assert [c for _ok, c in checks] == [
        "settings", "database", "queue", "credentials", "impersonation", "scopes",
        "drive folder", "gmail", "calendar",
    ], result.output
    assert result.exit_code == (0 if all(ok == "ok  " for ok, _c in checks) else 1)
