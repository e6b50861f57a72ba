"""Reading and writing contract reviews, seen Drive files and the change feed's token."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain.contracts import OPEN, ROUTING, UNMATCHED
from service.store.models import AccountRow, HandoverRow
from service.store.review_models import DraftUploadRow, DriveSyncRow, ReviewRow, SeenFileRow

# A draft shared outside whose AM and PM have not been alerted yet.
ALERT_DUE = (
    ReviewRow.flagged_external_at.is_not(None)
    & ReviewRow.external_alerted_at.is_(None)
    & (ReviewRow.state != UNMATCHED)
)

FEED = "changes"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    timezone: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class AccountPeople:
    """Who an account's draft goes to, and why (the project the draft belongs to)."""

    client_name: str
    project_name: str
    am: Person
    pm: Person | None
    why: str = ""


# --- the change feed's token ----------------------------------------------------------


def shared_drive_feed(drive_id: str) -> str:
    """Return the name of a shared drive's change log (its token row, its channels)."""
    return f"drive:{drive_id}"


def shared_drive_feeds(session: Session) -> dict[str, str]:
    """Return the shared drives whose change logs are read: feed name -> drive id."""
    names = session.scalars(select(DriveSyncRow.name).where(DriveSyncRow.name.like("drive:%")))
    return {name: name.partition(":")[2] for name in names}


def sync_state(session: Session, name: str = FEED) -> DriveSyncRow | None:
    """Return where the change feed (the user's, or a shared drive's) was read up to."""
    return session.get(DriveSyncRow, name)


def init_sync_state(session: Session, token: str, *, now: datetime, name: str = FEED) -> None:
    """Store the first page token unless another worker stored one first."""
    try:
        with session.begin_nested():
            session.add(DriveSyncRow(name=name, page_token=token, serial=0, synced_at=now))
            session.flush()
    except IntegrityError:
        pass


def advance_sync_state(
    session: Session,
    *,
    token: str,
    serial: int,
    new_token: str,
    now: datetime,
    name: str = FEED,
) -> bool:
    """Move the token on if nobody did since it was read (compare-and-set); False if lost.

    It is the sync transaction's first write, so it also takes the row's lock: a second
    worker waits here, then finds the serial moved and reads the feed again.
    """
    result = session.execute(
        update(DriveSyncRow)
        .where(DriveSyncRow.name == name, DriveSyncRow.page_token == token)
        .where(DriveSyncRow.serial == serial)
        .values(page_token=new_token, serial=serial + 1, synced_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- accounts -------------------------------------------------------------------------


def watched_folders(session: Session, intake_folder_id: str | None) -> dict[str, str | None]:
    """Return each watched folder id with its account key (None for the intake folder)."""
    rows = session.execute(
        select(AccountRow.contracts_folder_id, AccountRow.key).where(
            AccountRow.contracts_folder_id.is_not(None)
        )
    )
    folders: dict[str, str | None] = {str(f): k for f, k in rows}
    if intake_folder_id:
        folders.setdefault(intake_folder_id, None)
    return folders


def client_names(session: Session) -> dict[str, str]:
    """Return every account's key and client name."""
    return {k: n for k, n in session.execute(select(AccountRow.key, AccountRow.client_name))}


def account_people(
    session: Session, account_key: str, file_name: str = ""
) -> AccountPeople | None:
    """Return whom the account's draft goes to: the AM and PM of the project it belongs to.

    That is the running project whose name the file name contains (the longest such name),
    else the account's earliest running project that has a PM. Handovers waiting for
    Operations to confirm they join the account never count.
    """
    rows = [
        r
        for r in session.scalars(
            select(HandoverRow)
            .where(
                HandoverRow.account_key == account_key,
                HandoverRow.account_pending_since.is_(None),
            )
            .order_by(HandoverRow.created_at, HandoverRow.id)
        )
    ]
    if not rows:
        return None
    running = [r for r in rows if r.cancelled_at is None] or rows
    with_pm = [r for r in running if r.payload.get("project_manager")]
    name = file_name.casefold()
    named = [r for r in with_pm if r.project_name.strip() and r.project_name.casefold() in name]
    if named:
        row = max(named, key=lambda r: len(r.project_name))
        why = f"the file name names the project {row.project_name}"
    elif with_pm:
        row = with_pm[0]
        why = (
            "the file name names no project of the account: the PM of its earliest "
            f"running project, {row.project_name}"
        )
    else:
        row, why = running[0], "no project of the account has a PM yet"
    pm = row.payload.get("project_manager")
    return AccountPeople(
        client_name=row.client_name,
        project_name=row.project_name,
        am=_person(row.payload["account_manager"]),
        pm=_person(pm) if pm else None,
        why=why,
    )


def _person(data: dict[str, Any]) -> Person:
    return Person(
        str(data["name"]), str(data["email"]).lower(), data.get("timezone"), data.get("country")
    )


# --- seen files -----------------------------------------------------------------------


def seen_files(session: Session, file_ids: Iterable[str]) -> dict[str, SeenFileRow]:
    """Return the seen rows of these files, by id."""
    ids = sorted(set(file_ids))
    found: dict[str, SeenFileRow] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            (r.file_id, r)
            for r in session.scalars(select(SeenFileRow).where(SeenFileRow.file_id.in_(chunk)))
        )
    return found


def seen_file_ids(session: Session, file_ids: Iterable[str]) -> set[str]:
    """Return which of these files have a seen row (without loading the rows)."""
    ids = sorted(set(file_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            session.scalars(select(SeenFileRow.file_id).where(SeenFileRow.file_id.in_(chunk)))
        )
    return found


def pending_files(session: Session) -> list[SeenFileRow]:
    """Return the seen files changed since they were last evaluated, oldest change first."""
    return list(
        session.scalars(
            select(SeenFileRow)
            .where(SeenFileRow.pending.is_(True))
            .order_by(SeenFileRow.changed_at, SeenFileRow.file_id)
        )
    )


# --- reviews --------------------------------------------------------------------------


def add_review(session: Session, row: ReviewRow) -> ReviewRow | None:
    """Store a review round; None if this file's revision has one already (a race)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def get_review(session: Session, review_id: str) -> ReviewRow | None:
    return session.get(ReviewRow, review_id)


def latest_review(session: Session, file_id: str) -> ReviewRow | None:
    """Return the newest review round of a file."""
    return session.scalar(
        select(ReviewRow)
        .where(ReviewRow.file_id == file_id)
        .order_by(ReviewRow.revision.desc())
        .limit(1)
    )


def latest_reviews(session: Session, file_ids: Iterable[str]) -> dict[str, ReviewRow]:
    """Return the newest review round of each of these files that has one, by file id."""
    ids = sorted(set(file_ids))
    found: dict[str, ReviewRow] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.scalars(
            select(ReviewRow)
            .where(ReviewRow.file_id.in_(chunk))
            .order_by(ReviewRow.file_id, ReviewRow.revision)
        )
        found.update((r.file_id, r) for r in rows)  # by revision, so the newest stays
    return found


def rounds_of(session: Session, file_id: str) -> list[ReviewRow]:
    """Return every review round of a file, newest first."""
    return list(
        session.scalars(
            select(ReviewRow)
            .where(ReviewRow.file_id == file_id)
            .order_by(ReviewRow.revision.desc())
        )
    )


def list_reviews(
    session: Session,
    *,
    states: Iterable[str] = (),
    account_key: str | None = None,
    limit: int = 200,
) -> list[ReviewRow]:
    """Return reviews, newest first, optionally of some states or one account."""
    query = select(ReviewRow).order_by(ReviewRow.created_at.desc(), ReviewRow.id).limit(limit)
    wanted = tuple(states)
    if wanted:
        query = query.where(ReviewRow.state.in_(wanted))
    if account_key:
        query = query.where(ReviewRow.account_key == account_key)
    return list(session.scalars(query))


def count_due(session: Session, *, pm_email: str | None, now: datetime) -> tuple[int, int]:
    """Return how many reviews wait for a decision (the PM's, or everyone's when pm_email
    is None) and how many of them are past their deadline: one aggregate, answered from
    the (state, pm_email, deadline) index whatever the number of reviews."""
    late = func.coalesce(func.sum(case((ReviewRow.deadline < now, 1), else_=0)), 0)
    query = select(func.count(), late).where(ReviewRow.state.in_((ROUTING, OPEN)))
    if pm_email is not None:
        query = query.where(ReviewRow.pm_email == pm_email.strip().lower())
    waiting, overdue = session.execute(query).one()
    return int(waiting), int(overdue)


def decisions_untold(session: Session) -> list[str]:
    """Return the decided reviews whose decision was not emailed yet (a crash or a mail
    failure between the decision and its email), through the (told, decided) index."""
    return list(
        session.scalars(
            select(ReviewRow.id).where(
                ReviewRow.decision_told_at.is_(None), ReviewRow.decided_at >= _EPOCH
            )
        )
    )


def claim_upload(
    session: Session, upload_key: str, *, file_id: str | None, uploaded_by: str
) -> DraftUploadRow:
    """Return the upload of this key: the one stored first (a double submit), else this."""
    try:
        with session.begin_nested():
            row = DraftUploadRow(upload_key=upload_key, file_id=file_id, uploaded_by=uploaded_by)
            session.add(row)
            session.flush()
            return row
    except IntegrityError:
        found = session.get(DraftUploadRow, upload_key)
        assert found is not None
        return found


def reviews_needing_work(session: Session) -> list[str]:
    """Return reviews whose routing or outside-share alert is not done yet."""
    routing = select(ReviewRow.id).where(ReviewRow.state == ROUTING)
    alerts = _alerts_due()
    return sorted(set(session.scalars(routing)) | set(session.scalars(alerts)))


def reviews_to_route_now(
    session: Session, opened: list[str], *, now: datetime, stale: timedelta
) -> list[str]:
    """Return what a sync queues: the reviews it opened, those whose routing failed (the
    error is shown; try again), those queued longer than `stale` ago (their job was
    probably lost with a crash), and outside shares not alerted yet; mark them queued now.
    Reviews whose route waits in the queue are otherwise left there: a bulk move queues
    thousands, and re-queuing all of them on every sync would cost each sync as much as
    the backlog."""
    free = _lease_free(now)
    long_ago = or_(ReviewRow.route_queued_at.is_(None), ReviewRow.route_queued_at < now - stale)
    # Three indexed looks (id, state, the outside-share flag) rather than one OR, which
    # the databases answer by reading every review.
    routing = select(ReviewRow.id).where(
        ReviewRow.state == ROUTING,
        or_(
            ReviewRow.route_error.is_not(None),
            free & long_ago & (ReviewRow.arrived_at < now - stale),
        ),
    )
    alerts = _alerts_due()
    found = sorted(set(opened) | set(session.scalars(routing)) | set(session.scalars(alerts)))
    if found:
        session.execute(
            update(ReviewRow).where(ReviewRow.id.in_(found)).values(route_queued_at=now)
        )
    return found


def _alerts_due() -> Any:
    """Select the reviews whose outside share is not alerted yet, through the flag's index
    (a range on it, which SQLite's planner uses where it would not for IS NOT NULL)."""
    return select(ReviewRow.id).where(ALERT_DUE, ReviewRow.flagged_external_at >= _EPOCH)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _lease_free(now: datetime) -> Any:
    return or_(ReviewRow.route_lease_until.is_(None), ReviewRow.route_lease_until < now)


def _claim(session: Session, review_id: str, due: Any, now: datetime, lease: timedelta) -> bool:
    result = session.execute(
        update(ReviewRow)
        .where(ReviewRow.id == review_id, due, _lease_free(now))
        .values(route_lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_routing(session: Session, review_id: str, *, now: datetime, lease: timedelta) -> bool:
    """Take the routing of a review for a while; False if another worker holds it."""
    return _claim(session, review_id, ReviewRow.state == ROUTING, now, lease)


def claim_alert(session: Session, review_id: str, *, now: datetime, lease: timedelta) -> bool:
    """Take the review's lease to alert an outside share; False if not due or held."""
    return _claim(session, review_id, ALERT_DUE & ReviewRow.am_email.is_not(None), now, lease)


def reviews_to_remind(session: Session, *, before: datetime) -> list[ReviewRow]:
    """Return open, unreminded reviews whose deadline is before the given time."""
    return list(
        session.scalars(
            select(ReviewRow)
            .where(
                ReviewRow.state == OPEN,
                ReviewRow.reminded_at.is_(None),
                ReviewRow.deadline.is_not(None),
                ReviewRow.deadline <= before,
            )
            .order_by(ReviewRow.deadline)
        )
    )
