"""Use cases of the contract review: sync the Drive change feed, decide, assign, remind.

`sync_drive` reads the change feed from the stored page token and, in ONE transaction,
moves the token on (compare-and-set: two workers never both apply a page), records the
files seen in watched folders and opens the reviews of drafts that arrived. What happens
outside (access, approval, emails) runs afterwards as the `route_review` job
(`service/workflows/review_routing.py`), so a crash can delay it but never repeat or
lose it: every sync queues again the reviews whose routing is not done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from integrations.ports import Change, ChangeFeed, SharedDriveFeeds, Tasks
from service.domain import contracts as rules
from service.store import accounts
from service.store import handovers as audit
from service.store import reviews as repo
from service.store.db import Database
from service.store.models import AccountRow
from service.store.review_models import ReviewRow, SeenFileRow
from service.workflows.review_opening import (
    apply_changes,
    fill_people,
    guard,
    mark_account_folders,
    unknown_client,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_PAGES = 10_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncResult:
    """What one sync did: changes read, reviews opened, files still settling."""

    changes: int
    opened: tuple[str, ...]
    unsettled: int
    token: str


def queue_route(tasks: Tasks, review_id: str) -> None:
    """Ask the queue to bring the review's outside effects up to date."""
    tasks.enqueue("route_review", {"review_id": review_id}, key=f"route_review:{review_id}")


def requeue_reviews(*, db: Database, tasks: Tasks) -> list[str]:
    """Queue the routing of every review not done yet, and the telling of every decision
    not emailed yet (the sweep: a job lost with a crash); return the reviews routed."""
    with db.transaction() as session:
        waiting = repo.reviews_needing_work(session)
        untold = repo.decisions_untold(session)
    for review_id in waiting:
        queue_route(tasks, review_id)
    for review_id in untold:  # the email's key makes a second telling send nothing
        tasks.enqueue("tell_decision", {"review_id": review_id}, key=f"tell_decision:{review_id}")
    return waiting


def ensure_cursor(
    *, db: Database, feed: ChangeFeed, now: datetime, clients_folder: str | None = None
) -> bool:
    """Store the change feed's start token unless one is stored (and the shared drive's,
    when the clients folder is in one); return True if one was stored.

    Called before the first Contracts folder is made: a draft dropped into it before the
    first sync (or before any push channel) is then after the cursor and is routed.
    """
    feeds: list[tuple[str, ChangeFeed]] = [(repo.FEED, feed)]
    if clients_folder and isinstance(feed, SharedDriveFeeds):
        drive = feed.drive_of(clients_folder)
        if drive:
            feeds.append((repo.shared_drive_feed(drive), feed.for_drive(drive)))
    stored = False
    for name, one in feeds:
        with db.transaction() as session:
            if repo.sync_state(session, name) is not None:
                continue
        token = one.start_token()
        with db.transaction() as session:
            repo.init_sync_state(session, token, now=now, name=name)
        log.info("drive change cursor (%s) stored before the first Contracts folder", name)
        stored = True
    return stored


def sync_drive(
    *,
    db: Database,
    feed: ChangeFeed,
    tasks: Tasks,
    clock: Clock,
    policy: rules.ReviewPolicy,
    intake_folder_id: str | None = None,
    allowed_domain: str | None = None,
    attempts: int = 5,
    stale: timedelta = timedelta(minutes=5),
) -> SyncResult:
    """Read every page of the change feeds (the user's, then each shared drive's) from
    their stored tokens and open the reviews; queue the routing of those it opened (and
    of any whose routing failed or waited longer than `stale`)."""
    args = _SyncArgs(db, tasks, clock, policy, intake_folder_id, allowed_domain, attempts, stale)
    result, drives = _sync_feed(repo.FEED, feed, args)
    if not isinstance(feed, SharedDriveFeeds):
        return result
    with db.transaction() as session:
        known = repo.shared_drive_feeds(session)
    new = {d for d in drives if repo.shared_drive_feed(d) not in known}
    for drive in sorted(new):  # a watched folder now lives in a shared drive: read its log
        token = feed.for_drive(drive).start_token()
        with db.transaction() as session:
            repo.init_sync_state(session, token, now=clock(), name=repo.shared_drive_feed(drive))
        known[repo.shared_drive_feed(drive)] = drive
        log.info("reading the change log of shared drive %s too", drive)
    if new:  # and watch it: the renewal job opens a channel on each log without one
        tasks.enqueue("renew_channels", {}, key="renew_channels:drives")
    for name, drive in sorted(known.items()):
        more, _ = _sync_feed(name, feed.for_drive(drive), args)
        result = SyncResult(
            result.changes + more.changes,
            result.opened + more.opened,
            result.unsettled + more.unsettled,
            result.token,
        )
    return result


@dataclass(frozen=True)
class _SyncArgs:
    db: Database
    tasks: Tasks
    clock: Clock
    policy: rules.ReviewPolicy
    intake: str | None
    allowed_domain: str | None
    attempts: int
    stale: timedelta


def _sync_feed(name: str, feed: ChangeFeed, a: _SyncArgs) -> tuple[SyncResult, set[str]]:
    """Sync one change log; return what it did and the shared drives its changes are in."""
    db = a.db
    for _ in range(a.attempts):
        with db.transaction() as session:
            state = repo.sync_state(session, name)
            token, serial = (state.page_token, state.serial) if state else (None, 0)
        if token is None:
            first = feed.start_token()
            with db.transaction() as session:
                repo.init_sync_state(session, first, now=a.clock(), name=name)
            continue
        changes, read, new_token = _read_feed(db, feed, token, a.intake)
        with db.transaction() as session:
            now = a.clock()
            if not repo.advance_sync_state(
                session, token=token, serial=serial, new_token=new_token, now=now, name=name
            ):
                continue  # another worker applied this page first: read on from its token
            mark_account_folders(session, changes, now=now)
            opened, unsettled = apply_changes(
                session,
                changes,
                now=now,
                policy=a.policy,
                intake=a.intake,
                allowed_domain=a.allowed_domain,
            )
            to_route = repo.reviews_to_route_now(session, opened, now=now, stale=a.stale)
        for review_id in to_route:
            queue_route(a.tasks, review_id)
        if unsettled:
            a.tasks.enqueue(
                "sync_drive", {}, key="sync_drive:settle", delay_seconds=a.policy.settle_seconds
            )
        log.info("drive synced (%s): %d changes, %d reviews opened", name, read, len(opened))
        drives = {c.drive_id for c in changes if c.drive_id}
        return SyncResult(read, tuple(opened), unsettled, new_token), drives
    log.info("drive sync gave way to other workers %d times; queued again", a.attempts)
    a.tasks.enqueue("sync_drive", {}, key="sync_drive")  # what woke this one is not lost
    return SyncResult(0, (), 0, ""), set()


def _read_feed(
    db: Database, feed: ChangeFeed, token: str, intake: str | None
) -> tuple[list[Change], int, str]:
    """Return the changes that may concern a watched folder, how many were read, the new token.

    Most of a Drive's changes are elsewhere: each page keeps only the files in a watched
    folder now, the files seen in one before, and files kept from an earlier page (their
    latest change wins), so a long backlog does not have to fit in memory.
    """
    kept: list[Change] = []
    kept_ids: set[str] = set()
    read = 0
    for _ in range(MAX_PAGES):
        page = feed.changes(token)
        read += len(page.changes)
        # Read after the page: a folder watched by the time its changes were listed counts.
        with db.transaction() as session:
            watched = repo.watched_folders(session, intake).keys()
            seen = repo.seen_file_ids(session, [c.file_id for c in page.changes])
            folders = accounts.account_folders(session).keys()
        for change in page.changes:
            if (
                change.file_id in kept_ids
                or change.file_id in seen
                or change.file_id in folders
                or not watched.isdisjoint(change.parents)
                or unknown_client(change.top_folder, folders)
            ):
                kept.append(change)
                kept_ids.add(change.file_id)
        if page.next_token:
            token = page.next_token
            continue
        return [_with_sharing(feed, c) for c in kept], read, page.new_start_token or token
    raise RuntimeError("the change feed did not end after 10000 pages")


def _with_sharing(feed: ChangeFeed, change: Change) -> Change:
    """Ask who a file is shared with when the feed could not say (Drive leaves permissions
    out of files in shared drives): an outside share must be seen there too."""
    if change.sharing_known or change.removed or change.trashed:
        return change
    who = feed.shared_with(change.file_id)
    if who is None:  # Drive would not say: unknown, shown so, never taken as "nobody"
        return replace(change, shared_with=(), sharing_known=False)
    return replace(change, shared_with=who, sharing_known=True)


def decide(
    review_id: str,
    decision: object,
    comment: object,
    *,
    actor: str,
    actor_role: str,
    db: Database,
    clock: Clock,
) -> ReviewRow:
    """Record the PM's decision (approved or changes_requested) with a comment."""
    decision_, comment_ = rules.check_decision(decision, comment)
    with db.transaction() as session:
        review = repo.get_review(session, review_id)
        if review is None:
            raise LookupError(f"no review {review_id}")
        if not rules.may_decide(actor, actor_role, review.pm_email):
            raise rules.NotAllowed("only the draft's Project Manager or Operations may decide")
        newest = repo.latest_review(session, review.file_id)
        if newest is not None and newest.id != review.id:
            raise rules.WrongState("a newer revision of this draft is under review")
        if review.decided_at is not None and (review.state, review.comment) == (
            decision_,
            comment_,
        ):
            return review  # a double submit: the decision stands as first recorded
        review.state = rules.after_decision(review.state, decision_)
        review.decided_at, review.decided_by, review.comment = clock(), actor, comment_
        audit.record(
            session, actor=actor, action=f"review.{decision_}", subject=review_id, comment=comment_
        )
    return review


def assign_unmatched(
    review_id: str,
    account_key: str,
    *,
    actor: str,
    db: Database,
    tasks: Tasks,
    clock: Clock = _utcnow,
    allowed_domain: str | None = None,
) -> ReviewRow:
    """Give an unmatched draft to an account (Operations' choice) and route it."""
    with db.transaction() as session:
        review = repo.get_review(session, review_id)
        if review is None:
            raise LookupError(f"no review {review_id}")
        if session.get(AccountRow, account_key) is None:
            raise LookupError(f"no account {account_key}")
        review.state = rules.after_assign(review.state)
        review.account_key = account_key
        why = fill_people(session, review)
        # An unmatched draft is not guarded (nobody to alert); a share outside made
        # meanwhile may never show in the feed again, so look at the last sighting now.
        seen = session.get(SeenFileRow, review.file_id)
        if seen is not None:
            guard(session, review, seen.shared_with or [], clock(), allowed_domain)
        audit.record(
            session,
            actor=actor,
            action="review.assigned",
            subject=review_id,
            account=account_key,
            **({"pm": review.pm_email, "why": why} if why and review.pm_email else {}),
        )
    queue_route(tasks, review_id)
    return review
