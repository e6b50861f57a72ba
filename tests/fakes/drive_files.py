"""Drive v3 files.* handlers (create, get, export, list, update, copy, delete, ids)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import time
from typing import TYPE_CHECKING, Any

from tests.fakes.core import ApiError, Call, Reply, bad_request, drive_id
from tests.fakes.drive_query import Parser, sort_files
from tests.fakes.wire import media_type as bare_type

if TYPE_CHECKING:
    from tests.fakes.drive import DriveState

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
APPS_PREFIX = "application/vnd.google-apps."
# Fields Drive refuses in an update body (403 fieldNotWritable).
NOT_WRITABLE = {
    "id",
    "parents",
    "capabilities",
    "owners",
    "webViewLink",
    "webContentLink",
    "iconLink",
    "size",
    "md5Checksum",
    "sha1Checksum",
    "sha256Checksum",
    "version",
    "shared",
    "ownedByMe",
    "createdTime",
    "explicitlyTrashed",
    "trashedTime",
    "headRevisionId",
    "fileExtension",
}
PROPERTY_LIMIT = 124


class FilesMixin:
    """files.* and about.get handlers for DriveState."""

    def files_create(self: DriveState, call: Call) -> Reply:
        meta = dict(call.body or {})
        media = call.media
        mime = meta.get("mimeType") or (bare_type(call.media_type) if media is not None else None)
        mime = mime or "application/octet-stream"
        file_id = meta.get("id")
        if file_id is not None:
            if file_id in self.files or file_id == self.root_id:
                raise ApiError(409, "A file already exists with the provided ID.", "fileIdInUse")
            if file_id not in self.reserved_ids:
                raise bad_request("The provided file ID is not usable.", "invalid", "file.id")
        parents = meta.get("parents") or [self.root_id]
        if len(parents) > 1:
            raise ApiError(
                403, "Increasing the number of parents is not allowed.", "cannotAddParent"
            )
        text, content = None, None
        if mime == DOC:
            text = self._convert(media, call.media_type)
        elif mime.startswith(APPS_PREFIX):
            if media is not None:
                raise ApiError(
                    501, f"FakeGoogle does not convert uploads to {mime}.", "notImplemented"
                )
        else:
            content = media if media is not None else b""
        file = self._create(
            meta.get("name") or "Untitled",
            mime,
            parents,
            file_id=file_id,
            created=meta.get("createdTime"),
            app_properties=meta.get("appProperties"),
            properties=meta.get("properties"),
            description=meta.get("description"),
            content=content,
            text=text,
            starred=bool(meta.get("starred")),
        )
        if mime == DOC:
            self._keep_look(file["id"], media, call.media_type)
        if file_id is not None:
            self.reserved_ids.discard(file_id)
        return Reply(json=self.view(file, call.param("fields")))

    def files_get(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        if call.param("alt") != "media":
            return Reply(json=self.view(file, call.param("fields")))
        if file["mimeType"].startswith(APPS_PREFIX):
            raise ApiError(
                403,
                "Only files with binary content can be downloaded. Use Export"
                " with Docs Editors files.",
                "fileNotDownloadable",
            )
        data = self.content.get(file["id"], b"")
        return Reply(data=data, content_type=file["mimeType"], filterable=False)

    def files_export(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        if file["mimeType"] != DOC:
            raise ApiError(403, "Export only supports Docs Editors files.", "fileNotExportable")
        text = self.docs.texts.get(file["id"], "\n")
        wanted = call.params["mimeType"]
        if wanted == "text/plain":
            return Reply(data=text.encode(), content_type="text/plain", filterable=False)
        if wanted == "text/html":
            body = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n")[:-1])
            page = f"<html><body>{body}</body></html>".encode()
            return Reply(data=page, content_type="text/html", filterable=False)
        raise bad_request(f"FakeGoogle exports Docs only as text/plain or text/html: {wanted}")

    def files_list(self: DriveState, call: Call) -> Reply:
        q = call.param("q", "")
        predicate = Parser(q, self._alias).parse()
        now = time.monotonic()
        by_people = "writers" in q or "readers" in q
        matched = []
        for file in self.files.values():
            if self._visible_at.get(file["id"], 0) > now:
                continue
            indexed = {**file, "_owners": (self.user_email,)}
            if "fullText" in q:
                indexed["_text"] = self.docs.texts.get(file["id"], "")
            if by_people:
                indexed["_writers"] = self._emails(file["id"], ("owner", "writer"))
                indexed["_readers"] = self._emails(
                    file["id"], ("owner", "writer", "commenter", "reader")
                )
            if predicate(indexed):
                matched.append(file)
        matched = sort_files(matched, call.param("orderBy"))
        offset = _page_offset(call.param("pageToken"), q)
        size = call.param("pageSize", 100)
        page = matched[offset : offset + size]
        result: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": [self.view(f, call.param("fields")) for f in page],
        }
        if offset + size < len(matched):
            result["nextPageToken"] = _page_token(offset + size, q)
        return Reply(json=result)

    def files_update(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        meta = dict(call.body or {})
        forbidden = sorted(set(meta) & NOT_WRITABLE)
        if "parents" in forbidden:
            raise ApiError(
                403,
                "The parents field is not directly writable in update requests."
                " Use the addParents and removeParents parameters instead.",
                "fieldNotWritable",
            )
        if forbidden:
            raise ApiError(
                403,
                "The resource body includes fields which are not directly "
                f"writable: {', '.join(forbidden)}.",
                "fieldNotWritable",
            )
        # Validate everything before changing anything: an update applies fully or not at all.
        updates: dict[str, Any] = {
            k: meta[k] for k in ("name", "description", "starred") if k in meta
        }
        for key in ("appProperties", "properties"):
            if key in meta:
                merged = {**file.get(key, {}), **(meta[key] or {})}
                updates[key] = checked_properties(
                    {k: v for k, v in merged.items() if v is not None}
                )
        mime = meta.get("mimeType")
        if mime and mime != file["mimeType"]:
            if mime.startswith(APPS_PREFIX) or file["mimeType"].startswith(APPS_PREFIX):
                raise ApiError(
                    403, "The mimeType of this file cannot be changed.", "fieldNotWritable"
                )
            updates["mimeType"] = mime
        text = None
        if call.media is not None and file["mimeType"].startswith(APPS_PREFIX):
            if file["mimeType"] != DOC:
                raise ApiError(501, "FakeGoogle does not convert this upload.", "notImplemented")
            text = self._convert(call.media, call.media_type)
        add = [p for p in (call.param("addParents") or "").split(",") if p]
        remove = [p for p in (call.param("removeParents") or "").split(",") if p]
        if add or remove:
            self._reparent(file, add, remove)
        file.update(updates)
        if text is not None:
            self.docs.replace_text(file["id"], text)
            self._keep_look(file["id"], call.media, call.media_type)
        elif call.media is not None:
            self._set_content(file, call.media)
        if "trashed" in meta and bool(meta["trashed"]) != file["trashed"]:
            self._set_trashed(file, bool(meta["trashed"]))
        else:
            stamp = meta.get("modifiedTime")
            self._touch(file)
            if stamp:
                file["modifiedTime"] = stamp
        return Reply(json=self.view(file, call.param("fields")))

    def files_copy(self: DriveState, call: Call) -> Reply:
        source = self._get(call.params["fileId"])
        if source["mimeType"] == FOLDER:
            raise ApiError(403, "This file cannot be copied by the user.", "cannotCopyFile")
        meta = dict(call.body or {})
        file_id = meta.get("id")
        if file_id is not None and (file_id in self.files or file_id not in self.reserved_ids):
            if file_id in self.files:
                raise ApiError(409, "A file already exists with the provided ID.", "fileIdInUse")
            raise bad_request("The provided file ID is not usable.", "invalid", "file.id")
        app_properties = {**source.get("appProperties", {}), **(meta.get("appProperties") or {})}
        properties = {**source.get("properties", {}), **(meta.get("properties") or {})}
        file = self._create(
            meta.get("name") or f"Copy of {source['name']}",
            source["mimeType"],
            meta.get("parents") or list(source["parents"]) or [self.root_id],
            file_id=file_id,
            app_properties={k: v for k, v in app_properties.items() if v is not None},
            properties={k: v for k, v in properties.items() if v is not None},
            description=meta.get("description", source.get("description")),
            content=self.content.get(source["id"]) if "size" in source else None,
            text=self.docs.texts.get(source["id"]),
        )
        if source["id"] in self.docs.more_tabs:  # a copy keeps every tab
            self.docs.more_tabs[file["id"]] = list(self.docs.more_tabs[source["id"]])
        if file_id is not None:
            self.reserved_ids.discard(file_id)
        return Reply(json=self.view(file, call.param("fields")))

    def files_delete(self: DriveState, call: Call) -> Reply:
        file = self._get(call.params["fileId"])
        if file is self.root:
            raise ApiError(
                403,
                "The user does not have sufficient permissions for this file.",
                "insufficientFilePermissions",
            )
        self._delete(file)
        return Reply(status=204)

    def files_empty_trash(self: DriveState, call: Call) -> Reply:
        for file in [f for f in self.files.values() if f.get("explicitlyTrashed")]:
            if file["id"] in self.files:
                self._delete(file)
        return Reply(status=204)

    def files_generate_ids(self: DriveState, call: Call) -> Reply:
        space = call.param("space", "drive")
        if space not in ("drive", "appDataFolder"):
            raise bad_request(f"Invalid Value: {space}", "invalid", "space")
        ids = [drive_id() for _ in range(call.param("count", 10))]
        self.reserved_ids.update(ids)
        return Reply(json={"kind": "drive#generatedIds", "space": space, "ids": ids})

    def about_get(self: DriveState, call: Call) -> Reply:
        user = {
            "kind": "drive#user",
            "displayName": self.user_email.split("@")[0],
            "me": True,
            "emailAddress": self.user_email,
            "permissionId": permission_id(self.user_email),
        }
        return Reply(
            json={
                "kind": "drive#about",
                "user": user,
                "storageQuota": {"limit": "16106127360", "usage": "0"},
            }
        )


def _page_token(offset: int, q: str) -> str:
    raw = json.dumps({"o": offset, "q": hashlib.sha1(q.encode()).hexdigest()[:8]})  # noqa: S324
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _page_offset(token: str | None, q: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["q"] != hashlib.sha1(q.encode()).hexdigest()[:8]:  # noqa: S324
            raise ValueError
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise bad_request(f"Invalid Value: {token}", "invalid", "pageToken") from None


def checked_properties(values: dict[str, Any]) -> dict[str, str]:
    checked = {}
    for key, value in values.items():
        if not isinstance(value, str):
            raise bad_request(f"Invalid value for property {key}: must be a string.", "invalid")
        if len(key.encode()) + len(value.encode()) > PROPERTY_LIMIT:
            raise bad_request(
                f"The property {key} exceeds the {PROPERTY_LIMIT}-byte limit on key plus value.",
                "invalidProperty",
            )
        checked[key] = value
    return checked


def permission_id(email: str) -> str:
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    return str(int(digest, 16))[:20]
