"""Opening contract reviews from what the change feed showed: record each sighting of a
file in (or once in) a watched folder, decide what a settled change means (a draft
arrived, a new revision, nothing), open the review, and flag a draft shared outside the
agency. Pure database work inside the sync's one transaction; no outside calls.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from integrations.ports import Change
from service.domain import contracts as rules
from service.store import accounts
from service.store import handovers as audit
from service.store import reviews as repo
from service.store.review_models import ReviewRow, SeenFileRow

log = logging.getLogger(__name__)


def mark_account_folders(session: Session, changes: Sequence[Change], *, now: datetime) -> None:
    """Mark an account folder trashed or deleted in Drive as lost, or found again when it is
    back: the client's next handover then looks for its folders or makes new ones, rather
    than filing its brief into the trash."""
    folders = accounts.account_folders(session)
    for change in {c.file_id: c for c in changes}.values():
        if change.file_id not in folders:
            continue
        key, which = folders[change.file_id]
        lost = change.removed or change.trashed
        if accounts.mark_folder(session, key, which, lost=lost, now=now):
            action = "account.folder_lost" if lost else "account.folder_back"
            audit.record(
                session,
                actor="drive",
                action=action,
                subject=key,
                folder=which,
                file_id=change.file_id,
            )
            log.warning("the %s of account %s: %s", which, key, action.rpartition("_")[2])


def apply_changes(
    session: Session,
    changes: Sequence[Change],
    *,
    now: datetime,
    policy: rules.ReviewPolicy,
    intake: str | None,
    allowed_domain: str | None,
) -> tuple[list[str], int]:
    watched = repo.watched_folders(session, intake)
    known = accounts.account_folders(session).keys()
    latest = {c.file_id: c for c in changes}  # the feed may list a file twice: last wins
    seen = repo.seen_files(session, latest)
    touched: list[SeenFileRow] = []
    for file_id, change in latest.items():
        row = seen.get(file_id)
        gone = change.removed or change.trashed
        parents = [] if gone else sorted(change.parents)
        outside = unknown_client(change.top_folder, known)
        if row is None and not outside and not set(parents) & watched.keys():
            continue  # never in a watched folder: not ours
        if row is None:
            row = SeenFileRow(file_id=file_id, changed_at=now, pending=True)
            session.add(row)
        _record_sighting(row, change, parents, gone, now)
        touched.append(row)
    session.flush()
    pending = repo.pending_files(session)
    for row in pending + touched:  # a client folder no account has is watched as the intake
        if not row.removed and unknown_client(row.top_folder, known):
            watched.update((p, None) for p in row.parents or [] if p not in watched)
    # One query for every file's newest review, not two per file: a bulk move of drafts
    # into a Contracts folder is thousands of files.
    reviews = repo.latest_reviews(session, [r.file_id for r in pending + touched])
    opened: list[str] = []
    unsettled = 0
    settle = timedelta(seconds=policy.settle_seconds)
    for row in pending:
        sighting = latest.get(row.file_id)
        finished = sighting is not None and sighting.complete  # an upload Drive shows is whole
        if not finished and row.changed_at > now - settle:
            unsettled += 1  # a Google Doc still being written: route once it has settled
            continue
        made = _evaluate(session, row, watched, policy, now, reviews.get(row.file_id))
        if made is not None:
            reviews[row.file_id] = made
            opened.append(made.id)
    for row in touched:
        review = reviews.get(row.file_id)
        if review is not None:
            guard(session, review, row.shared_with, now, allowed_domain)
    return opened, unsettled


def _record_sighting(
    row: SeenFileRow, change: Change, parents: list[str], gone: bool, now: datetime
) -> None:
    name = change.name or row.name
    mime = change.mime_type or row.mime_type
    moved = (name, mime, parents, change.version, gone) != (
        row.name,
        row.mime_type,
        list(row.parents or []),
        row.version,
        row.removed,
    )
    if moved:
        row.changed_at, row.pending = now, True
    row.name, row.mime_type, row.parents, row.version, row.removed = (
        name,
        mime,
        parents,
        change.version,
        gone,
    )
    row.web_url = change.web_url or row.web_url
    row.can_start_approval = change.can_start_approval
    row.sharing_known = change.sharing_known
    if change.sharing_known:
        row.shared_with = sorted(change.shared_with)
    row.modified_time = change.modified_time
    row.modified_by = change.modified_by or row.modified_by
    row.modified_by_name = change.modified_by_name or row.modified_by_name
    row.top_folder = change.top_folder or None


def unknown_client(top_folder: str | None, known: Collection[str]) -> bool:
    """Return whether the file lies under a top-level folder no account has (the local
    backend tells: a client folder a person made by hand, for a client the service does
    not know yet)."""
    return bool(top_folder) and top_folder not in known


def _evaluate(
    session: Session,
    row: SeenFileRow,
    watched: dict[str, str | None],
    policy: rules.ReviewPolicy,
    now: datetime,
    review: ReviewRow | None,
) -> ReviewRow | None:
    """Decide what a settled file's change means, given its newest review; return one opened."""
    current = rules.Sighting(row.name, row.mime_type, frozenset(row.parents))
    previous = (
        None
        if row.known_parents is None
        else rules.Sighting(
            row.known_name or "", row.known_mime_type or "", frozenset(row.known_parents)
        )
    )
    row.known_name, row.known_mime_type, row.known_parents = row.name, row.mime_type, row.parents
    row.pending, row.evaluated_at = False, now
    folder = rules.arrival(previous, current, watched, policy.patterns)
    kind = rules.classify(row.name, row.mime_type, policy.patterns)
    if review is None:
        if folder is None or kind is None:
            return None
        account = watched[folder] or rules.match_client(row.name, repo.client_names(session))
        return _open(session, row, kind, folder, account, revision=1, now=now)
    in_watched = bool(current.parents & watched.keys())
    if kind is None or not in_watched or row.version == review.version:
        return None
    if not rules.reopens(review.state):
        review.version, review.name, review.web_url = row.version, row.name, row.web_url
        return None
    return _open(
        session,
        row,
        kind,
        review.folder_id,
        review.account_key,
        revision=review.revision + 1,
        now=now,
    )


def _open(
    session: Session,
    seen: SeenFileRow,
    kind: str,
    folder: str,
    account_key: str | None,
    *,
    revision: int,
    now: datetime,
) -> ReviewRow | None:
    review = ReviewRow(
        id=uuid.uuid4().hex,
        file_id=seen.file_id,
        revision=revision,
        version=seen.version,
        name=seen.name,
        mime_type=seen.mime_type,
        kind=kind,
        web_url=seen.web_url,
        folder_id=folder,
        account_key=account_key,
        state=rules.ROUTING if account_key else rules.UNMATCHED,
        can_start_approval=seen.can_start_approval,
        uploaded_by=seen.modified_by or None,
        uploaded_by_name=seen.modified_by_name or None,
        arrived_at=now,
        external_recipients=[],
        comment="",
    )
    why = fill_people(session, review) if account_key else ""
    if repo.add_review(session, review) is None:
        return None  # this revision has its review already
    audit.record(
        session,
        actor="service",
        action="review.reopened" if revision > 1 else "review.opened",
        subject=review.id,
        file=seen.name,
        file_id=seen.file_id,
        revision=revision,
        account=account_key,
        state=review.state,
        **({"pm": review.pm_email, "why": why} if why and review.pm_email else {}),
    )
    return review


def fill_people(session: Session, review: ReviewRow) -> str:
    """Copy the client, project, AM and PM of the project the draft belongs to onto the
    review; return why that PM, for the audit line."""
    people = repo.account_people(session, review.account_key or "", review.name or "")
    if people is None:
        return ""
    review.client_name, review.project_name = people.client_name, people.project_name
    review.am_email, review.am_name = people.am.email, people.am.name
    if people.pm is not None:
        review.pm_email, review.pm_name = people.pm.email, people.pm.name
        review.pm_timezone = people.pm.timezone or ""
        review.pm_country = people.pm.country or ""
    return people.why


def guard(
    session: Session,
    review: ReviewRow,
    shared_with: Sequence[str],
    now: datetime,
    allowed_domain: str | None,
) -> None:
    """Flag a draft shared outside the agency before its approval or its deadline."""
    if review.flagged_external_at is not None or review.state == rules.UNMATCHED:
        return
    internal = rules.internal_domains(allowed_domain, review.am_email, review.pm_email)
    outside = rules.outside_recipients(shared_with, internal) if internal else ()
    if outside and rules.guard_applies(review.state, review.deadline, now):
        review.flagged_external_at, review.external_recipients = now, list(outside)
        audit.record(
            session,
            actor="service",
            action="review.shared_outside",
            subject=review.id,
            recipients=list(outside),
        )
