"""Contract review on WORKSPACE_BACKEND=google, end to end through the loopback Google.

A handover makes the account, its `Contracts` folder and its PM; `handover watch-drive`'s
use case opens a push channel to the live app; then a person acts in Drive (the fake's
helpers: upload, move, rename, share) and the fake pushes real notifications to
`POST /hooks/drive`. Each scenario checks the end state: reviews in the database,
permissions and approvals in Drive, messages in Gmail. Nothing is mocked; only the
service's clock is pinned where a deadline is asserted.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.demo import example_handover
from service.domain import contracts as rules
from service.domain.business_days import is_business_day, review_deadline
from service.jobs import run_job
from service.store import reviews as reviews_repo
from service.store.channel_models import DriveChannelRow
from service.store.models import AccountRow
from service.store.review_models import ReviewRow, SeenFileRow
from service.workflows import channels, contracts, kickoff
from tests.conftest import (
    API_TOKEN,
    LiveServer,
    close_app,
    free_port,
    make_settings,
    on_the_fake,
    wait_until,
)
from tests.e2e.signin_support import OPS_TOKEN  # Operations: sees every review, unmatched too
from tests.fakes import FakeGoogle, Fault

FOLDER = "application/vnd.google-apps.folder"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TYPES = {".docx": DOCX, ".pdf": "application/pdf", ".txt": "text/plain", ".jpg": "image/jpeg"}
SERVICE_USER = "handover@agency.example"
PM, AM = "pat@agency.example", "ada@agency.example"
LONDON = ZoneInfo("Europe/London")  # the example PM's zone (country GB)
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=LONDON)


class Clock:
    """The service's clock: real time, pinned or moved on by a test."""

    def __init__(self) -> None:
        self.pinned: datetime | None = None
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        now = self.pinned or datetime.now(UTC)
        return now.astimezone(UTC) + self.offset


@dataclass
class Agency:
    """The live app on the Google backend, the fake it talks to, and the account's folders."""

    server: LiveServer
    services: Any
    fake: FakeGoogle
    clock: Clock
    contracts: str  # Acme Corp's Contracts folder
    intake: str  # DRIVE_INTAKE_FOLDER
    elsewhere: str  # a folder nobody watches
    database_url: str
    workspace: Path

    def upload(self, name: str, folder: str, *, created: datetime | None = None) -> dict[str, Any]:
        """Upload a file as a person would (Drive UI or desktop sync)."""
        mime = TYPES[Path(name).suffix]
        return self.fake.drive.add_file(
            name, [folder], mime_type=mime, created_time=created, content=name.encode()
        )

    def quiet(self, timeout: float = 30) -> None:
        """Wait until every notification was answered and every job it queued has run."""
        deadline = time.monotonic() + timeout
        while True:
            wait_until(self._delivered, timeout=max(0.1, deadline - time.monotonic()))
            assert self.services.tasks.wait_idle(timeout=max(0.1, deadline - time.monotonic()))
            if self._delivered():  # a job may have changed Drive (a share): go round again
                return

    def _delivered(self) -> bool:
        notifications = self.fake.drive.notifications
        return self.fake.notifier.pending() == 0 and all(
            d.status is not None for d in notifications
        )

    def reviews(self) -> list[ReviewRow]:
        with self.services.db.transaction() as session:
            return list(session.scalars(select(ReviewRow).order_by(ReviewRow.created_at)))

    def review_of(self, file_id: str) -> ReviewRow | None:
        return next((r for r in self.reviews() if r.file_id == file_id), None)

    def routed(self, file_id: str) -> ReviewRow:
        """Wait until the file's review was routed (the PM told); return it."""
        wait_until(lambda: _state(self.review_of(file_id)) == rules.OPEN, timeout=20)
        self.quiet()
        review = self.review_of(file_id)
        assert review is not None
        return review

    def mails(self, subject: str = "Contract review:") -> list[dict[str, str]]:
        """The sent messages whose subject starts so, as To/Cc/Subject/body."""
        found = []
        for record in self.fake.gmail.sent:
            message = record["message"]
            if str(message["Subject"]).startswith(subject):
                text = message.get_body(preferencelist=("plain",)).get_content()
                found.append(
                    {
                        "to": str(message["To"]),
                        "cc": str(message.get("Cc", "")),
                        "subject": " ".join(str(message["Subject"]).split()),
                        "text": text,
                    }
                )
        return found

    def channel_rows(self) -> list[tuple[Any, ...]]:
        with self.services.db.transaction() as session:
            rows = session.scalars(select(DriveChannelRow).order_by(DriveChannelRow.created_at))
            return [(r.id, r.token, r.resource_id, r.expires_at, r.stopped_at) for r in rows]

    def live_channel(self) -> tuple[Any, ...]:
        (live,) = [row for row in self.channel_rows() if row[4] is None]
        return live

    def serial(self) -> int:
        with self.services.db.transaction() as session:
            state = reviews_repo.sync_state(session)
            return state.serial if state is not None else -1

    def effective_role(self, file_id: str, email: str) -> str | None:
        for permission in self.fake.drive.effective_permissions(file_id):
            if permission.get("emailAddress") == email:
                return str(permission["role"])
        return None


def _state(review: ReviewRow | None) -> str | None:
    return review.state if review is not None else None


def post_hook(url: str, headers: dict[str, str]) -> int:
    """POST to /hooks/drive over real HTTP as Drive would; return the status."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=10)
    try:
        connection.request("POST", channels.HOOK_PATH, body=b"", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def google_settings(database_url: str, fake: FakeGoogle, port: int, intake: str) -> dict[str, Any]:
    """Return the settings of the Google backend against the fake, served on port."""
    return {
        "database_url": database_url,
        "public_base_url": f"http://127.0.0.1:{port}",
        **on_the_fake(
            fake,
            google_impersonate=SERVICE_USER,
            drive_intake_folder=intake,
            review_settle_seconds=0,
            inline_workers=4,
            api_tokens={API_TOKEN: "sales", OPS_TOKEN: "operations"},
        ),
    }


@pytest.fixture
def agency(tmp_path: Path, database_url: str, fake_google: FakeGoogle) -> Iterator[Agency]:
    """Acme Corp handed over on the Google backend, then Drive watched through the app."""
    intake = fake_google.drive.add_file("Contract intake", mime_type=FOLDER)["id"]
    elsewhere = fake_google.drive.add_file("Desktop drafts", mime_type=FOLDER)["id"]
    port = free_port()
    app: Flask = create_app(
        make_settings(tmp_path, **google_settings(database_url, fake_google, port, intake))
    )
    services = app.extensions["handover"]
    clock = Clock()
    services.clock = clock
    with LiveServer(app, port) as server:
        result = kickoff.submit_handover(
            example_handover(),
            idempotency_key=None,
            actor="test",
            db=services.db,
            tasks=services.tasks,
        )
        assert services.tasks.wait_idle(timeout=60)
        with services.db.transaction() as session:
            account = session.scalar(
                select(AccountRow).where(AccountRow.client_name == "Acme Corp")
            )
            assert account is not None and account.contracts_folder_id, result.handover_id
            contracts_folder = account.contracts_folder_id
        # What `handover watch-drive` does once the service is deployed.
        assert channels.ensure_channel(
            db=services.db,
            feed=services.change_feed,
            address=channels.hook_address(server.url),
            now=clock(),
        )
        agency = Agency(
            server,
            services,
            fake_google,
            clock,
            contracts_folder,
            intake,
            elsewhere,
            database_url,
            tmp_path / "workspace",
        )
        wait_until(  # the `sync` message
            lambda: [d.status for d in fake_google.drive.notifications] == [200], timeout=20
        )
        yield agency
        fake_google.drive.notify_drop_rate = 1.0  # nothing more for a server going away
    close_app(app)
    assert fake_google.crashes == []


# --- arrival ------------------------------------------------------------------------------


def test_an_upload_is_routed_to_the_pm_once_with_a_business_day_to_review(
    agency: Agency,
) -> None:
    agency.clock.pinned = FRIDAY_4PM
    draft = agency.upload("SOW - Acme v1.docx", agency.contracts)

    review = agency.routed(draft["id"])

    assert (review.kind, review.account_key, review.pm_email) == ("sow", "acmecorp.example", PM)
    assert len(agency.reviews()) == 1
    # Friday 16:00 in London -> Monday 16:00 in London: one whole business day.
    assert review.deadline == datetime(2026, 11, 30, 16, 0, tzinfo=LONDON)
    assert review.deadline == review_deadline(review.routed_at, "Europe/London", "GB")
    # The PM is a writer of the client folder (the kickoff shared it), so of the draft too:
    # no grant of its own is needed (an intake draft gets one, see below).
    assert agency.effective_role(draft["id"], PM) == "writer"
    assert [p["role"] for p in agency.fake.drive.permissions[draft["id"]]] == ["owner"]
    [mail] = agency.mails()
    assert (mail["to"], mail["cc"]) == (PM, AM)
    assert mail["subject"].startswith("Contract review: SOW - Acme v1.docx (Acme Corp)")
    assert "Please review by Monday 30 November, 16:00 (London time)" in mail["text"]
    assert f"{agency.server.url}/reviews/{review.id}" in mail["text"]
    assert draft["webViewLink"] in mail["text"]

    run_job(agency.services, "sync_drive", {})  # the reconcile finds nothing new
    agency.quiet()
    assert len(agency.reviews()) == 1 and len(agency.mails()) == 1


def test_the_first_draft_after_watch_drive_is_not_lost(agency: Agency) -> None:
    # The fixture synced nothing before the channel was opened: this upload's notification
    # wakes the very first sync, which must read from where the channel started.
    assert agency.serial() == 0  # the token the channel started from, stored by it
    draft = agency.upload("MSA - Acme.pdf", agency.contracts)
    assert agency.routed(draft["id"]).kind == "msa"


def test_a_draft_moved_in_from_another_folder_is_routed(agency: Agency) -> None:
    draft = agency.upload("SOW - Acme v2.docx", agency.elsewhere)
    agency.quiet()
    assert agency.reviews() == []

    agency.fake.drive.move_file(draft["id"], [agency.contracts], [agency.elsewhere])

    review = agency.routed(draft["id"])
    assert review.folder_id == agency.contracts
    assert len(agency.mails()) == 1


def test_a_desktop_synced_draft_with_a_2019_date_is_routed(agency: Agency) -> None:
    old = datetime(2019, 3, 1, 9, 30, tzinfo=UTC)
    draft = agency.upload("Amendment 2 - Acme.pdf", agency.contracts, created=old)
    assert draft["createdTime"].startswith("2019-03-01")

    review = agency.routed(draft["id"])

    assert review.kind == "amendment"
    assert len(agency.mails()) == 1


def test_a_file_renamed_into_a_draft_is_routed(agency: Agency) -> None:
    notes = agency.upload("notes.txt", agency.contracts)
    agency.quiet()
    assert agency.reviews() == []

    agency.fake.drive.rename_file(notes["id"], "MSA draft.pdf")

    review = agency.routed(notes["id"])
    assert (review.name, review.kind) == ("MSA draft.pdf", "msa")
    assert len(agency.mails()) == 1


def test_other_files_are_recorded_and_not_routed(agency: Agency) -> None:
    notes = agency.upload("Kickoff notes.txt", agency.contracts)
    photo = agency.upload("Contract signing.jpg", agency.contracts)  # a name is not enough
    agency.quiet()

    with agency.services.db.transaction() as session:
        seen = {r.file_id: r.name for r in session.scalars(select(SeenFileRow))}
    assert seen[notes["id"]] == "Kickoff notes.txt"
    assert seen[photo["id"]] == "Contract signing.jpg"
    assert agency.reviews() == [] and agency.mails() == []


# --- unreliable delivery ------------------------------------------------------------------


def test_duplicate_notifications_still_route_once(agency: Agency) -> None:
    agency.fake.drive.notify_duplicate_rate = 1.0
    agency.fake.drive.notify_delay = 0.05  # and out of order
    draft = agency.upload("SOW - Acme v3.pdf", agency.contracts)

    agency.routed(draft["id"])
    agency.fake.drive.move_file(draft["id"])  # touched again: more duplicates, same version
    agency.quiet()

    changes = [
        d for d in agency.fake.drive.notifications if d.headers["X-Goog-Resource-State"] == "change"
    ]
    assert len(changes) >= 4 and all(d.status == 200 for d in changes)
    assert len(agency.reviews()) == 1
    assert len(agency.mails()) == 1


@pytest.mark.parametrize("reconcile", ["job", "cli"])
def test_lost_notifications_are_made_up_by_the_reconcile(agency: Agency, reconcile: str) -> None:
    agency.fake.drive.notify_drop_rate = 1.0
    draft = agency.upload("SOW - Acme v4.docx", agency.contracts)
    time.sleep(0.3)
    agency.quiet()
    assert agency.reviews() == [] and agency.mails() == []

    if reconcile == "job":
        run_job(agency.services, "sync_drive", {})  # what cron's POST /tasks/sync_drive runs
        agency.quiet()
    else:
        run_cli(agency, "sync-drive")

    review = agency.review_of(draft["id"])
    assert review is not None and review.state == rules.OPEN
    assert len(agency.mails()) == 1
    run_job(agency.services, "sync_drive", {})
    agency.quiet()
    assert len(agency.reviews()) == 1 and len(agency.mails()) == 1


def run_cli(agency: Agency, *args: str) -> str:
    """Run the `handover` command in its own process against the same database and fake."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": agency.database_url,
        "WORKSPACE_DIR": str(agency.workspace),
        "WORKSPACE_BACKEND": "google",
        "GOOGLE_API_ENDPOINT": agency.fake.url,
        "GOOGLE_AUTH": "anonymous",
        "GOOGLE_IMPERSONATE": SERVICE_USER,
        "GOOGLE_RETRY_BASE": "0.01",
        "PUBLIC_BASE_URL": agency.server.url,
        "DRIVE_INTAKE_FOLDER": agency.intake,
        "REVIEW_SETTLE_SECONDS": "0",
        "SECRET_KEY": "test-secret-key",
    }
    command = [str(Path(sys.executable).with_name("handover")), *args]
    done = subprocess.run(  # noqa: S603 - our own command
        command, env=env, capture_output=True, text=True, timeout=120, cwd=Path.cwd()
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_forged_notification_is_refused_and_changes_nothing(agency: Agency) -> None:
    agency.fake.drive.notify_drop_rate = 1.0  # Drive says nothing about this upload
    draft = agency.upload("SOW - Acme v5.pdf", agency.contracts)
    agency.quiet()
    channel_id, token, resource_id, _, _ = agency.live_channel()
    before = (agency.channel_rows(), agency.serial())
    forged = {
        "X-Goog-Channel-ID": channel_id,
        "X-Goog-Channel-Token": token[:-2] + ("xx" if not token.endswith("xx") else "yy"),
        "X-Goog-Resource-ID": resource_id,
        "X-Goog-Resource-State": "change",
        "X-Goog-Message-Number": "99",
    }

    assert post_hook(agency.server.url, forged) == 403
    assert post_hook(agency.server.url, {**forged, "X-Goog-Channel-ID": "f" * 32}) == 403
    agency.quiet()

    assert (agency.channel_rows(), agency.serial()) == before
    assert agency.reviews() == [] and agency.mails() == []
    assert channel_id in agency.fake.drive.channels  # ours is left open
    genuine = {**forged, "X-Goog-Channel-Token": token}
    assert post_hook(agency.server.url, genuine) == 200
    assert agency.routed(draft["id"]).state == rules.OPEN


def test_a_channel_is_renewed_before_it_expires_and_pushes_keep_coming(agency: Agency) -> None:
    old_id, old_token, old_resource, expires_at, _ = agency.live_channel()
    assert expires_at - datetime.now(UTC) > timedelta(days=6)
    run_job(agency.services, "renew_channels", {})
    assert agency.live_channel()[0] == old_id  # a week left: nothing to do

    agency.clock.offset = timedelta(days=6, hours=12)
    run_job(agency.services, "renew_channels", {})

    new_id = agency.live_channel()[0]
    assert new_id != old_id
    assert list(agency.fake.drive.channels) == [new_id]
    calls = [
        (r.method_id, (r.body or {}).get("id"))
        for r in agency.fake.requests
        if r.method_id in ("drive.changes.watch", "drive.channels.stop")
    ]
    assert calls[-2:] == [("drive.changes.watch", new_id), ("drive.channels.stop", old_id)]
    draft = agency.upload("SOW - Acme v6.docx", agency.contracts)
    assert agency.routed(draft["id"]).state == rules.OPEN
    delivered = [
        d.headers["X-Goog-Channel-ID"]
        for d in agency.fake.drive.notifications
        if d.headers["X-Goog-Resource-State"] == "change" and d.status == 200
    ]
    assert delivered[-1] == new_id
    stale = {
        "X-Goog-Channel-ID": old_id,
        "X-Goog-Channel-Token": old_token,
        "X-Goog-Resource-ID": old_resource,
        "X-Goog-Resource-State": "change",
    }
    assert post_hook(agency.server.url, stale) == 403  # a late post on the stopped channel


def test_a_renewal_whose_watch_answer_is_lost_opens_another_and_stops_the_lost_one(
    agency: Agency,
) -> None:
    old_id = agency.live_channel()[0]
    # The watch takes effect, then its answer is lost; the retry finds the id taken (400).
    agency.fake.faults.add(Fault(reset=True, after=True, method_id="drive.changes.watch", times=1))
    agency.clock.offset = timedelta(days=6, hours=12)

    run_job(agency.services, "renew_channels", {})

    watched = [
        (r.body or {})["id"] for r in agency.fake.requests if r.method_id == "drive.changes.watch"
    ]
    lost, new_id = watched[-3], watched[-1]  # the lost one, its retry, then a new id
    assert watched[-2] == lost and new_id != lost
    assert agency.live_channel()[0] == new_id
    assert set(agency.fake.drive.channels) == {lost, new_id}  # the old one stopped
    assert old_id not in agency.fake.drive.channels

    draft = agency.upload("SOW - Acme v7.docx", agency.contracts)
    assert agency.routed(draft["id"]).state == rules.OPEN
    statuses = {
        d.headers["X-Goog-Channel-ID"]: d.status
        for d in agency.fake.drive.notifications
        if d.headers["X-Goog-Resource-State"] == "change"
    }
    assert (statuses[lost], statuses[new_id]) == (403, 200)
    # stopped at its first post
    wait_until(lambda: lost not in agency.fake.drive.channels, timeout=20)
    assert len(agency.reviews()) == 1 and len(agency.mails()) == 1


# --- sharing, intake and approvals ---------------------------------------------------------


def test_a_draft_shared_outside_before_approval_alerts_the_am_and_pm(agency: Agency) -> None:
    draft = agency.upload("MSA - Acme v1.pdf", agency.contracts)
    review = agency.routed(draft["id"])
    assert review.flagged_external_at is None

    agency.fake.drive.share_file(draft["id"], email="someone@gmail.com")
    wait_until(lambda: len(agency.mails("Alert:")) == 1, timeout=20)
    agency.fake.drive.share_file(draft["id"], domain="acme.example")  # one alert is enough
    agency.quiet()

    review = agency.review_of(draft["id"])
    assert review is not None and review.flagged_external_at is not None
    assert review.external_recipients == ["someone@gmail.com"]
    assert review.external_alerted_at is not None
    [alert] = agency.mails("Alert:")
    assert sorted(a.strip() for a in alert["to"].split(",")) == [AM, PM]
    assert "MSA - Acme v1.pdf" in alert["subject"] and "someone@gmail.com" in alert["text"]


def test_a_decided_google_doc_is_not_reopened_by_shares_comments_or_approvals(
    agency: Agency,
) -> None:
    doc = agency.fake.drive.add_file(
        "SOW - Acme (Google Doc)", [agency.contracts],
        mime_type="application/vnd.google-apps.document", text="Scope: a platform.\n",
    )
    review = agency.routed(doc["id"])
    contracts.decide(
        review.id, "approved", "fine", actor=PM, actor_role="pm", db=agency.services.db,
        clock=agency.clock,
    )
    # Nobody edits it; Drive's `version` moves on all the same (a share, a comment).
    agency.fake.drive.share_file(doc["id"], email="dev1@agency.example")
    agency.fake.drive.bump_version(doc["id"])
    agency.quiet()
    run_job(agency.services, "sync_drive", {})
    agency.quiet()

    assert [(r.revision, r.state) for r in agency.reviews()] == [(1, rules.APPROVED)]
    assert len(agency.mails()) == 1

    agency.clock.offset = timedelta(seconds=1)
    agency.fake.docs.edit_text(doc["id"], "Scope: a platform and an app.\n")  # an edit
    agency.quiet()
    run_job(agency.services, "sync_drive", {})
    agency.quiet()
    assert [r.revision for r in agency.reviews()] == [1, 2]


def in_a_shared_drive(agency: Agency, members: list[tuple[str, str]]) -> str:
    """Move Acme Corp's client folder into a shared drive with these members."""
    drive = agency.fake.drive.add_shared_drive("Clients", members)
    with agency.services.db.transaction() as session:
        account = session.scalar(select(AccountRow).where(AccountRow.client_name == "Acme Corp"))
        assert account is not None and account.folder_id
        folder = account.folder_id
    agency.fake.drive.move_file(folder, [drive], [agency.fake.drive.root_id])
    agency.quiet()
    return drive


def permission_lists(agency: Agency, file_id: str) -> int:
    return sum(
        1
        for r in agency.fake.requests
        if r.method_id == "drive.permissions.list" and f"/files/{file_id}/" in r.path
    )


def test_a_draft_in_a_shared_drive_the_client_is_a_member_of_alerts_the_am_and_pm(
    agency: Agency,
) -> None:
    # Drive leaves permissions out of files in shared drives: the change feed cannot say
    # who sees the draft, so the service asks (the drive's members included).
    in_a_shared_drive(agency, [(PM, "organizer"), ("cleo@acmecorp.example", "reader")])
    draft = agency.upload("SOW - Acme v9.docx", agency.contracts)

    wait_until(lambda: len(agency.mails("Alert:")) == 1, timeout=20)
    agency.quiet()

    review = agency.review_of(draft["id"])
    assert review is not None and review.external_recipients == ["cleo@acmecorp.example"]
    assert "driveId" in agency.fake.drive.view(agency.fake.drive.files[draft["id"]])
    assert permission_lists(agency, draft["id"]) >= 1
    assert len(agency.mails()) == 1  # routed once as well


def test_a_draft_in_a_shared_drive_of_agency_people_only_is_routed_without_alert(
    agency: Agency,
) -> None:
    in_a_shared_drive(agency, [(PM, "organizer"), (AM, "writer")])
    draft = agency.upload("SOW - Acme v10.docx", agency.contracts)

    review = agency.routed(draft["id"])

    assert review.flagged_external_at is None and agency.mails("Alert:") == []
    assert permission_lists(agency, draft["id"]) >= 1


def acme(agency: Agency) -> AccountRow:
    with agency.services.db.transaction() as session:
        account = session.scalar(select(AccountRow).where(AccountRow.client_name == "Acme Corp"))
        assert account is not None
        session.expunge(account)
        return account


def second_project(agency: Agency) -> str:
    """Kick off another project of Acme Corp and wait for its steps."""
    data = example_handover()
    data["project"]["name"] = "Acme Corp Loyalty App"
    handover_id = kickoff.submit_handover(
        data, idempotency_key=None, actor="test", db=agency.services.db,
        tasks=agency.services.tasks,
    ).handover_id
    assert agency.services.tasks.wait_idle(timeout=60)
    agency.quiet()
    return handover_id


def brief_parent(agency: Agency, project: str) -> str:
    [brief] = [
        f for f in agency.fake.drive.files.values() if f["name"] == f"Project Brief - {project}"
    ]
    return str(brief["parents"][0])


def test_a_client_folder_trashed_in_drive_is_made_again_for_the_next_project(
    agency: Agency,
) -> None:
    old = acme(agency)
    agency.fake.drive.trash_file(old.folder_id)
    wait_until(lambda: acme(agency).folder_lost_at is not None, timeout=20)  # seen through the feed
    assert acme(agency).contracts_lost_at is not None  # the Contracts folder went with it

    second_project(agency)

    new = acme(agency)
    assert new.folder_id != old.folder_id and new.contracts_folder_id != old.contracts_folder_id
    assert (new.folder_lost_at, new.contracts_lost_at) == (None, None)
    folder = agency.fake.drive.files[new.folder_id]
    assert (folder["name"], folder.get("trashed", False)) == ("Acme Corp", False)
    assert agency.fake.drive.files[new.contracts_folder_id]["parents"] == [new.folder_id]
    assert brief_parent(agency, "Acme Corp Loyalty App") == new.folder_id
    assert agency.fake.drive.files[old.folder_id]["trashed"]  # the old one left in the trash
    draft = agency.upload("SOW - Acme v11.docx", new.contracts_folder_id)
    assert agency.routed(draft["id"]).folder_id == new.contracts_folder_id


def test_a_client_folder_restored_from_the_trash_is_used_again(agency: Agency) -> None:
    old = acme(agency)
    agency.fake.drive.trash_file(old.folder_id)
    wait_until(lambda: acme(agency).folder_lost_at is not None, timeout=20)
    agency.fake.drive.trash_file(old.folder_id, trashed=False)
    wait_until(lambda: acme(agency).folder_lost_at is None, timeout=20)

    second_project(agency)

    new = acme(agency)
    assert (new.folder_id, new.contracts_folder_id) == (old.folder_id, old.contracts_folder_id)
    assert brief_parent(agency, "Acme Corp Loyalty App") == old.folder_id
    folders = [f for f in agency.fake.drive.files.values() if f["name"] == "Acme Corp"]
    assert len(folders) == 1
    actions = [row[1] for row in audit_of(agency, old.key)]
    assert actions == ["account.folder_lost", "account.folder_back"]


def audit_of(agency: Agency, subject: str) -> list[tuple[str, str]]:
    from service.store.models import AuditRow

    with agency.services.db.transaction() as session:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.subject == subject).order_by(AuditRow.id)
        )
        return [(r.actor, r.action) for r in rows]


def test_an_intake_draft_naming_no_client_waits_in_the_unmatched_queue(agency: Agency) -> None:
    draft = agency.upload("SOW - new prospect.docx", agency.intake)
    wait_until(lambda: agency.review_of(draft["id"]) is not None, timeout=20)
    agency.quiet()

    review = agency.review_of(draft["id"])
    assert review is not None
    assert (review.state, review.account_key, review.pm_email) == (rules.UNMATCHED, None, None)
    assert agency.mails() == []
    assert agency.effective_role(draft["id"], PM) is None
    answer = agency.server.app.test_client().get(
        "/api/reviews?state=unmatched", headers={"Authorization": f"Bearer {OPS_TOKEN}"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert [r["id"] for r in answer.get_json()["reviews"]] == [review.id]


@pytest.mark.parametrize("pm_sees_intake", [False, True])
def test_an_unmatched_draft_shared_outside_alerts_once_it_has_an_account(
    agency: Agency, pm_sees_intake: bool
) -> None:
    if pm_sees_intake:  # then giving the PM the draft changes nothing in Drive
        agency.fake.drive.share_file(agency.intake, email=PM, role="writer")
    draft = agency.upload("SOW - new prospect.docx", agency.intake)
    wait_until(lambda: agency.review_of(draft["id"]) is not None, timeout=20)
    agency.fake.drive.share_file(draft["id"], email="cfo@prospect.example")
    agency.quiet()
    assert agency.mails("Alert:") == []  # nobody to alert yet

    review = agency.review_of(draft["id"])
    assert review is not None
    s = agency.services
    # What Operations' choice on the review page runs.
    contracts.assign_unmatched(
        review.id, "acmecorp.example", actor="ops@agency.example", db=s.db, tasks=s.tasks
    )
    agency.routed(draft["id"])

    [alert] = agency.mails("Alert:")
    assert sorted(a.strip() for a in alert["to"].split(",")) == [AM, PM]
    assert "cfo@prospect.example" in alert["text"]
    assert len(agency.mails()) == 1


def test_an_intake_draft_naming_the_client_is_shared_with_its_pm(agency: Agency) -> None:
    draft = agency.upload("Acme Corp - change order 3.pdf", agency.intake)

    review = agency.routed(draft["id"])

    assert (review.account_key, review.kind) == ("acmecorp.example", "change_order")
    # The intake folder is not the client's: the PM gets the draft itself, as commenter.
    own = {p.get("emailAddress"): p["role"] for p in agency.fake.drive.permissions[draft["id"]]}
    assert own == {SERVICE_USER: "owner", PM: "commenter"}
    assert len(agency.mails()) == 1


def test_a_native_approval_asks_the_pm_by_the_deadline_once_despite_retries(
    agency: Agency,
) -> None:
    agency.clock.pinned = FRIDAY_4PM
    agency.fake.drive.can_start_approval = True
    # The approval's answer is lost once, then the email fails: routing is retried whole.
    agency.fake.faults.add(
        Fault(status=503, method_id="drive.approvals.start", times=1, after=True)
    )
    refused_mail = Fault(
        status=400, reason="invalidArgument", method_id="gmail.users.drafts.send", times=1
    )
    agency.fake.faults.add(refused_mail)
    draft = agency.upload("MSA - Acme v2.docx", agency.contracts)
    # The first routing failed at its email (the approval's own change may wake a sync
    # that retries it at once, so the failure itself can be gone by the time one looks).
    wait_until(lambda: refused_mail.fired == 1, timeout=20)
    agency.quiet()
    # Starting the approval changed the file (Drive moves its `version`): that change's
    # notification wakes a sync, which may have retried the routing already.
    assert len(agency.mails()) <= 1

    run_job(agency.services, "sync_drive", {})  # every sync queues unfinished routing again
    review = agency.routed(draft["id"])

    [approval] = agency.fake.drive.approvals[draft["id"]]
    assert review.approval_id == approval["approvalId"]
    assert [r["reviewer"]["emailAddress"] for r in approval["reviewerResponses"]] == [PM]
    assert review.deadline == datetime(2026, 11, 30, 16, 0, tzinfo=LONDON)
    assert approval["dueTime"] == "2026-11-30T16:00:00Z"  # London is on UTC in November
    assert approval["status"] == "IN_PROGRESS"
    [mail] = agency.mails()
    assert mail["to"] == PM
    run_job(agency.services, "route_review", {"review_id": review.id})
    agency.quiet()
    assert len(agency.fake.drive.approvals[draft["id"]]) == 1 and len(agency.mails()) == 1


def test_a_deadline_always_leaves_a_business_day_in_the_pms_zone(agency: Agency) -> None:
    draft = agency.upload("SOW - Acme v7.pdf", agency.contracts)
    review = agency.routed(draft["id"])
    assert review.deadline is not None and review.routed_at is not None
    assert review.deadline - review.routed_at >= timedelta(days=1)
    assert is_business_day(review.deadline.astimezone(LONDON).date(), "GB")
