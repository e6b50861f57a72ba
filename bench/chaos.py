"""Chaos bench: the service under Google faults, a killed worker and unreliable push.

Runs tests/chaos/scenario.py with numbers bigger than the test's and prints the figures:
handovers submitted over HTTP to the web app (TASK_QUEUE=database) and run by a
`handover worker` process that is SIGKILLed --kills times and restarted, on the Google
backend against the loopback Google answering --error-rate of requests with 429/5xx and
resetting --reset-rate of connections; then --drafts contract drafts uploaded into the
accounts' Contracts folders with --drop of Drive's notifications dropped, --duplicate
duplicated and all delayed up to --shuffle seconds. Each figure block ends with what the
fake holds twice (files, permissions, events, emails) and how often each draft was
routed.

Usage:

    .venv/bin/python bench/chaos.py [--handovers 500] [--clients 100] [--drafts 5000]
        [--kills 3] [--error-rate 0.2] [--reset-rate 0.05] [--drop 0.3] [--duplicate 0.2]
        [--latency 0.0] [--database-url URL]

Without --database-url it uses PostgreSQL at TEST_POSTGRES_URL's server in a fresh
schema if that variable is set, else a SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.chaos.scenario import Chaos, ChaosPlan, fake_totals  # noqa: E402
from tests.conftest import fresh_schema  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--handovers", type=int, default=500)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--drafts", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--error-rate", type=float, default=0.20)
    parser.add_argument("--reset-rate", type=float, default=0.05)
    parser.add_argument("--drop", type=float, default=0.30)
    parser.add_argument("--duplicate", type=float, default=0.20)
    parser.add_argument("--shuffle", type=float, default=2.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--worker-threads", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    plan = ChaosPlan(
        handovers=args.handovers,
        clients=args.clients,
        drafts=args.drafts,
        kills=args.kills,
        error_rate=args.error_rate,
        reset_rate=args.reset_rate,
        drop_rate=args.drop,
        duplicate_rate=args.duplicate,
        shuffle_seconds=args.shuffle,
        latency=args.latency,
        worker_threads=args.worker_threads,
        seed=args.seed,
        timeout=3600,
    )
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp, ExitStack() as stack:
        url = args.database_url or os.environ.get("TEST_POSTGRES_URL")
        if url and not args.database_url:
            url = stack.enter_context(fresh_schema(url, prefix="chaos_bench_"))
        return run(plan, Path(tmp), url or f"sqlite:///{Path(tmp) / 'handover.db'}")


def run(plan: ChaosPlan, workdir: Path, url: str) -> int:
    print(f"database: {url.split('?')[0]}{' (fresh schema)' if '?' in url else ''}")
    with Chaos(plan, workdir, url) as chaos:
        for name in ("service", "integrations", "werkzeug"):  # the figures, not the logs
            logging.getLogger(name).setLevel(logging.ERROR)
        print("1. handovers under Google faults and a killed worker")
        print(*chaos.run_handovers().lines(), sep="\n")
        twice_after_handovers = chaos.duplicates()
        print("  held twice by the fake:", summary(twice_after_handovers))
        print("  the fake holds:", fake_totals(chaos.fake))
        print("2. contract drafts under dropped, duplicated and shuffled notifications")
        print(*chaos.run_drafts().lines(), sep="\n")
        counts = chaos.routing_counts()
        for kind in ("reviews", "emails", "routed"):
            per_draft = Counter(counts[kind][f] for f in chaos.drafts)
            print(f"  drafts by number of {kind}: {dict(sorted(per_draft.items()))}")
        twice = chaos.duplicates()
        print("  held twice by the fake:", summary(twice))
        ok = not any(twice.values()) and all(
            set(counts[k][f] for f in chaos.drafts) == {1} for k in counts
        )
        crashes = chaos.fake.crashes
    print("fake crashes:", len(crashes))
    print(
        "RESULT:",
        "every handover done, every draft routed once, nothing twice"
        if ok and not crashes
        else "FAILED",
    )
    return 0 if ok and not crashes else 1


def summary(twice: dict[str, list[object]]) -> str:
    return ", ".join(f"{kind} {len(items)}" for kind, items in twice.items())


if __name__ == "__main__":
    sys.exit(main())
