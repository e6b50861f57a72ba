"""The nav's count of reviews due: does it cost the same with 100 reviews as with 50,000?

Every page a PM or Operations opens counts their reviews waiting for a decision and how
many are overdue (`reviews.count_due`, one aggregate over the (state, pm_email, deadline)
index). This fills a migrated SQLite database with N reviews spread over 50 PMs (most of
them decided, as in an agency after a few years), then times the count for one PM and for
Operations (every PM), and prints SQLite's plan for the PM's count.

Goal (issue 13 item 11): flat cost, the count at 50,000 reviews within 2x of the count at
100, and under 5 ms. Usage:

    .venv/bin/python bench/review_badge.py [--sizes 100,5000,50000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from service.store import reviews as repo  # noqa: E402
from service.store.db import Database, migrate  # noqa: E402
from service.store.review_models import ReviewRow  # noqa: E402

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
STATES = ["approved"] * 8 + ["changes_requested", "open"]  # a tenth still open


def fill(db: Database, n: int) -> None:
    rows = []
    for i in range(n):
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "file_id": f"f{i}",
                "revision": 1,
                "name": f"SOW {i}.pdf",
                "kind": "sow",
                "folder_id": "contracts",
                "state": STATES[i % len(STATES)],
                "pm_email": f"pm{i % 50}@agency.example",
                "deadline": NOW + timedelta(hours=(i % 200) - 100),
                "arrived_at": NOW - timedelta(days=2),
            }
        )
    with db.transaction() as session:
        for start in range(0, n, 5000):
            session.execute(insert(ReviewRow), rows[start : start + 5000])


def timed(db: Database, pm: str | None, repeat: int = 200) -> float:
    samples = []
    for _ in range(repeat):
        with db.transaction() as session:
            started = time.perf_counter()
            repo.count_due(session, pm_email=pm, now=NOW)
            samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,5000,50000")
    args = parser.parse_args()
    for n in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            engine = create_engine(url)
            migrate(engine)
            db = Database(engine)
            fill(db, n)
            pm_ms, ops_ms = timed(db, "pm7@agency.example"), timed(db, None)
            print(f"{n:>7} reviews: one PM's count {pm_ms:.3f} ms, Operations' {ops_ms:.3f} ms")
            if n == max(int(s) for s in args.sizes.split(",")):
                with engine.connect() as c:
                    plan = c.execute(
                        text(
                            "EXPLAIN QUERY PLAN SELECT count(*) FROM contract_reviews "
                            "WHERE state IN ('routing','open') AND pm_email = 'x'"
                        )
                    ).fetchall()
                print("plan:", "; ".join(str(row[-1]) for row in plan))
            engine.dispose()


if __name__ == "__main__":
    main()
