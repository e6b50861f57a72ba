"""Drive v3 permissions and comments.

Drive's concurrency rule for sharing ("concurrent permissions operations on the same file
are not supported; only the last update is applied") is emulated with an in-progress
window per file: a permissions.create registers itself as in flight on its file and commits
only when it finishes. Outside a batch it stays in flight for `permission_window` seconds
(default 5 ms) after its handler ran; inside a batch every part stays in flight until the
whole batch has been handled, since Google runs batch parts concurrently. A create that
starts while another create on the same file is in flight supersedes it: the earlier one
still answers 200 with its permission, but that permission is silently never applied.
Sequential creates (each answered before the next is sent) never overlap and all apply.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.core import ApiError, Call, Reply, bad_request, not_found
from tests.fakes.drive_files import permission_id as stable_id

if TYPE_CHECKING:
    from tests.fakes.drive import DriveState

ROLES = ["reader", "commenter", "writer", "fileOrganizer", "organizer", "owner"]
TYPES = {"user", "group", "domain", "anyone"}
FIELDS_REQUIRED = "The 'fields' parameter is required for this method."


@dataclass
class _PendingPermission:
    file_id: str
    permission: dict[str, Any]
    notify: bool
    message: str | None
    superseded: bool = field(default=False)


class SharingMixin:
    """permissions.* and comments.* handlers for DriveState."""

    def reset_sharing(self: DriveState) -> None:
        self.permission_window = 0.005
        self.share_emails: list[dict[str, Any]] = []
        self._in_flight: dict[str, list[_PendingPermission]] = {}

    def sharing_handlers(self: DriveState) -> dict[str, Callable[[Call], Reply]]:
        return {
            "drive.permissions.create": self.permissions_create,
            "drive.permissions.list": self.permissions_list,
            "drive.permissions.get": self.permissions_get,
            "drive.permissions.update": self.permissions_update,
            "drive.permissions.delete": self.permissions_delete,
            "drive.comments.create": self.comments_create,
            "drive.comments.list": self.comments_list,
            "drive.comments.get": self.comments_get,
            "drive.comments.delete": self.comments_delete,
        }

    # --- permissions --------------------------------------------------------------------

    def effective_permissions(self: DriveState, file_id: str) -> list[dict[str, Any]]:
        """The file's own permissions plus those inherited from its folders."""
        own = [copy.deepcopy(p) for p in self.permissions.get(file_id, [])]
        by_id = {p["id"]: p for p in own}
        seen, frontier = set(), list(self.files.get(file_id, {}).get("parents", []))
        while frontier:
            folder_id = frontier.pop()
            if folder_id in seen:
                continue
            seen.add(folder_id)
            for permission in self.permissions.get(folder_id, []):
                if permission["role"] == "owner":
                    continue
                current = by_id.get(permission["id"])
                detail = {
                    "permissionType": "file",
                    "role": permission["role"],
                    "inherited": True,
                    "inheritedFrom": folder_id,
                }
                if current is None:
                    current = copy.deepcopy(permission)
                    current["permissionDetails"] = [detail]
                    by_id[current["id"]] = current
                    own.append(current)
                elif ROLES.index(permission["role"]) > ROLES.index(current["role"]):
                    current["role"] = permission["role"]
                    current.setdefault("permissionDetails", []).append(detail)
            frontier.extend(self.files.get(folder_id, {}).get("parents", []))
        return own

    def _emails(self: DriveState, file_id: str, roles: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            p.get("emailAddress", "")
            for p in self.effective_permissions(file_id)
            if p["role"] in roles
        )

    def permissions_create(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        body = call.body or {}
        kind, role = body.get("type"), body.get("role")
        if kind not in TYPES:
            raise bad_request(
                "The permission type field is required.", "required", "permission.type"
            )
        if role not in ROLES:
            raise bad_request(
                "The permission role field is required.", "required", "permission.role"
            )
        email = (body.get("emailAddress") or "").strip()
        if kind in ("user", "group"):
            if "@" not in email:
                raise bad_request(
                    "The permission emailAddress field is required.",
                    "invalidSharingRequest",
                    "permission.emailAddress",
                )
            permission_id = stable_id(email)
        elif kind == "domain":
            if not body.get("domain"):
                raise bad_request(
                    "The permission domain field is required.", "required", "permission.domain"
                )
            permission_id = stable_id(body["domain"])[:19] + "k"
        else:
            permission_id = "anyone" if body.get("allowFileDiscovery") else "anyoneWithLink"
        if role == "owner" and not call.param("transferOwnership", False):
            raise ApiError(
                403,
                "The transferOwnership parameter must be enabled when the "
                "permission role is 'owner'.",
                "forbidden",
            )
        notify = call.param("sendNotificationEmail")
        notify = kind in ("user", "group") if notify is None else notify
        if not notify and email.lower() in {e.lower() for e in self.non_google_accounts}:
            raise bad_request(
                f'Bad Request. User message: "You are trying to invite {email}. Since there is'
                " no Google account associated with this email address, you must check the"
                " 'Notify people' box to invite this recipient.\"",
                "invalidSharingRequest",
            )
        permission = {
            "kind": "drive#permission",
            "id": permission_id,
            "type": kind,
            "role": role,
            "deleted": False,
            "pendingOwner": False,
        }
        if email:
            permission["emailAddress"] = email
            permission["displayName"] = email.split("@")[0]
        for key in ("domain", "allowFileDiscovery", "expirationTime", "view"):
            if key in body:
                permission[key] = body[key]
        pending = _PendingPermission(file["id"], permission, notify, call.param("emailMessage"))
        flights = self._in_flight.setdefault(file["id"], [])
        for earlier in flights:
            earlier.superseded = True
        flights.append(pending)
        if call.batch is not None:
            call.batch.finishers.append(lambda: self._land(pending, 0.0))
            return Reply(json=copy.deepcopy(permission))
        window = self.permission_window
        return Reply(json=copy.deepcopy(permission), finish=lambda: self._land(pending, window))

    def _land(self: DriveState, pending: _PendingPermission, wait: float) -> None:
        """End a create's in-progress window; apply it unless a later one superseded it."""
        if wait > 0:
            time.sleep(wait)
        with self.lock:
            flights = self._in_flight.get(pending.file_id, [])
            if pending in flights:
                flights.remove(pending)
            if pending.superseded or pending.file_id not in self.files:
                return
            existing = self.permissions.setdefault(pending.file_id, [])
            existing[:] = [p for p in existing if p["id"] != pending.permission["id"]]
            existing.append(pending.permission)
            self.files[pending.file_id]["shared"] = True
            self.files[pending.file_id]["version"] = str(
                int(self.files[pending.file_id]["version"]) + 1
            )
            if pending.notify:
                self.share_emails.append(
                    {
                        "fileId": pending.file_id,
                        "emailAddress": pending.permission.get("emailAddress"),
                        "role": pending.permission["role"],
                        "message": pending.message,
                    }
                )
            self.record_change(pending.file_id)

    def permissions_list(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        if not file["capabilities"].get("canShare", True):  # a reader or commenter only
            raise ApiError(
                403,
                "The user does not have sufficient permissions for this file.",
                "insufficientFilePermissions",
            )
        everything = self.effective_permissions(file["id"])
        size = min(call.param("pageSize", 100), 100)
        token = call.param("pageToken") or "0"
        if not token.isdigit():
            raise bad_request(f"Invalid Value: {token}", "invalid", "pageToken")
        offset = int(token)
        result: dict[str, Any] = {
            "kind": "drive#permissionList",
            "permissions": everything[offset : offset + size],
        }
        if offset + size < len(everything):
            result["nextPageToken"] = str(offset + size)
        return Reply(json=result)

    def _permission(self: DriveState, call: Call, *, changing: bool = False) -> dict[str, Any]:
        file = self._get(call.params["fileId"])
        for permission in self.permissions.get(file["id"], []):
            if permission["id"] == call.params["permissionId"]:
                return permission
        if changing and any(
            p["id"] == call.params["permissionId"] for p in self.effective_permissions(file["id"])
        ):
            # Inherited from a folder: "Inherited permissions cannot be removed or reduced
            # on any item" (Drive's sharing guide); it is changed where it comes from, or
            # raised with a permission of the item's own (permissions.create).
            raise ApiError(
                403,
                "The permission is inherited and cannot be modified on this item.",
                "cannotModifyInheritedPermission",
            )
        raise not_found(f"Permission not found: {call.params['permissionId']}.", "permissionId")

    def permissions_get(self: DriveState, call: Call) -> Reply:
        return Reply(json=copy.deepcopy(self._permission(call)))

    def permissions_update(self: DriveState, call: Call) -> Reply:
        permission = self._permission(call, changing=True)
        role = (call.body or {}).get("role")
        if role is not None:
            if role not in ROLES:
                raise bad_request("Invalid permission role.", "invalid", "permission.role")
            permission["role"] = role
        self.bump_version(call.params["fileId"])
        return Reply(json=copy.deepcopy(permission))

    def permissions_delete(self: DriveState, call: Call) -> Reply:
        permission = self._permission(call, changing=True)
        if permission["role"] == "owner":
            raise ApiError(403, "The owner of a file cannot be removed.", "cannotRemoveOwner")
        self.permissions[call.params["fileId"]].remove(permission)
        self.bump_version(call.params["fileId"])
        return Reply(status=204)

    # --- comments -----------------------------------------------------------------------

    def _require_fields(self: DriveState, call: Call) -> None:
        if not call.param("fields"):
            raise bad_request(FIELDS_REQUIRED, "required", "fields")

    def comments_create(self: DriveState, call: Call) -> Reply:
        self._require_fields(call)
        file = self._get(call.params["fileId"])
        body = call.body or {}
        if not body.get("content"):
            raise bad_request("A comment requires content.", "required", "content")
        stamp = self.clock.stamp()
        comment = {
            "kind": "drive#comment",
            "id": uuid.uuid4().hex[:20],
            "createdTime": stamp,
            "modifiedTime": stamp,
            "content": body["content"],
            "htmlContent": body["content"],
            "deleted": False,
            "resolved": False,
            "replies": [],
            "author": {
                "kind": "drive#user",
                "displayName": self.user_email.split("@")[0],
                "me": True,
                "emailAddress": self.user_email,
            },
        }
        for key in ("anchor", "quotedFileContent"):
            if key in body:
                comment[key] = body[key]
        self.comments.setdefault(file["id"], []).append(comment)
        self.bump_version(file["id"])
        return Reply(json=copy.deepcopy(comment))

    def comments_list(self: DriveState, call: Call) -> Reply:
        self._require_fields(call)
        file = self._get(call.params["fileId"])
        comments = [
            c
            for c in self.comments.get(file["id"], [])
            if call.param("includeDeleted", False) or not c["deleted"]
        ]
        return Reply(json={"kind": "drive#commentList", "comments": copy.deepcopy(comments)})

    def _comment(self: DriveState, call: Call) -> dict[str, Any]:
        file = self._get(call.params["fileId"])
        for comment in self.comments.get(file["id"], []):
            if comment["id"] == call.params["commentId"]:
                return comment
        raise not_found(f"Comment not found: {call.params['commentId']}.", "commentId")

    def comments_get(self: DriveState, call: Call) -> Reply:
        self._require_fields(call)
        return Reply(json=copy.deepcopy(self._comment(call)))

    def comments_delete(self: DriveState, call: Call) -> Reply:
        comment = self._comment(call)
        comment["deleted"] = True
        return Reply(status=204)
