"""Pages: do the home page, a handover's page, its live sections and the audit page cost the
same with 100 handovers as with thousands?

On the local backend (SQLite file), N handovers are stored as submitted (no step run: the
cheapest to make many), then one more is run whole (its folder, brief, meetings, history).
Each page is fetched `--rounds` times through the app (the dev user, an admin) at each size
and the median time printed. `/?q=nobody` matches nothing: the home page then reads its
most, PAGE_READ rows, before it offers the next page. The goal (issue 13): flat, each page's
median at the largest size within 1.5x of the smallest. Usage:

    .venv/bin/python bench/pages.py [--sizes 100,1000,3000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.demo import example_handover  # noqa: E402
from service.workflows import kickoff  # noqa: E402


class Held:
    """The Tasks port keeping every job: the handovers stay as submitted."""

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        pass


def median_ms(client: Any, url: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--profile", default="", help="at the largest size, profile this page")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="handover-pages-"))
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'handover.db'}",
        workspace_dir=tmp / "workspace",
        secret_key="bench-pages-secret-key",
        testing=True,
        inline_workers=1,
        dev_login_enabled=True,
    )
    app = create_app(settings)
    logging.disable(logging.WARNING)
    services = app.extensions["handover"]
    client = app.test_client()
    made = 0
    rows: list[tuple[int, dict[str, float]]] = []
    try:
        for size in sizes:
            while made < size:
                kickoff.submit_handover(
                    example_handover(f"Client {made:05d}"), idempotency_key=None,
                    actor="sam@agency.example", db=services.db, tasks=Held(),
                )  # fmt: skip
                made += 1
            one = kickoff.submit_handover(
                example_handover(f"Whole {size}"), idempotency_key=None,
                actor="sam@agency.example", db=services.db, tasks=services.tasks,
            ).handover_id  # fmt: skip
            services.tasks.wait_idle(timeout=120)
            made += 1
            urls = {
                "home": "/",
                "home, no match": "/?q=nobody",
                "handover": f"/handovers/{one}",
                "live sections": f"/handovers/{one}/live",
                "audit": "/admin/audit",
            }
            rows.append((made, {k: median_ms(client, u, args.rounds) for k, u in urls.items()}))
            print(f"{made:>6} handovers: " + ", ".join(
                f"{k} {v:.1f} ms" for k, v in rows[-1][1].items()), flush=True)  # fmt: skip
        if args.profile:
            import cProfile
            import pstats

            with cProfile.Profile() as profile:
                median_ms(client, urls[args.profile], args.rounds)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    first, last = rows[0][1], rows[-1][1]
    print("largest / smallest: " + ", ".join(f"{k} {last[k] / first[k]:.2f}x" for k in first))


if __name__ == "__main__":
    main()
