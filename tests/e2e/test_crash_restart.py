"""Issue 12, findings 6 and 8 on a real server: the service run as `bin/serve` runs it
(gunicorn, the in-process queue, the redacting access log), SIGKILLed mid-handover and
started again, finishes the handover by itself; its access log never holds a feed secret."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from service.demo import example_handover
from tests.conftest import EXAMPLE_TEAM, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "serve-token-0123456789abcdef"  # noqa: S105 - a test value


def _env(tmp: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "WORKSPACE_DIR": str(tmp / "workspace"),
        "DATABASE_URL": f"sqlite:///{tmp / 'handover.db'}",
        "API_TOKENS": f"{TOKEN}:operations",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TASK_QUEUE": "inline",
        "LEASE_SECONDS": "2",
        "DEV_LOGIN": "1",
    }


@contextmanager
def serve(tmp: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run the service as bin/serve does (gunicorn, access log, redacting logger)."""
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--threads", "8", "--access-logfile", str(log),
        "--logger-class", "service.access_log.RedactingLogger", "service:create_app()",
    ]
    with open(tmp / "server.err", "ab") as err:
        server = subprocess.Popen(  # noqa: S603 - our own server
            command, cwd=ROOT, env=_env(tmp, port), stderr=err, start_new_session=True
        )
    try:
        wait_until(lambda: _healthy(port, server), timeout=60, interval=0.1)
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _healthy(port: int, server: subprocess.Popen[bytes]) -> bool:
    assert server.poll() is None, "the server exited"
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def _state(port: int, handover_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"http://127.0.0.1:{port}/api/handovers/{handover_id}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    return dict(answer.json())


def test_nothing_is_left_behind_by_a_crash_sigkilled_serve_finishes_after_restart(
    tmp_path: Path,
) -> None:
    port, log = free_port(), tmp_path / "access.log"
    drive = tmp_path / "workspace" / "drive"
    with serve(tmp_path, port, log) as server:
        drive.mkdir(parents=True, exist_ok=True)
        # Hold the local drive's lock: the first step starts, then waits inside it.
        with open(drive / ".index.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            answer = requests.post(
                f"http://127.0.0.1:{port}/api/handovers",
                json=example_handover("Acme Corp"),
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=10,
            )
            assert answer.status_code == 202, answer.text
            handover_id = answer.json()["id"]
            wait_until(lambda: _state(port, handover_id)["steps"][0]["state"] == "running")
            os.killpg(server.pid, signal.SIGKILL)  # mid-step: no shutdown, queue lost
            server.wait(timeout=30)
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert not (drive / "Acme Corp").exists()

    with serve(tmp_path, port, log):  # started again; nobody runs any command
        wait_until(lambda: _state(port, handover_id)["status"] == "done", timeout=60)
        final = _state(port, handover_id)

    assert [s["state"] for s in final["steps"]] == ["done"] * len(final["steps"])
    assert sorted(p.name for p in drive.iterdir() if not p.name.startswith(".")) == ["Acme Corp"]
    briefs = [p.name for p in (drive / "Acme Corp").iterdir() if p.suffix == ".html"]
    assert briefs == ["Project Brief - Acme Corp Commerce Platform.html"]
    outbox = tmp_path / "workspace" / "outbox"
    told = sorted(
        "".join(lines).removeprefix("To: ")
        for lines in (
            [line for line in p.read_text(errors="replace").splitlines() if line.startswith("To: ")]
            for p in outbox.glob("*.eml")
            if "Subject: Handover: Acme Corp Commerce Platform" in p.read_text(errors="replace")
        )
    )
    assert told == EXAMPLE_TEAM  # each person's email once, across the crash


def test_calendar_feed_tokens_are_kept_out_of_access_logs(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "access.log"
    secret = "feedsecret0123456789abcdefABCDEF"
    with serve(tmp_path, port, log):
        answer = requests.get(f"http://127.0.0.1:{port}/calendar/{secret}.ics", timeout=10)
        assert answer.status_code == 404
        wait_until(lambda: "/calendar/" in log.read_text())
        time.sleep(0.2)

    written = log.read_text()
    assert "/calendar/….ics" in written
    assert secret not in written
