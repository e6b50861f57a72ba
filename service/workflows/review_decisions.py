"""After a contract review's decision: tell the AM and whoever uploaded the draft, once.

The email's key is the review, the decision and its comment: a double submit, a retry of
the job or two workers at once send one message; a changed mind (another decision or
another comment) is a new decision and is told again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from integrations.ports import Email
from service.domain import contracts as rules
from service.domain import review_notice as notice
from service.store import handovers as audit
from service.store import reviews as repo
from service.store.db import Database
from service.store.review_models import ReviewRow
from service.workflows.review_routing import ReviewContext

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def told_of(review: ReviewRow, allowed_domain: str | None) -> notice.Told:
    """Return who hears of the review's decision, and what was not said to whom."""
    am = (review.am_name or "", review.am_email) if review.am_email else None
    uploader = (
        (review.uploaded_by_name or "", review.uploaded_by) if review.uploaded_by else None
    )
    internal = rules.internal_domains(allowed_domain, review.am_email, review.pm_email)
    return notice.decision_told(am=am, uploader=uploader, internal=internal)


def decision_key(review: ReviewRow) -> str:
    """Return the email key of the review's current decision."""
    digest = hashlib.sha256((review.comment or "").encode("utf-8")).hexdigest()[:16]
    return f"review:{review.id}:decided:{review.state}:{digest}"


def tell_decision(
    review_id: str,
    *,
    db: Database,
    ctx: ReviewContext,
    clock: Clock,
    allowed_domain: str | None,
) -> notice.Told:
    """Email the decision to the AM and the agency uploader (once per decision); return
    who was told."""
    with db.transaction() as session:
        review = repo.get_review(session, review_id)
        if review is None:
            raise LookupError(f"no review {review_id}")
        if review.state not in rules.DECISIONS:
            return notice.Told((), ())
        told = told_of(review, allowed_domain)
        email = _email(review, told, ctx) if told.people else None
    if email is not None:
        ctx.mail.send(email)
    with db.transaction() as session:
        row = repo.get_review(session, review_id)
        if row is not None and row.decided_at == review.decided_at:
            row.decision_told_at = clock()
            audit.record(
                session,
                actor="service",
                action="review.decision_told",
                subject=review_id,
                to=[p[2] for p in told.people],
            )
    return told


def _email(review: ReviewRow, told: notice.Told, ctx: ReviewContext) -> Email:
    decider = review.decided_by or ""
    if review.pm_email and decider.lower() == review.pm_email.lower() and review.pm_name:
        decider = review.pm_name
    tz = review.pm_timezone or ctx.agency_timezone
    message = ctx.renderer.email(
        "review_decided",
        file_name=review.name,
        file_url=review.web_url,
        client=review.client_name or "an unknown client",
        project=review.project_name,
        decision=notice.decision_words(review.state),
        approved=review.state == rules.APPROVED,
        comment=review.comment,
        decider=decider or "The Project Manager",
        pm_name=review.pm_name,
        deadline=rules.format_deadline(review.deadline, tz) if review.deadline else "now",
        review_url=f"{ctx.public_base_url}/reviews/{review.id}",
        roles=" and ".join(dict.fromkeys(role for role, _n, _e in told.people)),
    )
    return Email(
        key=decision_key(review),
        to=tuple(dict.fromkeys(email for _r, _n, email in told.people)),
        subject=message.subject,
        text=message.text,
        html=message.html,
    )
