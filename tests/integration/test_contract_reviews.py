"""Contract review on the local backend: drafts dropped, moved, renamed, shared, watched.

Each scenario submits a real handover (which makes the client's `Contracts` folder),
puts files on disk as a person would, and checks the end state: reviews in the
database, grants on the local drive, messages in the outbox. Nothing is mocked.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from integrations.local.changes import LocalChangeFeed
from integrations.local.watcher import LocalWatcher
from integrations.ports import ApprovalRequest, ChangePage, Grant
from service import jobs
from service.demo import example_handover
from service.domain import contracts as rules
from service.jobs import run_job
from service.store import reviews as repo
from service.store.models import AccountRow
from service.store.review_models import ReviewRow, SeenFileRow
from service.workflows import contracts, kickoff, review_routing
from tests.conftest import Clock

LONDON = ZoneInfo("Europe/London")
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=LONDON)  # the PM is in London, GB
PM, AM = "pat@agency.example", "ada@agency.example"


def kickoff_acme(services: Any, client: str = "Acme Corp") -> Path:
    """Submit the example handover and return its Contracts folder on disk."""
    result = kickoff.submit_handover(
        example_handover(client), idempotency_key=None, actor="test", db=services.db,
        tasks=services.tasks,
    )
    services.tasks.wait_idle()
    with services.db.transaction() as session:
        account = session.scalar(select(AccountRow).where(AccountRow.client_name == client))
        folder_id = account.contracts_folder_id
    path = services.drive.path_of(folder_id)
    assert path is not None, f"handover {result.handover_id} made no Contracts folder"
    return Path(path)


@pytest.fixture
def reviews(services: Any) -> Iterator[Any]:
    """The app's services with no settle window and a fixed clock (Friday 16:00 London)."""
    services.review_policy = replace(services.review_policy, settle_seconds=0)
    yield services


def sync(services: Any, *, intake: str | None = None) -> contracts.SyncResult:
    result = contracts.sync_drive(
        db=services.db, feed=services.change_feed, tasks=services.tasks, clock=services.clock,
        policy=services.review_policy, intake_folder_id=intake,
    )
    services.tasks.wait_idle()
    return result


def all_reviews(services: Any) -> list[ReviewRow]:
    with services.db.transaction() as session:
        return list(session.scalars(select(ReviewRow).order_by(ReviewRow.created_at)))


def mails(services: Any, subject: str) -> list[EmailMessage]:
    found = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in services.mail.messages()
    ]
    return [m for m in found if str(m["Subject"]).startswith(subject)]


def drop(folder: Path, name: str, data: bytes = b"draft v1") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_draft_dropped_into_contracts_is_routed_to_the_pm_once(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    reviews.clock = Clock(FRIDAY_4PM)
    drop(contracts_dir, "SOW - Acme Corp v1.docx")

    sync(reviews)

    [review] = all_reviews(reviews)
    assert (review.state, review.kind, review.account_key) == (rules.OPEN, "sow", "acmecorp.example")
    assert Grant(PM, "commenter") in reviews.drive.grants(review.file_id)
    # Friday 16:00 in London -> Monday 16:00 in London: one whole business day.
    assert review.deadline == datetime(2026, 11, 30, 16, 0, tzinfo=LONDON)
    [mail] = mails(reviews, "Contract review:")
    assert mail["To"] == PM and mail["Cc"] == AM
    text = body(mail)
    assert "SOW - Acme Corp v1.docx" in text and "Acme Corp" in text
    assert text.startswith("Hi Pat,\n")  # the PM, by first name
    # The deadline in the PM's zone, and what happens after it, in so many words.
    assert (
        "Please review by Monday 30 November, 16:00 (London time); "
        "it may go to the client after that." in text
    )
    assert "please review by Monday 30 November, 16:00 (London time)" in str(mail["Subject"])
    assert f"/reviews/{review.id}" in text and f"/files/{review.file_id}" in text
    [notice] = reviews.chat.messages()
    assert notice["key"] == f"review:{review.id}:requested"


def test_a_draft_moved_in_with_an_old_date_is_routed(reviews: Any, tmp_path: Path) -> None:
    contracts_dir = kickoff_acme(reviews)
    elsewhere = tmp_path / "desktop-sync" / "MSA - Acme Corp.pdf"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"%PDF old")
    old = datetime(2019, 3, 1, tzinfo=UTC).timestamp()
    os.utime(elsewhere, (old, old))
    sync(reviews)  # the feed has seen the folder without it

    os.rename(elsewhere, contracts_dir / elsewhere.name)
    sync(reviews)

    [review] = all_reviews(reviews)
    assert review.name == "MSA - Acme Corp.pdf" and review.state == rules.OPEN


def test_a_file_renamed_into_a_draft_is_routed_and_other_files_are_only_recorded(
    reviews: Any,
) -> None:
    contracts_dir = kickoff_acme(reviews)
    notes = drop(contracts_dir, "notes.txt", b"call notes")
    sync(reviews)
    assert all_reviews(reviews) == []
    with reviews.db.transaction() as session:
        seen = session.scalars(select(SeenFileRow).where(SeenFileRow.name == "notes.txt")).one()
        file_id = seen.file_id

    notes.rename(contracts_dir / "MSA draft.pdf")
    sync(reviews)

    [review] = all_reviews(reviews)
    assert (review.file_id, review.name, review.kind) == (file_id, "MSA draft.pdf", "msa")
    assert len(mails(reviews, "Contract review:")) == 1


def test_repeated_and_concurrent_syncs_route_a_draft_once(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    drop(contracts_dir, "Amendment 1.docx")
    for _ in range(3):
        run_job(reviews, "sync_drive", {})
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        contracts.sync_drive(
            db=reviews.db, feed=reviews.change_feed, tasks=reviews.tasks, clock=reviews.clock,
            policy=reviews.review_policy,
        )

    drop(contracts_dir, "Change order 2.pdf")
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reviews.tasks.wait_idle()
    for _ in range(2):  # every sync queues unfinished routing again: still nothing twice
        sync(reviews)
        review_routing.route_review(
            all_reviews(reviews)[0].id, db=reviews.db, ctx=reviews.reviews, clock=reviews.clock
        )

    assert sorted(r.name for r in all_reviews(reviews)) == ["Amendment 1.docx", "Change order 2.pdf"]
    assert len(mails(reviews, "Contract review:")) == 2
    assert len(reviews.chat.messages()) == 2
    for review in all_reviews(reviews):
        assert reviews.drive.grants(review.file_id).count(Grant(PM, "commenter")) == 1


def test_two_feeds_in_two_processes_share_one_journal(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    other = LocalChangeFeed(reviews.drive, reviews.settings.workspace_dir / "changes.jsonl")
    token = reviews.change_feed.start_token()
    drop(contracts_dir, "SOW 9.pdf")
    mine, theirs = reviews.change_feed.changes(token), other.changes(token)
    assert [c.file_id for c in mine.changes] == [c.file_id for c in theirs.changes]
    assert mine.new_start_token == theirs.new_start_token
    assert other.changes(str(mine.new_start_token)).changes == ()


def intake_folder(services: Any) -> tuple[str, Path]:
    folder = services.drive.ensure_folder("Intake", parent_id=None, properties={"kind": "intake"})
    return folder.id, Path(services.drive.path_of(folder.id))


def test_a_draft_in_the_intake_folder_goes_to_the_client_it_names(reviews: Any) -> None:
    kickoff_acme(reviews, "Acme")
    kickoff_acme(reviews, "Acme Corp")
    intake_id, intake = intake_folder(reviews)
    drop(intake, "acme corp - SOW v3.pdf")

    sync(reviews, intake=intake_id)

    [review] = all_reviews(reviews)
    assert (review.account_key, review.state, review.folder_id) == (
        "acmecorp.example", rules.OPEN, intake_id,
    )


def test_a_draft_naming_no_client_waits_for_operations_then_is_routed(reviews: Any) -> None:
    kickoff_acme(reviews)
    intake_id, intake = intake_folder(reviews)
    drop(intake, "SOW - new prospect.docx")
    sync(reviews, intake=intake_id)
    [review] = all_reviews(reviews)
    assert (review.state, review.account_key) == (rules.UNMATCHED, None)
    assert mails(reviews, "Contract review:") == []

    contracts.assign_unmatched(
        review.id, "acmecorp.example", actor="ops@agency.example", db=reviews.db,
        tasks=reviews.tasks,
    )
    reviews.tasks.wait_idle()

    [review] = all_reviews(reviews)
    assert (review.state, review.pm_email) == (rules.OPEN, PM)
    assert len(mails(reviews, "Contract review:")) == 1
    with pytest.raises(rules.WrongState):
        contracts.assign_unmatched(
            review.id, "acmecorp.example", actor="ops", db=reviews.db, tasks=reviews.tasks
        )


def test_a_new_revision_after_a_decision_reopens_the_review(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    draft = drop(contracts_dir, "SOW - Acme Corp.docx", b"v1")
    sync(reviews)
    draft.write_bytes(b"v1, typo fixed")  # before a decision: the PM reviews the newest
    sync(reviews)
    [first] = all_reviews(reviews)
    contracts.decide(
        first.id, "changes_requested", "Cap the hours in 4.2", actor=PM, actor_role="sales",
        db=reviews.db, clock=reviews.clock,
    )
    os.utime(draft)  # touched, same bytes: not a new revision
    sync(reviews)
    assert len(all_reviews(reviews)) == 1

    draft.write_bytes(b"v2 with the cap")
    sync(reviews)

    first, second = all_reviews(reviews)
    assert (first.revision, first.state) == (1, rules.CHANGES_REQUESTED)
    assert (second.revision, second.state, second.file_id) == (2, rules.OPEN, first.file_id)
    assert len(mails(reviews, "Contract review:")) == 2
    with pytest.raises(rules.WrongState):  # the old round is closed
        contracts.decide(
            first.id, "approved", "", actor=PM, actor_role="sales", db=reviews.db,
            clock=reviews.clock,
        )


def test_a_draft_shared_outside_before_approval_alerts_the_am_and_pm(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    drop(contracts_dir, "MSA - Acme Corp.docx")
    sync(reviews)
    [review] = all_reviews(reviews)

    reviews.drive.share(review.file_id, [Grant("legal@acmecorp.example", "reader")], notify=False)
    sync(reviews)
    sync(reviews)

    [review] = all_reviews(reviews)
    assert review.flagged_external_at is not None and review.external_alerted_at is not None
    assert review.external_recipients == ["legal@acmecorp.example"]
    [alert] = mails(reviews, "Alert: contract draft")
    assert sorted(str(alert["To"]).split(", ")) == [AM, PM]
    assert "legal@acmecorp.example" in body(alert)


def test_an_approved_draft_past_its_deadline_may_be_shared(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    reviews.clock = Clock(FRIDAY_4PM)
    drop(contracts_dir, "SOW - Acme Corp.pdf")
    sync(reviews)
    [review] = all_reviews(reviews)
    contracts.decide(
        review.id, "approved", "", actor=PM, actor_role="sales", db=reviews.db, clock=reviews.clock
    )
    reviews.clock.now = datetime(2026, 11, 30, 16, 1, tzinfo=LONDON).astimezone(UTC)
    reviews.drive.share(review.file_id, [Grant("cleo@acmecorp.example", "reader")], notify=False)
    sync(reviews)
    [review] = all_reviews(reviews)
    assert review.flagged_external_at is None and mails(reviews, "Alert:") == []


def test_the_pm_is_reminded_once_before_the_deadline(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    reviews.clock = Clock(FRIDAY_4PM)
    drop(contracts_dir, "SOW - Acme Corp.pdf")
    sync(reviews)
    early = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
    assert review_routing.send_reminders(early, db=reviews.db, ctx=reviews.reviews) == []

    near = datetime(2026, 11, 30, 13, 0, tzinfo=LONDON)
    reviews.clock.now = near.astimezone(UTC)
    run_job(reviews, "review_reminders", {})
    run_job(reviews, "review_reminders", {})

    [reminder] = mails(reviews, "Reminder: please review")
    assert reminder["To"] == PM
    assert "Please review by Monday 30 November, 16:00 (London time)" in body(reminder)
    [review] = all_reviews(reviews)
    assert review.reminded_at is not None


class QueueBook:
    """A Tasks port that only writes down what it was asked to run."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, dict[str, str], float]] = []

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        self.queued.append((job, dict(payload), delay_seconds))


def test_a_file_still_changing_waits_for_the_settle_window(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    reviews.review_policy = replace(reviews.review_policy, settle_seconds=60)
    reviews.clock = Clock(FRIDAY_4PM)
    book = QueueBook()

    def sync_now() -> contracts.SyncResult:
        return contracts.sync_drive(
            db=reviews.db, feed=reviews.change_feed, tasks=book, clock=reviews.clock,
            policy=reviews.review_policy,
        )

    draft = drop(contracts_dir, "SOW - Acme Corp.pdf", b"half")
    assert sync_now().unsettled == 1
    assert ("sync_drive", {}, 60) in book.queued  # a look again once it may have settled
    reviews.clock.now += timedelta(seconds=50)
    draft.write_bytes(b"half and the rest")
    assert sync_now().unsettled == 1  # changed again: the window starts over
    reviews.clock.now += timedelta(seconds=50)
    assert sync_now().unsettled == 1 and all_reviews(reviews) == []

    reviews.clock.now += timedelta(seconds=11)
    result = sync_now()

    assert (result.unsettled, len(result.opened)) == (0, 1)
    routes = [p["review_id"] for job, p, _ in book.queued if job == "route_review"]
    assert routes == list(result.opened)
    review_routing.route_review(routes[0], db=reviews.db, ctx=reviews.reviews, clock=reviews.clock)
    [review] = all_reviews(reviews)
    assert review.state == rules.OPEN and len(mails(reviews, "Contract review:")) == 1


class ApprovableFeed:
    """The local feed, for a Workspace edition where files can start approvals."""

    def __init__(self, inner: LocalChangeFeed) -> None:
        self.inner = inner

    def start_token(self) -> str:
        return self.inner.start_token()

    def changes(self, token: str) -> ChangePage:
        page = self.inner.changes(token)
        return replace(page, changes=tuple(replace(c, can_start_approval=True) for c in page.changes))


class RecordedApprovals:
    def __init__(self) -> None:
        self.started: list[ApprovalRequest] = []

    def start(self, request: ApprovalRequest) -> str | None:
        self.started.append(request)
        return f"approval-{len(self.started)}"


def test_a_drive_approval_is_started_once_where_the_file_allows_it(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    reviews.change_feed = ApprovableFeed(reviews.change_feed)
    reviews.approvals = RecordedApprovals()
    drop(contracts_dir, "SOW - Acme Corp.docx")
    sync(reviews)
    [review] = all_reviews(reviews)
    with reviews.db.transaction() as session:  # as if the first run died before the email
        row = repo.get_review(session, review.id)
        row.state, row.notified_at = rules.ROUTING, None
    review_routing.route_review(review.id, db=reviews.db, ctx=reviews.reviews, clock=reviews.clock)

    [request] = reviews.approvals.started
    assert (request.file_id, request.reviewer, request.due) == (review.file_id, PM, review.deadline)
    [review] = all_reviews(reviews)
    assert review.approval_id == "approval-1" and review.state == rules.OPEN
    assert "approval was started in Drive" in body(mails(reviews, "Contract review:")[0])


def test_the_watcher_picks_up_a_dropped_draft_within_seconds(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    sync(reviews)

    def queue_sync() -> None:
        reviews.tasks.enqueue("sync_drive", {}, key="sync_drive")

    with LocalWatcher(reviews.drive.root, queue_sync, debounce=0.1):
        drop(contracts_dir, "SOW - Acme Corp (watched).docx")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all_reviews(reviews):
            time.sleep(0.1)
        reviews.tasks.wait_idle()

    [review] = all_reviews(reviews)
    assert review.name == "SOW - Acme Corp (watched).docx"
    with reviews.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReviewRow)) == 1


def test_a_sync_taking_its_locks_does_not_wake_the_watcher_again(reviews: Any) -> None:
    kickoff_acme(reviews)
    calls: list[float] = []

    def queue_sync() -> None:
        calls.append(time.monotonic())
        sync(reviews)  # takes the drive's and the feed's lock files: "closed" events

    with LocalWatcher(reviews.drive.root, queue_sync, debounce=0.1):
        (reviews.drive.root / "Acme Corp" / "Contracts" / "SOW - Acme Corp.pdf").write_bytes(b"x")
        time.sleep(1.5)
        settled = len(calls)
        time.sleep(1.5)  # a loop would call back every debounce: about 15 more times

    # The drop, and the sync's own index write (it recorded the new file's id): then quiet.
    assert settled <= 2 and len(calls) == settled


def test_a_routing_lost_in_a_crash_is_queued_again_by_the_next_sync(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    reviews.clock = Clock(FRIDAY_4PM)
    drop(contracts_dir, "SOW - Acme Corp.pdf")
    contracts.sync_drive(  # the process dies before its queue runs the routing
        db=reviews.db, feed=reviews.change_feed, tasks=QueueBook(), clock=reviews.clock,
        policy=reviews.review_policy,
    )
    [review] = all_reviews(reviews)
    assert review.state == rules.ROUTING and mails(reviews, "Contract review:") == []

    sync(reviews)  # a moment later: its job may just be waiting in the queue
    assert all_reviews(reviews)[0].state == rules.ROUTING
    reviews.clock.now += timedelta(minutes=6)
    sync(reviews)  # nothing new in the feed, but the routing waited too long: queued again

    [review] = all_reviews(reviews)
    assert review.state == rules.OPEN and len(mails(reviews, "Contract review:")) == 1


def test_the_sweep_queues_again_every_routing_left_undone(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    drop(contracts_dir, "SOW - Acme Corp.pdf")
    contracts.sync_drive(  # the process dies before its queue runs the routing
        db=reviews.db, feed=reviews.change_feed, tasks=QueueBook(), clock=reviews.clock,
        policy=reviews.review_policy,
    )

    stuck, requeued = jobs.sweep(reviews)
    reviews.tasks.wait_idle()

    [review] = all_reviews(reviews)
    assert (stuck, requeued) == ([], [review.id])
    assert review.state == rules.OPEN and len(mails(reviews, "Contract review:")) == 1


class FailingOnceMail:
    """The local outbox, refusing the first message as a mail server on a bad day would."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = False

    def send(self, email: Any) -> str:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the mail server hung up")
        return str(self.inner.send(email))

    def messages(self) -> list[Path]:
        return list(self.inner.messages())


def test_a_failure_mid_routing_is_shown_and_the_next_sync_finishes_it_once(reviews: Any) -> None:
    contracts_dir = kickoff_acme(reviews)
    reviews.mail = FailingOnceMail(reviews.mail)
    drop(contracts_dir, "SOW - Acme Corp.pdf")
    sync(reviews)
    [review] = all_reviews(reviews)
    assert review.state == rules.ROUTING and review.route_lease_until is None
    assert review.route_error == "ConnectionError: the mail server hung up"
    assert Grant(PM, "commenter") in reviews.drive.grants(review.file_id)

    sync(reviews)

    [review] = all_reviews(reviews)
    assert review.state == rules.OPEN and review.route_error is None
    assert len(mails(reviews, "Contract review:")) == 1
    assert reviews.drive.grants(review.file_id).count(Grant(PM, "commenter")) == 1
