"""Drive v3 changes feed, watch channels and their push notifications.

Each change log is its own: the user's (My Drive and files shared with them) and one per
shared drive (`driveId`). As Drive documents ("Lists the changes for a user or shared
drive"), a change inside a shared drive appears only in that drive's log, read and watched
with `driveId`; a file moved between them shows in both.

Like Drive, each log keeps only the latest change per file: a file changed twice since
a page token shows up once, at the position of its latest change. A new watch channel
first gets a `sync` notification (message number 1), then one `change` notification per
recorded change. `notify_drop_rate`, `notify_duplicate_rate` and `notify_delay` (a random
delay of up to that many seconds, which can reorder deliveries) make delivery unreliable,
deterministically for a given `notify_seed`.
"""

from __future__ import annotations

import random
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.core import ApiError, Call, Reply, bad_request, not_found

if TYPE_CHECKING:
    from tests.fakes.drive import DriveState

WEEK = 7 * 24 * 3600.0
DAY = 24 * 3600.0


class ChangesMixin:
    """changes.*, files.watch and channels.stop handlers for DriveState."""

    def reset_changes(self: DriveState) -> None:
        self.change_counter = 100
        # (shared drive id or None for the user's log, file id) -> (number, time, removed)
        self.change_log: dict[tuple[str | None, str], tuple[int, str, bool]] = {}
        self._log_of: dict[str, str | None] = {}  # the log a file's last change went to
        self.channels: dict[str, dict[str, Any]] = {}
        self.notify_drop_rate = 0.0
        self.notify_duplicate_rate = 0.0
        self.notify_delay = 0.0
        self.notify_seed: int | None = None
        self.notify_counts = {"changes": 0, "dropped": 0, "duplicated": 0}
        self.channel_default_ttl = WEEK
        self.channel_max_ttl = WEEK
        # Seconds Google's clock runs behind the service's: an expiration asked as
        # "our now + 7 days" is then beyond Drive's maximum, and refused.
        self.clock_lag = 0.0
        self._rng_seed: int | None = None
        self._rng = random.Random()

    def changes_handlers(self: DriveState) -> dict[str, Callable[[Call], Reply]]:
        return {
            "drive.changes.getStartPageToken": self.changes_start_token,
            "drive.changes.list": self.changes_list,
            "drive.changes.watch": self.changes_watch,
            "drive.files.watch": self.files_watch,
            "drive.channels.stop": self.channels_stop,
        }

    @property
    def notifications(self: DriveState) -> list[Any]:
        """Every notification POST made so far (Delivery objects), in send order."""
        return list(self.notifier.deliveries)

    def record_change(self: DriveState, file_id: str, removed: bool = False) -> None:
        """Append a change for the file to the feed and notify live channels."""
        with self.lock:
            self.change_counter += 1
            known = file_id in self._log_of
            before = self._log_of.get(file_id)
            now = self.drive_of(file_id) if file_id in self.files else before
            self._log_of[file_id] = now
            logs = {before, now} if known else {now}
            for log in logs:
                self.change_log[(log, file_id)] = (self.change_counter, self.clock.stamp(), removed)
            for channel in list(self.channels.values()):
                if channel.get("fileId") == file_id:
                    self._notify(channel, "update")
                elif channel.get("fileId") is None and channel.get("driveId") in logs:
                    self._notify(channel, "change")

    def _notify(self: DriveState, channel: dict[str, Any], state: str) -> None:
        if channel["_expires"] < time.time():
            return
        if self._rng_seed != self.notify_seed or self._rng is None:
            self._rng = random.Random(self.notify_seed)
            self._rng_seed = self.notify_seed
        channel["_messages"] += 1
        headers = {
            "X-Goog-Channel-ID": channel["id"],
            "X-Goog-Channel-Expiration": time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(channel["_expires"])
            ),
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-URI": channel["resourceUri"],
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(channel["_messages"]),
            "Content-Length": "0",
        }
        if channel.get("token"):
            headers["X-Goog-Channel-Token"] = channel["token"]
        if state != "sync":
            self.notify_counts["changes"] += 1
        if state != "sync" and self._rng.random() < self.notify_drop_rate:
            self.notify_counts["dropped"] += 1
            return
        copies = 2 if state != "sync" and self._rng.random() < self.notify_duplicate_rate else 1
        self.notify_counts["duplicated"] += copies - 1
        for _ in range(copies):
            delay = self._rng.uniform(0, self.notify_delay) if self.notify_delay else 0.0
            self.notifier.send(channel["address"], headers, delay)

    def _log(self: DriveState, call: Call) -> str | None:
        """The change log a call names: a shared drive's (driveId), else the user's."""
        drive = call.param("driveId")
        if drive is None:
            return None
        if drive not in self.shared_drives:
            raise not_found(f"Shared drive not found: {drive}", "driveId")
        if not call.param("supportsAllDrives", False):
            raise ApiError(
                403,
                "The attempted action requires shared drive support to be enabled.",
                "teamDrivesSupportRequired",
            )
        return str(drive)

    def changes_start_token(self: DriveState, call: Call) -> Reply:
        self._log(call)
        return Reply(
            json={"kind": "drive#startPageToken", "startPageToken": str(self.change_counter + 1)}
        )

    def changes_list(self: DriveState, call: Call) -> Reply:
        token = call.params["pageToken"]
        if not token.isdigit() or int(token) > self.change_counter + 1:
            raise bad_request(f"Invalid Value: {token}", "invalid", "pageToken")
        start = int(token)
        include_removed = call.param("includeRemoved", True)
        log = self._log(call)
        entries = sorted(
            (number, file_id, stamp, removed)
            for (where, file_id), (number, stamp, removed) in self.change_log.items()
            if where == log and number >= start and (include_removed or not removed)
        )
        size = call.param("pageSize", 100)
        page, rest = entries[:size], entries[size:]
        changes = []
        for _, file_id, stamp, removed in page:
            change: dict[str, Any] = {
                "kind": "drive#change",
                "type": "file",
                "changeType": "file",
                "time": stamp,
                "removed": removed,
                "fileId": file_id,
            }
            if not removed and file_id in self.files:
                change["file"] = self.view(self.files[file_id], call.param("fields"))
            changes.append(change)
        result: dict[str, Any] = {"kind": "drive#changeList", "changes": changes}
        if rest:
            result["nextPageToken"] = str(rest[0][0])
        else:
            result["newStartPageToken"] = str(self.change_counter + 1)
        return Reply(json=result)

    def _open_channel(
        self: DriveState, call: Call, uri: str, max_ttl: float, file_id: str | None
    ) -> Reply:
        body = call.body or {}
        channel_id, address = body.get("id"), body.get("address")
        if not channel_id:
            raise bad_request("Channel id is required.", "required", "id")
        if body.get("type") not in ("web_hook", "webhook"):
            raise bad_request(
                f"Unknown channel type: {body.get('type')}.", "push.invalidChannelType"
            )
        url = urllib.parse.urlsplit(address or "")
        loopback = url.hostname in ("127.0.0.1", "localhost", "::1")
        if url.scheme != "https" and not (url.scheme == "http" and loopback):
            raise bad_request(
                f"WebHook callback must be HTTPS: {address}", "push.webhookUrlNotHttps"
            )
        if channel_id in self.channels:
            raise bad_request(f"Channel id {channel_id} not unique", "channelIdNotUnique")
        now = time.time()
        expires = now + min(self.channel_default_ttl, max_ttl)
        if body.get("expiration") is not None:
            asked = int(body["expiration"]) / 1000
            if asked <= now:
                raise bad_request("Channel expiration must be in the future.", "invalid")
            google_now = now - self.clock_lag
            if asked > google_now + max_ttl:
                # Drive answers an expiration past its maximum (a week for the change
                # feed, a day for a file) with 400 "Invalid ttl value for channel".
                ttl = int(asked - google_now)
                raise bad_request(f"Invalid ttl value for channel {ttl}", "invalid")
            expires = asked
        channel = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": uuid.uuid4().hex[:27],
            "resourceUri": uri,
            "address": address,
            "token": body.get("token"),
            "expiration": str(int(expires * 1000)),
            "fileId": file_id,
            "_expires": expires,
            "_messages": 0,
        }
        self.channels[channel_id] = channel
        self._notify(channel, "sync")
        answer = {
            k: v
            for k, v in channel.items()
            if k in ("kind", "id", "resourceId", "resourceUri", "token", "expiration")
            and v is not None
        }
        return Reply(json=answer)

    def changes_watch(self: DriveState, call: Call) -> Reply:
        token = call.params["pageToken"]
        uri = f"https://www.googleapis.com/drive/v3/changes?alt=json&pageToken={token}"
        log = self._log(call)
        reply = self._open_channel(call, uri, self.channel_max_ttl, None)
        self.channels[call.body["id"]]["driveId"] = log
        return reply

    def files_watch(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        uri = f"https://www.googleapis.com/drive/v3/files/{file['id']}?alt=json"
        return self._open_channel(call, uri, min(DAY, self.channel_max_ttl), file["id"])

    def channels_stop(self: DriveState, call: Call) -> Reply:
        body = call.body or {}
        channel = self.channels.get(body.get("id", ""))
        if channel is None or channel["resourceId"] != body.get("resourceId"):
            raise not_found(f"Channel '{body.get('id')}' not found for project.", "id")
        del self.channels[channel["id"]]
        return Reply(status=204)
