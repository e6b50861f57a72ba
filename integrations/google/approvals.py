"""The Approvals port on Drive v3's native approvals (`files/{fileId}/approvals:start`).

Starting an approval is not idempotent at Google, so before starting one (and before a
retry of a start whose answer was lost) the file's approvals are read: an approval in
progress for the same reviewer is the one we started.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from integrations.google.auth import Clients
from integrations.google.errors import PermissionDenied
from integrations.google.execute import RetryPolicy, run
from integrations.ports import ApprovalRequest

log = logging.getLogger("integrations.google")
APPROVAL_LIST_FIELDS = (
    "nextPageToken,items(approvalId,status,reviewerResponses(reviewer(emailAddress),response))"
)


def rfc3339(moment: datetime) -> str:
    """Return the moment as an RFC 3339 UTC timestamp; a naive datetime is refused."""
    if moment.tzinfo is None:
        raise ValueError("an approval's due time must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GoogleApprovals:
    """Native Drive approvals, started as the service user."""

    def __init__(self, clients: Clients, *, policy: RetryPolicy) -> None:
        self._clients = clients
        self._policy = policy

    def start(self, request: ApprovalRequest) -> str | None:
        """Start an approval; return its id, or None when Drive cannot approve this file."""
        if not self._can_start(request.file_id):
            return None
        found = self._in_progress(request.file_id, request.reviewer)
        if found is not None:
            return str(found["approvalId"])
        body = {
            "reviewerEmails": [request.reviewer],
            "dueTime": rfc3339(request.due),
            "message": request.message,
        }
        approvals = self._clients.collection("drive", "v3", "approvals")
        try:
            answer = run(
                approvals.start(fileId=request.file_id, body=body),
                policy=self._policy,
                already_done=lambda: self._in_progress(request.file_id, request.reviewer),
            )
        except PermissionDenied as exc:
            # The capability said yes but Drive says no (edition, admin setting, a lock):
            # the review goes to the service's own page instead.
            log.warning("approval refused on %s: %s", request.file_id, exc)
            return None
        return str(answer["approvalId"])

    def _can_start(self, file_id: str) -> bool:
        files = self._clients.collection("drive", "v3", "files")
        request = files.get(
            fileId=file_id, fields="capabilities(canStartApproval)", supportsAllDrives=True
        )
        answer = run(request, policy=self._policy)
        return bool((answer.get("capabilities") or {}).get("canStartApproval", False))

    def _in_progress(self, file_id: str, reviewer: str) -> dict[str, Any] | None:
        """Return the file's approval in progress that asks this reviewer, if any."""
        approvals = self._clients.collection("drive", "v3", "approvals")
        wanted = reviewer.lower()
        token: str | None = None
        while True:
            # Without `fields`, Drive answers a minimal list with no `items` at all.
            request = approvals.list(
                fileId=file_id, pageSize=100, pageToken=token, fields=APPROVAL_LIST_FIELDS
            )
            answer = run(request, policy=self._policy)
            for item in answer.get("items", ()):
                reviewers = {
                    str((r.get("reviewer") or {}).get("emailAddress", "")).lower()
                    for r in item.get("reviewerResponses") or ()
                }
                if item.get("status") == "IN_PROGRESS" and wanted in reviewers:
                    return dict(item)
            token = answer.get("nextPageToken")
            if not token:
                return None
