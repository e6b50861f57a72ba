"""Outside effects of a contract review: the PM's access, the approval, the emails.

`route_review` is the job the sync queues per review; every effect is idempotent (the
share looks first, emails are keyed `review:<id>:<what>`, the approval id is stored), so
running it twice, or again after a crash, does nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from integrations.ports import ApprovalRequest, Approvals, Chat, Drive, Email, Grant, Mail
from service.domain import contracts as rules
from service.domain.business_days import review_deadline
from service.domain.email_words import deadline_words, greeting
from service.links import absolute
from service.rendering import Renderer
from service.store import handovers as audit
from service.store import reviews as repo
from service.store.db import Database
from service.store.review_models import ReviewRow
from service.workflows.public_errors import public_error
from service.workflows.review_opening import fill_people

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class ReviewContext:
    """What routing needs from outside: the ports and a few settings."""

    drive: Drive
    mail: Mail
    renderer: Renderer
    public_base_url: str
    agency_timezone: str = "America/New_York"
    business_country: str = "US"
    approvals: Approvals | None = None
    chat: Chat | None = None
    policy: rules.ReviewPolicy = field(default_factory=rules.ReviewPolicy)


def route_review(
    review_id: str, *, db: Database, ctx: ReviewContext, clock: Clock, lease: timedelta = LEASE
) -> str:
    """Give the PM access, start the approval, tell the PM; alert an outside share."""
    now = clock()
    with db.transaction() as session:
        claimed = repo.claim_routing(session, review_id, now=now, lease=lease)
        review = repo.get_review(session, review_id)
        if review is None:
            raise LookupError(f"no review {review_id}")
        if claimed and not review.pm_email:
            fill_people(session, review)
        if claimed and not review.pm_email:
            review.route_lease_until = None
            review.route_error = "the account has no Project Manager yet: Operations assigns one"
            claimed = False
        if claimed and review.routed_at is None:
            tz, country = _zone_of(review, ctx)
            review.routed_at, review.deadline = now, review_deadline(now, tz, country)
    outcome = "waiting" if review.state == rules.ROUTING else review.state
    if claimed:
        _route(review, db=db, ctx=ctx, clock=clock)
        outcome = "routed"
    _alert(review_id, db=db, ctx=ctx, clock=clock, lease=lease)
    return outcome


def _zone_of(review: ReviewRow, ctx: ReviewContext) -> tuple[str, str]:
    return review.pm_timezone or ctx.agency_timezone, review.pm_country or ctx.business_country


def _route(review: ReviewRow, *, db: Database, ctx: ReviewContext, clock: Clock) -> None:
    assert review.pm_email and review.deadline
    try:
        grant = Grant(review.pm_email, ctx.policy.share_role)
        ctx.drive.share(review.file_id, [grant], notify=False)
        approval_id = review.approval_id
        if approval_id is None and review.can_start_approval and ctx.approvals is not None:
            approval_id = ctx.approvals.start(
                ApprovalRequest(
                    review.file_id,
                    review.pm_email,
                    review.deadline,
                    f"Please review before {_deadline_text(review, ctx)}.",
                )
            )
            if approval_id:
                with db.transaction() as session:
                    _row(session, review.id).approval_id = approval_id
        review.approval_id = approval_id
        ctx.mail.send(_email(review, "review_requested", "requested", ctx))
        if ctx.chat is not None and review.chat_posted_at is None:
            ctx.chat.post(_chat_text(review, ctx), key=f"review:{review.id}:requested")
    except Exception as exc:
        with db.transaction() as session:
            row = _row(session, review.id)
            row.route_error, row.route_lease_until = public_error(exc), None
        raise
    with db.transaction() as session:
        row = _row(session, review.id)
        row.state = rules.after_routed(row.state)
        row.notified_at = row.notified_at or clock()
        row.chat_posted_at = row.chat_posted_at or (clock() if ctx.chat else None)
        row.route_lease_until, row.route_error = None, None
        audit.record(
            session,
            actor="service",
            action="review.routed",
            subject=review.id,
            pm=review.pm_email,
            deadline=review.deadline.isoformat(),
            approval=approval_id,
        )
        review.state = row.state


def _alert(
    review_id: str, *, db: Database, ctx: ReviewContext, clock: Clock, lease: timedelta = LEASE
) -> None:
    """Alert the AM and PM once to a share outside the agency, if one was flagged.

    Two jobs for one review can run side by side (a sync queues one while another runs),
    and the mail's look-then-send is not atomic: the alert is sent under the review's
    lease, taken only while it is flagged and not alerted yet.
    """
    now = clock()
    with db.transaction() as session:
        if not repo.claim_alert(session, review_id, now=now, lease=lease):
            return
        review = _row(session, review_id)
    try:
        ctx.mail.send(_email(review, "review_shared_outside", "shared_outside", ctx))
    except Exception:
        with db.transaction() as session:
            _row(session, review_id).route_lease_until = None
        raise
    with db.transaction() as session:
        row = _row(session, review_id)
        row.external_alerted_at, row.route_lease_until = clock(), None
        audit.record(session, actor="service", action="review.alerted", subject=review_id)


def send_reminders(now: datetime, *, db: Database, ctx: ReviewContext) -> list[str]:
    """Remind each PM once whose review is still undecided as its deadline nears."""
    lead = ctx.policy.reminder_lead
    with db.transaction() as session:
        due = [
            r
            for r in repo.reviews_to_remind(session, before=now + lead)
            if rules.reminder_due(r.state, r.deadline, r.reminded_at is not None, now, lead)
        ]
    for review in due:
        ctx.mail.send(_email(review, "review_reminder", "reminder", ctx))
        with db.transaction() as session:
            row = _row(session, review.id)
            if row.reminded_at is None:
                row.reminded_at = now
                audit.record(session, actor="service", action="review.reminded", subject=row.id)
    return [r.id for r in due]


def _row(session: Any, review_id: str) -> ReviewRow:
    row = repo.get_review(session, review_id)
    if row is None:
        raise LookupError(f"no review {review_id}")
    return row


def _review_by(review: ReviewRow, ctx: ReviewContext) -> str:
    """Return the deadline as the PM reads it, in their zone ("" while none is set)."""
    if review.deadline is None:
        return ""
    return deadline_words(review.deadline, _zone_of(review, ctx)[0])


def _deadline_text(review: ReviewRow, ctx: ReviewContext) -> str:
    if review.deadline is None:
        return "not set yet"
    return rules.format_deadline(review.deadline, _zone_of(review, ctx)[0])


def _email(review: ReviewRow, template: str, what: str, ctx: ReviewContext) -> Email:
    message = ctx.renderer.email(
        template,
        review=review,
        client=review.client_name or "an unknown client",
        project=review.project_name,
        file_name=review.name,
        file_url=absolute(review.web_url, ctx.public_base_url),
        kind=review.kind.replace("_", " ").upper()
        if review.kind in {"msa", "sow"}
        else review.kind.replace("_", " "),
        deadline=_deadline_text(review, ctx),
        review_by=_review_by(review, ctx),
        greeting=greeting([review.pm_name or ""] if what != "shared_outside" else []),
        review_url=f"{ctx.public_base_url}/reviews/{review.id}",
        approval=bool(review.approval_id),
        recipients=", ".join(review.external_recipients or []),
    )
    pm = (review.pm_email,) if review.pm_email else ()
    am = (review.am_email,) if review.am_email else ()
    to, cc = (pm, am) if what != "shared_outside" else (tuple(dict.fromkeys(am + pm)), ())
    return Email(
        key=f"review:{review.id}:{what}",
        to=to,
        cc=tuple(a for a in cc if a not in to) if what == "requested" else (),
        subject=message.subject,
        text=message.text,
        html=message.html,
    )


def slack_escape(text: str) -> str:
    """Return text that Slack shows as written: `<!channel>` or `<@U1>` from a file name
    would otherwise notify a whole channel or a person (Slack's three escapes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chat_text(review: ReviewRow, ctx: ReviewContext) -> str:
    name, client, pm = (slack_escape(t) for t in (review.name, review.client_name, review.pm_name))
    return (
        f"Contract draft {name} ({client}) is with {pm} for "
        f"review; it may go to the client from {_deadline_text(review, ctx)}. "
        f"{ctx.public_base_url}/reviews/{review.id}"
    )
