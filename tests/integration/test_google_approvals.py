"""GoogleApprovals against the loopback fake: capability first, one approval per review.

The fake's approvals live in `fake.drive.approvals` (tests/fakes/drive_approvals.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from integrations.google.approvals import GoogleApprovals
from integrations.google.auth import Clients
from integrations.google.execute import RetryPolicy
from integrations.ports import ApprovalRequest
from tests.fakes import FakeGoogle, Fault

FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)


@pytest.fixture
def clients(fake_google: FakeGoogle) -> Iterator[Clients]:
    clients = Clients(credentials=None, endpoint=fake_google.url)
    yield clients
    clients.close()


DUE = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def request_for(file_id: str) -> ApprovalRequest:
    return ApprovalRequest(file_id, "pat@agency.example", DUE, "Please review the Acme MSA.")


def test_no_approval_where_the_edition_does_not_allow_it(
    fake_google: FakeGoogle, clients: Clients
) -> None:
    draft = fake_google.drive.add_file("MSA.pdf")
    assert GoogleApprovals(clients, policy=FAST).start(request_for(draft["id"])) is None
    assert not any("approvals" in r.path for r in fake_google.requests)


def test_an_approval_asks_the_reviewer_by_the_deadline_once(
    fake_google: FakeGoogle, clients: Clients
) -> None:
    approvals = fake_google.drive.approvals
    fake_google.drive.can_start_approval = True
    draft = fake_google.drive.add_file("MSA.pdf")
    adapter = GoogleApprovals(clients, policy=FAST)

    first = adapter.start(request_for(draft["id"]))
    again = adapter.start(request_for(draft["id"]))

    assert first is not None and again == first
    (made,) = approvals[draft["id"]]
    assert made["approvalId"] == first
    assert made["dueTime"] == "2026-11-30T17:00:00Z"
    assert made["_message"] == "Please review the Acme MSA."
    assert [r["reviewer"]["emailAddress"] for r in made["reviewerResponses"]] == [
        "pat@agency.example"
    ]
    started = next(r for r in fake_google.requests if r.method_id == "drive.approvals.start")
    assert started.path == f"/drive/v3/files/{draft['id']}/approvals:start"


def test_a_lost_answer_to_the_start_does_not_start_a_second_approval(
    fake_google: FakeGoogle, clients: Clients
) -> None:
    approvals = fake_google.drive.approvals
    fake_google.drive.can_start_approval = True
    draft = fake_google.drive.add_file("SOW.pdf")
    fake_google.faults.add(
        Fault(status=503, method_id="drive.approvals.start", times=1, after=True)
    )
    approval_id = GoogleApprovals(clients, policy=FAST).start(request_for(draft["id"]))
    assert [a["approvalId"] for a in approvals[draft["id"]]] == [approval_id]


def test_drive_refusing_the_start_falls_back_to_the_review_page(
    fake_google: FakeGoogle, clients: Clients
) -> None:
    fake_google.drive.can_start_approval = True
    draft = fake_google.drive.add_file("SOW.pdf")
    fake_google.faults.add(
        Fault(status=403, reason="forbidden", method_id="drive.approvals.start", times=1)
    )
    assert GoogleApprovals(clients, policy=FAST).start(request_for(draft["id"])) is None


def test_a_naive_due_time_is_refused(fake_google: FakeGoogle, clients: Clients) -> None:
    fake_google.drive.can_start_approval = True
    draft = fake_google.drive.add_file("SOW.pdf")
    naive = ApprovalRequest(draft["id"], "pat@agency.example", datetime(2026, 11, 30), "x")
    with pytest.raises(ValueError, match="time zone"):
        GoogleApprovals(clients, policy=FAST).start(naive)
