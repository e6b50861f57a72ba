"""Submit latency: N POST /api/handovers against gunicorn on the local backend.

Starts the real service (gunicorn, like `bin/serve`) in a temp directory, sends N
handovers with C concurrent clients, and prints p50/p95/p99 of the submit and the time
until every handover's steps are done. Usage:

    .venv/bin/python bench/submit_latency.py [--count 100] [--concurrency 1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.demo import example_handover  # noqa: E402
from tests.conftest import free_port  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def service_env(tmp: Path, port: int, database_url: str, **extra: str) -> dict[str, str]:
    """Return the service's environment for a bench: files in tmp, served on port."""
    return {
        **os.environ,
        "WORKSPACE_DIR": str(tmp / "workspace"),
        "DATABASE_URL": database_url,
        "API_TOKENS": TOKEN,
        "ALLOWED_DOMAIN": "agency.example",
        "SECRET_KEY": "bench-secret-0123456789abcdef-0123456789",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_FORMAT": "json",
        **extra,
    }


def start_gunicorn(
    port: int,
    env: dict[str, str],
    *,
    workers: int,
    threads: int = 8,
    stdout: Any = None,
    stderr: Any = None,
) -> subprocess.Popen[bytes]:
    """Start the service under gunicorn on 127.0.0.1:port, like `bin/serve`."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--log-level", "warning"]
    return subprocess.Popen(
        [*command, "service:create_app()"], cwd=ROOT, env=env, stdout=stdout, stderr=stderr
    )


def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Wait until GET base/healthz answers; raise if the server exits or never answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}) before it was healthy")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base}/healthz did not answer within {timeout:g} s")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="handover-bench-"))
    port = free_port()
    env = service_env(tmp, port, args.database_url or f"sqlite:///{tmp / 'bench.db'}")
    server = start_gunicorn(port, env, workers=args.workers, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        session_per_thread: dict[int, requests.Session] = {}

        def submit(n: int) -> tuple[float, str]:
            import threading

            s = session_per_thread.setdefault(threading.get_ident(), requests.Session())
            body = example_handover(f"Client {n:04d}")
            started = time.perf_counter()
            answer = s.post(f"{base}/api/handovers", json=body, headers=headers, timeout=30)
            elapsed = time.perf_counter() - started
            assert answer.status_code == 202, answer.text
            return elapsed, answer.json()["id"]

        wall = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(submit, range(args.count)))
        submit_wall = time.perf_counter() - wall
        ids = [i for _, i in results]
        pending = set(ids)
        while pending and time.perf_counter() - wall < 300:
            for hid in list(pending):
                status = requests.get(
                    f"{base}/api/handovers/{hid}", headers=headers, timeout=10
                ).json()["status"]
                if status in {"done", "failed"}:
                    pending.discard(hid)
                    if status == "failed":
                        print(f"handover {hid} failed", file=sys.stderr)
            time.sleep(0.2)
        done_wall = time.perf_counter() - wall
        ms = [t * 1000 for t, _ in results]
        print(
            f"submits: {args.count}, concurrency: {args.concurrency}, gunicorn workers: {args.workers}, "
            f"database: {'postgresql' if 'postgres' in env['DATABASE_URL'] else 'sqlite'}"
        )
        print(
            f"submit latency ms: p50 {percentile(ms, 0.5):.1f}  p95 {percentile(ms, 0.95):.1f}  "
            f"p99 {percentile(ms, 0.99):.1f}  mean {statistics.mean(ms):.1f}  max {max(ms):.1f}"
        )
        print(
            f"throughput: {args.count / submit_wall:.1f} submits/s; all steps done after {done_wall:.1f} s"
            f"{'' if not pending else f' ({len(pending)} not finished)'}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
