"""The ChangeFeed port on Drive v3: `changes.list` from a page token, and push channels.

Drive keeps only the latest change per file, so a page says what each file is now, not
what happened to it; the workflows compare it with what they stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.google.auth import Clients
from integrations.google.drive_sharing import all_permissions
from integrations.google.errors import InvalidRequest, NotFound, PermissionDenied
from integrations.google.execute import RetryPolicy, run
from integrations.ports import (
    UPLOADED_BY,
    UPLOADED_BY_NAME,
    Change,
    ChangePage,
    Channel,
    ChannelUnconfirmed,
)

PAGE_SIZE = 1000  # the most changes.list gives in one page
MAX_TTL = timedelta(days=7)  # Drive refuses longer-lived channels on the change feed
# What we ask for: a few minutes under the maximum, so a clock a little ahead of Google's
# does not make Drive refuse the watch ("Invalid ttl value for channel").
ASK_TTL = MAX_TTL - timedelta(minutes=5)
FILE_FIELDS = (
    "id,name,mimeType,parents,modifiedTime,version,md5Checksum,size,trashed,webViewLink,"
    "capabilities/canStartApproval,permissions(emailAddress,domain,type,role),driveId,"
    "lastModifyingUser(emailAddress,displayName,me),appProperties"
)
LIST_FIELDS = (
    f"nextPageToken,newStartPageToken,changes(changeType,fileId,removed,file({FILE_FIELDS}))"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_time(value: str | None) -> datetime | None:
    """Return the aware datetime of an RFC 3339 timestamp from Drive, or None."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def shared_with(permissions: Any) -> tuple[str, ...]:
    """Return who a file is shared with: emails, domains, and "anyone" for a public link."""
    found: list[str] = []
    for permission in permissions or ():
        kind = permission.get("type")
        if kind == "anyone":
            who = "anyone"
        elif kind == "domain":
            who = str(permission.get("domain", "")).lower()
        else:
            who = str(permission.get("emailAddress", "")).lower()
        if who and who not in found:
            found.append(who)
    return tuple(found)


def to_change(item: Mapping[str, Any]) -> Change:
    """Return our Change for one entry of `changes.list`."""
    file = item.get("file")
    if item.get("removed") or not isinstance(file, Mapping):
        return Change(file_id=str(item["fileId"]), removed=True)
    capabilities = file.get("capabilities") or {}
    # "permissions: ... only available if the requesting user can share the file. Not
    # populated for items in shared drives" (Drive v3 File reference): no key, no answer.
    known = "permissions" in file
    return Change(
        file_id=str(item["fileId"]),
        removed=False,
        name=str(file.get("name", "")),
        mime_type=str(file.get("mimeType", "")),
        parents=tuple(file.get("parents") or ()),
        modified_time=parse_time(file.get("modifiedTime")),
        # md5 changes with the bytes only. Google Docs have none; their `version` moves on
        # "every change made to the file on the server, even those not visible to the
        # user" (our own shares, comments, approvals), so their content is dated by
        # `modifiedTime`, which those leave alone.
        version=str(
            file.get("md5Checksum") or file.get("modifiedTime") or file.get("version") or ""
        ),
        trashed=bool(file.get("trashed", False)),
        web_url=str(file.get("webViewLink", "")),
        can_start_approval=bool(capabilities.get("canStartApproval", False)),
        shared_with=shared_with(file.get("permissions")),
        sharing_known=known,
        # Drive lists an uploaded file once its upload finished, with its checksum and
        # size; native Google files (Docs, Sheets) have neither and may still be edited.
        complete=bool(file.get("md5Checksum")) and file.get("size") is not None,
        drive_id=str(file.get("driveId") or ""),
        **_modified_by(file),
    )


def _modified_by(file: Mapping[str, Any]) -> dict[str, str]:
    """Return who put the file there: the uploader the service recorded, else Drive's
    lastModifyingUser ("only populated when the last modification was performed by a
    signed-in user": may be absent), unless that is the service user (`me`)."""
    own = file.get("appProperties") or {}
    if own.get(UPLOADED_BY):
        return {
            "modified_by": str(own[UPLOADED_BY]).lower(),
            "modified_by_name": str(own.get(UPLOADED_BY_NAME, "")),
        }
    user = file.get("lastModifyingUser") or {}
    if user.get("me"):  # the service user itself: nobody to tell
        return {"modified_by": "", "modified_by_name": ""}
    return {
        "modified_by": str(user.get("emailAddress", "")).lower(),
        "modified_by_name": str(user.get("displayName", "")),
    }


class GoogleChangeFeed:
    """Drive's change feed of the service user (or of one shared drive), and its channels."""

    def __init__(
        self,
        clients: Clients,
        *,
        policy: RetryPolicy,
        drive_id: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._clients = clients
        self._policy = policy
        self._drive_id = drive_id
        self._clock = clock
        self._drives: dict[str, str | None] = {}  # folder id -> its shared drive (None: none)
        self._feeds: dict[str, GoogleChangeFeed] = {}

    def drive_of(self, folder_id: str) -> str | None:
        """Return the shared drive the folder is in (asked once per folder and process)."""
        if folder_id not in self._drives:
            files = self._clients.collection("drive", "v3", "files")
            request = files.get(fileId=folder_id, fields="id,driveId", supportsAllDrives=True)
            self._drives[folder_id] = run(request, policy=self._policy).get("driveId") or None
        return self._drives[folder_id]

    def for_drive(self, drive_id: str) -> GoogleChangeFeed:
        """Return the shared drive's own change log: a change inside a shared drive is
        listed only there ("Lists the changes for a user or shared drive")."""
        feed = self._feeds.get(drive_id)
        if feed is None:
            feed = self._feeds[drive_id] = GoogleChangeFeed(
                self._clients, policy=self._policy, drive_id=drive_id, clock=self._clock
            )
        return feed

    def start_token(self) -> str:
        """Return the token from which changes after now will be listed."""
        request = self._changes().getStartPageToken(supportsAllDrives=True, **self._drive())
        answer = run(request, policy=self._policy)
        return str(answer["startPageToken"])

    def changes(self, token: str) -> ChangePage:
        """Return one page of changes from the token (up to 1000)."""
        request = self._changes().list(pageToken=token, fields=LIST_FIELDS, **self._feed())
        answer = run(request, policy=self._policy)
        changes = tuple(
            to_change(item)
            for item in answer.get("changes", ())
            # A shared drive's own changes (changeType "drive") name no file.
            if item.get("fileId") and item.get("changeType", "file") == "file"
        )
        return ChangePage(
            changes=changes,
            next_token=answer.get("nextPageToken"),
            new_start_token=answer.get("newStartPageToken"),
        )

    def watch(self, *, channel_id: str, token: str, address: str, start_token: str) -> Channel:
        """Open a push channel that posts to address when the feed changes; raise
        ChannelUnconfirmed when a lost answer leaves it unknown whether it was made."""
        expires = self._clock() + ASK_TTL
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "expiration": str(int(expires.timestamp() * 1000)),
        }
        request = self._changes().watch(pageToken=start_token, body=body, **self._feed())
        try:
            answer = run(request, policy=self._policy)
        except InvalidRequest as exc:
            if exc.reason != "channelIdNotUnique":
                raise
            # Only our own earlier attempt can hold this fresh id: its answer was lost.
            raise ChannelUnconfirmed(f"channel {channel_id}: {exc}") from exc
        expiration = answer.get("expiration")
        return Channel(
            id=str(answer.get("id", channel_id)),
            token=token,
            resource_id=str(answer["resourceId"]),
            expires_at=(
                datetime.fromtimestamp(int(expiration) / 1000, UTC) if expiration else expires
            ),
        )

    def stop(self, channel: Channel) -> None:
        """Close a push channel; an unknown one is fine."""
        channels = self._clients.collection("drive", "v3", "channels")
        request = channels.stop(body={"id": channel.id, "resourceId": channel.resource_id})
        # 404: expired, stopped already, or never made; the goal is reached either way.
        with contextlib.suppress(NotFound):
            run(request, policy=self._policy)

    def shared_with(self, file_id: str) -> tuple[str, ...] | None:
        """Return who the file is shared with: its permissions, inherited ones included (in
        a shared drive, its members); None when Drive refuses to say (403)."""
        api = self._clients.collection("drive", "v3", "permissions")
        try:
            return shared_with(list(all_permissions(api, file_id, self._run)))
        except PermissionDenied:  # the service user may not see the file's sharing
            return None

    def _run(self, request: Any) -> Any:
        return run(request, policy=self._policy)

    def _changes(self) -> Any:
        return self._clients.collection("drive", "v3", "changes")

    def _drive(self) -> dict[str, Any]:
        return {"driveId": self._drive_id} if self._drive_id else {}

    def _feed(self) -> dict[str, Any]:
        """Return the parameters shared by changes.list and changes.watch."""
        return {
            "pageSize": PAGE_SIZE,
            "includeRemoved": True,
            "supportsAllDrives": True,
            "includeItemsFromAllDrives": True,
            "spaces": "drive",
            **self._drive(),
        }
