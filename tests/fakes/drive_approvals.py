"""Drive v3 native approvals (`files/{fileId}/approvals`): start, list and get.

Only a file whose `capabilities.canStartApproval` is true (set `drive.can_start_approval`
before the file is made) takes an approval; otherwise start answers 403, as Drive does
for an edition without approvals. Like Drive, starting is not idempotent: two starts
make two approvals. `drive.approvals` maps a file id to its approvals in Google's JSON
shape, plus `_message` (the message the initiator sent the reviewers).
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.core import ApiError, Call, Reply, bad_request, not_found

if TYPE_CHECKING:
    from tests.fakes.drive import DriveState


class ApprovalsMixin:
    """approvals.* handlers for DriveState."""

    def reset_approvals(self: DriveState) -> None:
        self.approvals: dict[str, list[dict[str, Any]]] = {}
        self._approval_numbers = itertools.count(1)

    def approvals_handlers(self: DriveState) -> dict[str, Callable[[Call], Reply]]:
        return {
            "drive.approvals.start": self.approvals_start,
            "drive.approvals.list": self.approvals_list,
            "drive.approvals.get": self.approvals_get,
        }

    def approvals_start(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        if not file["capabilities"].get("canStartApproval"):
            raise ApiError(403, "Approvals cannot be started on this file.", "forbidden")
        body = call.body or {}
        reviewers = body.get("reviewerEmails") or []
        if not reviewers:
            raise bad_request("reviewerEmails is required.", "required", "reviewerEmails")
        stamp = self.clock.stamp()
        approval: dict[str, Any] = {
            "kind": "drive#approval",
            "approvalId": f"appr-{next(self._approval_numbers)}-{uuid.uuid4().hex[:6]}",
            "targetFileId": file["id"],
            "status": "IN_PROGRESS",
            "initiator": {"kind": "drive#user", "emailAddress": self.user_email},
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
        }
        if body.get("dueTime"):
            approval["dueTime"] = body["dueTime"]
        self.approvals.setdefault(file["id"], []).append(
            {**approval, "_message": body.get("message")}
        )
        self.bump_version(file["id"])
        return Reply(json=copy.deepcopy(approval))

    def approvals_list(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        items = [_public(a) for a in self.approvals.get(file["id"], [])]
        token = call.param("pageToken") or "0"
        if not token.isdigit():
            raise bad_request(f"Invalid Value: {token}", "invalid", "pageToken")
        offset, size = int(token), min(int(call.param("pageSize", 100)), 100)
        answer: dict[str, Any] = {"kind": "drive#approvalList", "items": items[offset:][:size]}
        if offset + size < len(items):
            answer["nextPageToken"] = str(offset + size)
        return Reply(json=answer)

    def approvals_get(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        for approval in self.approvals.get(file["id"], []):
            if approval["approvalId"] == call.params["approvalId"]:
                return Reply(json=_public(approval))
        raise not_found(f"Approval not found: {call.params['approvalId']}.", "approvalId")


def _public(approval: dict[str, Any]) -> dict[str, Any]:
    """The approval as Drive answers it (the fake's own keys left out)."""
    return {k: copy.deepcopy(v) for k, v in approval.items() if not k.startswith("_")}
