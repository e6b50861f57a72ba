"""Drive v3 state: files and folders, the helpers tests call to act as a user, internals."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tests.fakes.core import (
    ApiError,
    Call,
    Clock,
    Reply,
    State,
    bad_request,
    drive_id,
    not_found,
    rfc3339,
)
from tests.fakes.drive_approvals import ApprovalsMixin
from tests.fakes.drive_changes import ChangesMixin
from tests.fakes.drive_files import FilesMixin, checked_properties, permission_id
from tests.fakes.drive_sharing import ROLES, SharingMixin
from tests.fakes.htmltext import html_looks, html_to_text
from tests.fakes.notify import Notifier
from tests.fakes.wire import media_type as bare_type

if TYPE_CHECKING:
    from tests.fakes.docs import DocsState

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
APPS_PREFIX = "application/vnd.google-apps."
FILE_FIELDS = "kind,id,name,mimeType"
# A fields selection naming permissions or permissionIds, or a wildcard.
_WANTS_PERMISSIONS = re.compile(r"\bpermission(?:s|Ids)\b|\*")
DEFAULT_FIELDS = {
    "drive.files.get": FILE_FIELDS,
    "drive.files.create": FILE_FIELDS,
    "drive.files.copy": FILE_FIELDS,
    "drive.files.update": FILE_FIELDS,
    "drive.files.list": f"kind,incompleteSearch,nextPageToken,files({FILE_FIELDS})",
    "drive.changes.list": "kind,nextPageToken,newStartPageToken,"
    f"changes(kind,type,changeType,time,removed,fileId,file({FILE_FIELDS}))",
    # "By default, this method returns a minimal response that may not include the items
    # array. To retrieve approval details, you must explicitly specify the fields you
    # want" (Drive v3 reference, approvals.list).
    "drive.approvals.list": "kind,nextPageToken",
}


class DriveState(FilesMixin, SharingMixin, ChangesMixin, ApprovalsMixin, State):
    """Files, folders, permissions, comments, changes, watch channels and approvals of one user."""

    docs: DocsState

    def __init__(
        self, lock: threading.RLock, clock: Clock, user_email: str, notifier: Notifier
    ) -> None:
        super().__init__(lock, clock)
        self.user_email = user_email
        self.notifier = notifier
        self.reset()

    def reset(self) -> None:
        """Forget every file and setting."""
        self.files: dict[str, dict[str, Any]] = {}
        self.content: dict[str, bytes] = {}
        self.permissions: dict[str, list[dict[str, Any]]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.reserved_ids: set[str] = set()
        # Settings.
        self.can_start_approval = False  # capabilities.canStartApproval of new files
        self.list_lag = 0.0  # seconds before a new file shows up in files.list
        self.non_google_accounts: set[str] = set()  # need sendNotificationEmail to share
        self.root_id = drive_id()
        self.root = self._resource(self.root_id, "My Drive", FOLDER, [], self.clock.stamp())
        self.shared_drives: dict[str, str] = {}  # id -> name; its members are its permissions
        self._visible_at: dict[str, float] = {}
        self.reset_sharing()
        self.reset_changes()
        self.reset_approvals()

    def handlers(self) -> dict[str, Callable[[Call], Reply]]:
        own = {
            "drive.files.create": self.files_create,
            "drive.files.get": self.files_get,
            "drive.files.list": self.files_list,
            "drive.files.update": self.files_update,
            "drive.files.copy": self.files_copy,
            "drive.files.delete": self.files_delete,
            "drive.files.emptyTrash": self.files_empty_trash,
            "drive.files.generateIds": self.files_generate_ids,
            "drive.files.export": self.files_export,
            "drive.about.get": self.about_get,
        }
        return {
            **own,
            **self.sharing_handlers(),
            **self.changes_handlers(),
            **self.approvals_handlers(),
        }

    # --- helpers tests call (they simulate what a person does in the Drive UI) -----------

    def add_file(
        self,
        name: str,
        parents: Iterable[str] | None = None,
        mime_type: str = "application/pdf",
        created_time: datetime | str | None = None,
        app_properties: dict[str, str] | None = None,
        *,
        content: bytes = b"",
        text: str | None = None,
        properties: dict[str, str] | None = None,
        modified_by: str | None = None,
    ) -> dict[str, Any]:
        """Add a file as a user upload would (records a change); return its resource.

        `modified_by`: the person who uploaded it (Drive's lastModifyingUser), the
        service user when not given."""
        with self.lock:
            stamp = created_time if isinstance(created_time, str | None) else rfc3339(created_time)
            file = self._create(
                name,
                mime_type,
                list(parents or [self.root_id]),
                created=stamp,
                app_properties=app_properties,
                properties=properties,
                content=None if mime_type.startswith(APPS_PREFIX) else content,
                text=text if text is not None else ("\n" if mime_type == DOC else None),
            )
            if modified_by is not None:
                file["lastModifyingUser"] = self._user(modified_by)
            return file

    def add_shared_drive(self, name: str, members: Iterable[tuple[str, str]] = ()) -> str:
        """Add a shared drive with (email, role) members; return its id (its root folder's).

        As in Drive, files in it carry `driveId`, and their `permissions` are never in a
        file resource (files.get, files.list, changes.list): permissions.list gives them,
        the drive's members included (inherited).
        """
        with self.lock:
            file = self._create(name, FOLDER, [], file_id=drive_id())
            file["parents"] = []
            self.shared_drives[file["id"]] = name
            self.permissions[file["id"]] = [
                {
                    "kind": "drive#permission",
                    "id": permission_id(email),
                    "type": "user",
                    "emailAddress": email,
                    "role": role,
                }
                for email, role in members
            ]
            return str(file["id"])

    def drive_of(self, file_id: str) -> str | None:
        """Return the shared drive a file is in, or None for My Drive."""
        seen, frontier = set(), [file_id]
        while frontier:
            current = frontier.pop()
            if current in self.shared_drives:
                return current
            if current in seen:
                continue
            seen.add(current)
            frontier.extend(self.files.get(current, {}).get("parents", []))
        return None

    def move_file(
        self, file_id: str, add_parents: Iterable[str] = (), remove_parents: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Move a file as a user would (records a change); return its resource."""
        with self.lock:
            file = self._get(file_id)
            self._reparent(file, list(add_parents), list(remove_parents), check_single=False)
            self._touch(file)
            return file

    def rename_file(self, file_id: str, name: str) -> dict[str, Any]:
        """Rename a file as a user would in the Drive UI (records a change); return it."""
        with self.lock:
            file = self._get(file_id)
            file["name"] = name
            self._touch(file)
            return file

    def share_file(
        self,
        file_id: str,
        *,
        email: str | None = None,
        domain: str | None = None,
        anyone: bool = False,
        role: str = "reader",
    ) -> dict[str, Any]:
        """Share a file as a user would in the Drive UI (records a change); return the permission.

        Exactly one of email (a user), domain or anyone (a public link) names who gets it.
        """
        if sum((email is not None, domain is not None, anyone)) != 1:
            raise ValueError("share_file takes exactly one of email, domain or anyone")
        if role not in ROLES or role == "owner":
            raise ValueError(f"share_file cannot give the role {role!r}")
        permission: dict[str, Any] = {
            "kind": "drive#permission",
            "role": role,
            "deleted": False,
            "pendingOwner": False,
        }
        if email is not None:
            permission.update(
                id=permission_id(email),
                type="user",
                emailAddress=email,
                displayName=email.split("@")[0],
            )
        elif domain is not None:
            permission.update(id=permission_id(domain)[:19] + "k", type="domain", domain=domain)
        else:
            permission.update(id="anyoneWithLink", type="anyone", allowFileDiscovery=False)
        with self.lock:
            file = self._get(file_id)
            existing = self.permissions.setdefault(file["id"], [])
            existing[:] = [p for p in existing if p["id"] != permission["id"]]
            existing.append(permission)
            file["shared"] = True
            self.record_change(file["id"])
            return copy.deepcopy(permission)

    def trash_file(self, file_id: str, trashed: bool = True) -> dict[str, Any]:
        """Trash (or restore) a file and its descendants as a user would."""
        with self.lock:
            file = self._get(file_id)
            self._set_trashed(file, trashed)
            return file

    def delete_file(self, file_id: str) -> None:
        """Delete a file and its descendants for good as a user would."""
        with self.lock:
            self._delete(self._get(file_id))

    def children(self, folder_id: str) -> list[dict[str, Any]]:
        """The files directly in a folder (trashed ones too)."""
        with self.lock:
            folder_id = self.root_id if folder_id == "root" else folder_id
            return [f for f in self.files.values() if folder_id in f.get("parents", [])]

    # --- internals ----------------------------------------------------------------------

    def _resource(
        self, file_id: str, name: str, mime: str, parents: list[str], created: str
    ) -> dict[str, Any]:
        folder = mime == FOLDER
        if folder:
            link = f"https://drive.google.com/drive/folders/{file_id}"
        elif mime == DOC:
            link = f"https://docs.google.com/document/d/{file_id}/edit?usp=drivesdk"
        else:
            link = f"https://drive.google.com/file/d/{file_id}/view?usp=drivesdk"
        return {
            "kind": "drive#file",
            "id": file_id,
            "name": name,
            "mimeType": mime,
            "parents": parents,
            "starred": False,
            "trashed": False,
            "explicitlyTrashed": False,
            "createdTime": created,
            "modifiedTime": created,
            "version": "1",
            "webViewLink": link,
            "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/{mime}",
            "owners": [self._user(self.user_email)],
            # "The last user to modify the file. This field is only populated when the last
            # modification was performed by a signed-in user." (Drive v3 File reference)
            "lastModifyingUser": self._user(self.user_email),
            "ownedByMe": True,
            "shared": False,
            "capabilities": {
                "canAddChildren": folder,
                "canComment": True,
                "canCopy": not folder,
                "canDelete": True,
                "canDownload": True,
                "canEdit": True,
                "canListChildren": folder,
                "canModifyContent": True,
                "canReadRevisions": True,
                "canRemoveChildren": folder,
                "canRename": True,
                "canShare": True,
                "canTrash": True,
                "canUntrash": True,
                "canStartApproval": self.can_start_approval,
            },
        }

    def _create(
        self,
        name: str,
        mime: str,
        parents: list[str],
        *,
        created: str | None = None,
        file_id: str | None = None,
        app_properties: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        description: str | None = None,
        content: bytes | None = None,
        text: str | None = None,
        starred: bool = False,
    ) -> dict[str, Any]:
        file_id = file_id or drive_id()
        file = self._resource(file_id, name, mime, [], created or self.clock.stamp())
        file["parents"] = [self._folder(p) for p in parents]
        if app_properties:
            file["appProperties"] = checked_properties(app_properties)
        if properties:
            file["properties"] = checked_properties(properties)
        if description is not None:
            file["description"] = description
        file["starred"] = starred
        self.files[file_id] = file
        self.permissions[file_id] = [self._owner_permission()]
        self._visible_at[file_id] = time.monotonic() + self.list_lag
        if content is not None:
            self._set_content(file, content)
        if text is not None:
            self.docs.texts[file_id] = text if text.endswith("\n") else text + "\n"
            self.docs.revisions[file_id] = 1
        self.record_change(file_id)
        return file

    def _set_content(self, file: dict[str, Any], content: bytes) -> None:
        self.content[file["id"]] = content
        file["size"] = str(len(content))
        file["md5Checksum"] = hashlib.md5(content).hexdigest()  # noqa: S324 - Drive's checksum
        file["sha256Checksum"] = hashlib.sha256(content).hexdigest()
        file["headRevisionId"] = base64.b32encode(hashlib.sha1(content).digest()).decode()[:20]  # noqa: S324
        file["webContentLink"] = f"https://drive.google.com/uc?id={file['id']}&export=download"
        if "." in file["name"]:
            file["fileExtension"] = file["name"].rsplit(".", 1)[1]
            file["fullFileExtension"] = file["name"].split(".", 1)[1]
        file.setdefault("originalFilename", file["name"])

    def bump_version(self, file_id: str) -> None:
        """A change Drive counts but a person does not see as an edit (a share, a comment,
        an approval): `version` moves on, `modifiedTime` stays. "version: A monotonically
        increasing version number for the file. This reflects every change made to the file
        on the server, even those not visible to the user." (Drive v3 File reference)"""
        file = self.files.get(file_id)
        if file is not None:
            file["version"] = str(int(file["version"]) + 1)
            self.record_change(file_id)

    def _touch(self, file: dict[str, Any], record: bool = True) -> None:
        file["modifiedTime"] = self.clock.stamp()
        file["version"] = str(int(file["version"]) + 1)
        if record:
            self.record_change(file["id"])

    def _get(self, file_id: str) -> dict[str, Any]:
        if file_id in ("root", self.root_id):
            return self.root
        file = self.files.get(file_id)
        if file is None:
            raise not_found(f"File not found: {file_id}.", "fileId")
        return file

    def _folder(self, folder_id: str) -> str:
        folder = self._get(folder_id)
        if folder["mimeType"] != FOLDER:
            raise bad_request(f"The specified parent is not a folder: {folder_id}.", "invalid")
        return str(folder["id"])

    def _alias(self, folder_id: str) -> str:
        return self.root_id if folder_id == "root" else folder_id

    def _user(self, email: str) -> dict[str, Any]:
        """A drive#user resource as Drive shows a person."""
        return {
            "kind": "drive#user",
            "displayName": email.split("@")[0],
            "emailAddress": email,
            "me": email == self.user_email,
            "permissionId": permission_id(email),
        }

    def _owner_permission(self) -> dict[str, Any]:
        return {
            "kind": "drive#permission",
            "id": permission_id(self.user_email),
            "type": "user",
            "role": "owner",
            "emailAddress": self.user_email,
            "displayName": self.user_email.split("@")[0],
            "deleted": False,
            "pendingOwner": False,
        }

    def _descendants(self, folder_id: str) -> list[dict[str, Any]]:
        found, frontier = [], [folder_id]
        while frontier:
            current = frontier.pop()
            for file in self.files.values():
                if current in file.get("parents", []) and file not in found:
                    found.append(file)
                    frontier.append(file["id"])
        return found

    def _reparent(
        self, file: dict[str, Any], add: list[str], remove: list[str], *, check_single: bool = True
    ) -> None:
        parents = [p for p in file["parents"] if p not in {self._alias(r) for r in remove}]
        for folder_id in add:
            resolved = self._folder(folder_id)
            if resolved == file["id"] or resolved in {
                d["id"] for d in self._descendants(file["id"])
            }:
                raise bad_request("A folder cannot be moved into itself.", "invalidParent")
            if resolved not in parents:
                parents.append(resolved)
        if check_single and len(parents) > 1:
            raise ApiError(
                403, "Increasing the number of parents is not allowed.", "cannotAddParent"
            )
        file["parents"] = parents

    def _set_trashed(self, file: dict[str, Any], trashed: bool) -> None:
        stamp = self.clock.stamp()
        affected = [file, *(self._descendants(file["id"]) if file["mimeType"] == FOLDER else [])]
        for item in affected:
            if not trashed and item is not file and item.get("explicitlyTrashed"):
                continue
            item["trashed"] = trashed
            item["explicitlyTrashed"] = trashed and item is file
            if trashed:
                item["trashedTime"] = stamp
            else:
                item.pop("trashedTime", None)
            self._touch(item)

    def _delete(self, file: dict[str, Any]) -> None:
        doomed = [file, *(self._descendants(file["id"]) if file["mimeType"] == FOLDER else [])]
        for item in doomed:
            file_id = item["id"]
            self.files.pop(file_id, None)
            self.content.pop(file_id, None)
            self.permissions.pop(file_id, None)
            self.comments.pop(file_id, None)
            self.docs.texts.pop(file_id, None)
            self.docs.looks.pop(file_id, None)
            self.record_change(file_id, removed=True)

    def _keep_look(self, file_id: str, media: bytes | None, media_type: str | None) -> None:
        """Record the look Drive keeps of a converted upload (HTML: inline styles only)."""
        if media is not None and bare_type(media_type) == "text/html":
            self.docs.looks[file_id] = html_looks(media.decode("utf-8", errors="replace"))
        else:
            self.docs.looks.pop(file_id, None)

    def _convert(self, media: bytes | None, media_type: str | None) -> str:
        if media is None:
            return "\n"
        kind = bare_type(media_type)
        decoded = media.decode("utf-8", errors="replace")
        if kind == "text/html":
            return html_to_text(decoded)
        if kind == "text/plain":
            return decoded.replace("\r\n", "\n").rstrip("\n") + "\n"
        raise ApiError(501, f"FakeGoogle does not convert {kind} to Google Docs.", "notImplemented")

    def view(self, file: dict[str, Any], fields: str | None = None) -> dict[str, Any]:
        """A copy of the resource as Drive answers it (empty property maps omitted).

        Like Drive, `permissions` (the effective ones, inherited included) and
        `permissionIds` are there only when the `fields` selection asks for them.
        """
        out = copy.deepcopy(file)
        for key in ("appProperties", "properties"):
            if not out.get(key):
                out.pop(key, None)
        drive = self.drive_of(file["id"]) if file is not self.root else None
        if drive is not None:
            out["driveId"] = drive
        # "permissions: ... only available if the requesting user can share the file. Not
        # populated for items in shared drives." (Drive v3 File reference)
        can_share = (file.get("capabilities") or {}).get("canShare", True)
        wants = bool(fields and _WANTS_PERMISSIONS.search(fields))
        if wants and file is not self.root and not drive and can_share:
            permissions = self.effective_permissions(file["id"])
            out["permissions"] = permissions
            out["permissionIds"] = [p["id"] for p in permissions]
        return out
