"""The contract reviews' badges: the count due in the nav, and each review's "Due today"
or "Overdue by 2 business days" (service/domain/review_notice.py says them in words)."""

from __future__ import annotations

import logging
from typing import Any

from flask import g
from sqlalchemy.exc import SQLAlchemyError

from service.domain import review_notice as notice
from service.domain.access import EVERYWHERE, PROJECT_MANAGER
from service.store import reviews as repo
from service.store.review_models import ReviewRow
from service.web import services as _services

log = logging.getLogger(__name__)


def due_counts() -> tuple[int, int] | None:
    """Return the viewer's reviews waiting for their decision and how many are overdue
    (one count query): a PM's own, everyone's for Operations and admins; None for the
    others, who decide none."""
    user = getattr(g, "user", None)
    if user is None or user.role not in (*EVERYWHERE, PROJECT_MANAGER):
        return None
    s = _services()
    try:
        with s.db.transaction() as session:
            mine = None if user.role in EVERYWHERE else user.email
            return repo.count_due(session, pm_email=mine, now=s.clock())
    except SQLAlchemyError:  # an error page while the database is away still renders
        log.warning("could not count the reviews due", exc_info=True)
        return None


def nav_badge() -> dict[str, Any]:
    """Give every page the nav's count of reviews due (counted only if the page asks)."""
    return {"review_badge": due_counts}


def with_badges(rows: list[ReviewRow], reviews: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add each review's due badge (in the PM's zone and country) to its page dict."""
    s = _services()
    now = s.clock()
    for row, review in zip(rows, reviews, strict=True):
        tz = row.pm_timezone or s.settings.agency_timezone
        country = row.pm_country or s.settings.business_country
        review["due_badge"] = notice.due_badge(row.state, row.deadline, now, tz, country)
    return reviews
