"""What each sync asks of the reviews goes through indexes, not through every review.

The statements the lookups send are caught with SQLAlchemy's cursor event and explained
by SQLite: none may read the whole `contract_reviews` table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from service.store import reviews as repo
from service.store.db import Database, make_engine, migrate


def plans_of(database: Database, lookup: Any) -> list[str]:
    """Run the lookup; return SQLite's plan of each SELECT it sent."""
    sent: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, params))

    event.listen(database.engine, "before_cursor_execute", catch)
    try:
        with database.transaction() as session:
            lookup(session)
    finally:
        event.remove(database.engine, "before_cursor_execute", catch)
    plans = []
    with database.engine.connect() as conn:
        for statement, params in sent:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).fetchall()
            plans.append(" / ".join(str(r[-1]) for r in rows))
    return plans


def test_the_reviews_a_sync_queues_are_found_through_indexes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'handover.db'}")
    migrate(engine)
    database = Database(engine)
    now = datetime(2026, 12, 4, tzinfo=UTC)
    plans = plans_of(
        database,
        lambda s: repo.reviews_to_route_now(s, [], now=now, stale=timedelta(minutes=5)),
    )
    plans += plans_of(database, repo.reviews_needing_work)
    reading_all = [p for p in plans if "SCAN contract_reviews" in p]
    assert plans and reading_all == []  # today: one OR over every review
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM contract_reviews")).scalar() == 0
    engine.dispose()
