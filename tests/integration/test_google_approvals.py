"""GoogleApprovals against the loopback fake: capability first, one approval per review.

FakeGoogle does not emulate drive.approvals.*: `install_approvals` below is the proposed
addition to tests/fakes (a `drive_approvals.py` mixin), installed here on the running fake.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from integrations.google.approvals import GoogleApprovals
from integrations.google.auth import Clients
from integrations.google.execute import RetryPolicy
from integrations.ports import ApprovalRequest
from tests.fakes import FakeGoogle, Fault
from tests.fakes.core import ApiError, Call, Reply, bad_request, not_found

FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)


@pytest.fixture
def clients(fake_google: FakeGoogle) -> Iterator[Clients]:
    clients = Clients(credentials=None, endpoint=fake_google.url)
    yield clients
    clients.close()


def install_approvals(fake: FakeGoogle) -> dict[str, list[dict[str, Any]]]:
    """Teach the fake approvals.start and approvals.list; return its approvals by file."""
    drive = fake.drive
    approvals: dict[str, list[dict[str, Any]]] = {}
    numbers: Callable[[], int] = itertools.count(1).__next__

    def start(call: Call) -> Reply:
        file = drive._get(call.params["fileId"])
        if not file["capabilities"].get("canStartApproval"):
            raise ApiError(403, "Approvals cannot be started on this file.", "forbidden")
        body = call.body or {}
        reviewers = body.get("reviewerEmails") or []
        if not reviewers:
            raise bad_request("reviewerEmails is required.", "required", "reviewerEmails")
        stamp = drive.clock.stamp()
        approval = {
            "kind": "drive#approval",
            "approvalId": f"appr-{numbers()}-{uuid.uuid4().hex[:6]}",
            "status": "IN_PROGRESS",
            "initiator": {"kind": "drive#user", "emailAddress": drive.user_email},
            "reviewerResponses": [
                {
                    "kind": "drive#reviewerResponse",
                    "reviewer": {"kind": "drive#user", "emailAddress": email},
                    "response": "NO_RESPONSE",
                }
                for email in reviewers
            ],
            "createTime": stamp,
            "modifyTime": stamp,
            **({"dueTime": body["dueTime"]} if body.get("dueTime") else {}),
        }
        approvals.setdefault(file["id"], []).append({**approval, "_message": body.get("message")})
        return Reply(json=approval)

    def list_(call: Call) -> Reply:
        if call.params["fileId"] not in drive.files:
            raise not_found(f"File not found: {call.params['fileId']}.", "fileId")
        items = [
            {k: v for k, v in a.items() if not k.startswith("_")}
            for a in approvals.get(call.params["fileId"], [])
        ]
        offset = int(call.param("pageToken", "0"))
        size = int(call.param("pageSize", 100))
        answer: dict[str, Any] = {"kind": "drive#approvalList", "items": items[offset:][:size]}
        if offset + size < len(items):
            answer["nextPageToken"] = str(offset + size)
        return Reply(json=answer)

    fake.dispatcher.handlers["drive.approvals.start"] = start
    fake.dispatcher.handlers["drive.approvals.list"] = list_
    return approvals


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
    approvals = install_approvals(fake_google)
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
    approvals = install_approvals(fake_google)
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
    install_approvals(fake_google)
    fake_google.drive.can_start_approval = True
    draft = fake_google.drive.add_file("SOW.pdf")
    fake_google.faults.add(
        Fault(status=403, reason="forbidden", method_id="drive.approvals.start", times=1)
    )
    assert GoogleApprovals(clients, policy=FAST).start(request_for(draft["id"])) is None


def test_a_naive_due_time_is_refused(fake_google: FakeGoogle, clients: Clients) -> None:
    install_approvals(fake_google)
    fake_google.drive.can_start_approval = True
    draft = fake_google.drive.add_file("SOW.pdf")
    naive = ApprovalRequest(draft["id"], "pat@agency.example", datetime(2026, 11, 30), "x")
    with pytest.raises(ValueError, match="time zone"):
        GoogleApprovals(clients, policy=FAST).start(naive)
