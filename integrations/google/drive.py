"""The Drive port on Drive v3 and Docs v1.

Creates never make a second file: each create carries an id from `files.generateIds`, so
a retry of a create whose answer was lost gets 409 and reads the file the first attempt
made; and before creating, the file is looked up by its appProperties.
"""

from __future__ import annotations

import io
import re
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from googleapiclient.http import MediaIoBaseUpload

from integrations.google.auth import Clients
from integrations.google.errors import Conflict, NotFound
from integrations.google.execute import RetryPolicy, run
from integrations.ports import DOC_MIME, FOLDER_MIME, DriveFile, Grant

FIELDS = "id,name,mimeType,parents,appProperties,trashed,webViewLink"
PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_.-]*)\}\}")
# Stronger roles include the weaker ones: a writer asked to be a reader is left alone.
ROLE_RANK = {
    "reader": 1,
    "commenter": 2,
    "writer": 3,
    "fileOrganizer": 4,
    "organizer": 5,
    "owner": 6,
}
# Shared drives too: DRIVE_CLIENTS_FOLDER may be one.
ALL_DRIVES = {"supportsAllDrives": True}


def quote(value: str) -> str:
    """Return a Drive query string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def properties_query(properties: Mapping[str, str]) -> list[str]:
    """Return one `appProperties has {...}` clause per property."""
    return [
        f"appProperties has {{ key={quote(k)} and value={quote(v)} }}"
        for k, v in sorted(properties.items())
    ]


def file_url(file_id: str, mime_type: str, web_view_link: str = "") -> str:
    """Return the address a person opens the file at."""
    if mime_type == DOC_MIME:
        return f"https://docs.google.com/document/d/{file_id}/edit"
    if mime_type == FOLDER_MIME:
        return f"https://drive.google.com/drive/folders/{file_id}"
    return web_view_link or f"https://drive.google.com/file/d/{file_id}/view"


def to_drive_file(item: Mapping[str, Any]) -> DriveFile:
    """Return our DriveFile for a Drive API file resource."""
    return DriveFile(
        id=item["id"],
        name=item.get("name", ""),
        url=file_url(item["id"], item.get("mimeType", ""), item.get("webViewLink", "")),
        mime_type=item.get("mimeType", ""),
        parents=tuple(item.get("parents") or ()),
        properties=dict(item.get("appProperties") or {}),
    )


def _html(html: str) -> MediaIoBaseUpload:
    # Not resumable: one multipart request, whose body is built once and resent as is.
    return MediaIoBaseUpload(io.BytesIO(html.encode("utf-8")), "text/html", resumable=False)


class _IdPool:
    """File ids from `files.generateIds`, fetched a few at a time ahead of need."""

    def __init__(self, drive: GoogleDrive, size: int) -> None:
        self._drive = drive
        self._size = size
        self._ids: list[str] = []
        self._lock = threading.Lock()

    def take(self) -> str:
        with self._lock:
            if not self._ids:
                answer = self._drive._run(
                    self._drive._files().generateIds(count=self._size, space="drive", type="files")
                )
                self._ids.extend(answer["ids"])
            return self._ids.pop()


class GoogleDrive:
    """Folders, briefs and sharing in the service user's Drive."""

    def __init__(self, clients: Clients, *, policy: RetryPolicy, id_batch: int = 10) -> None:
        self._clients = clients
        self._policy = policy
        self._ids = _IdPool(self, id_batch)
        # Drive keeps only the last of concurrent permission changes on one file.
        self._share_locks = [threading.Lock() for _ in range(64)]

    # --- the port -------------------------------------------------------------------

    def ensure_folder(
        self, name: str, *, parent_id: str | None, properties: Mapping[str, str]
    ) -> DriveFile:
        """Return the folder with these properties under parent, making it once."""
        clauses = properties_query(properties)
        if parent_id:
            clauses.append(f"{quote(parent_id)} in parents")
        for item in self._list(clauses):
            if item.get("mimeType") == FOLDER_MIME:
                return to_drive_file(item)
        body = {"name": name, "mimeType": FOLDER_MIME, "appProperties": dict(properties)}
        if parent_id:
            body["parents"] = [parent_id]
        return to_drive_file(self._create(body))

    def write_document(
        self,
        name: str,
        html: str,
        *,
        parent_id: str,
        properties: Mapping[str, str],
        existing_id: str | None = None,
    ) -> DriveFile:
        """Write a document from HTML: replace the content of the existing one, or make it once."""
        target = self._live(existing_id) if existing_id else None
        if target is None:
            target = next(self._list(properties_query(properties)), None)
        if target is not None:
            request = self._files().update(
                fileId=target["id"],
                body={"name": name},
                media_body=_html(html),
                fields=FIELDS,
                **ALL_DRIVES,
            )
            return to_drive_file(self._run(request))
        body = {
            "name": name,
            "mimeType": DOC_MIME,  # Drive converts the uploaded HTML into a Google Doc
            "parents": [parent_id],
            "appProperties": dict(properties),
        }
        return to_drive_file(self._create(body, media=_html(html)))

    def find(self, properties: Mapping[str, str]) -> DriveFile | None:
        """Return the live file carrying all these properties, if any."""
        item = next(self._list(properties_query(properties)), None)
        return to_drive_file(item) if item is not None else None

    def share(self, file_id: str, grants: Sequence[Grant], *, notify: bool) -> list[Grant]:
        """Give each grant access to the file unless it has it already; return those added."""
        wanted: dict[str, Grant] = {}
        for grant in grants:  # one grant per person, the strongest role asked for
            key = grant.email.lower()
            if key not in wanted or _rank(grant.role) > _rank(wanted[key].role):
                wanted[key] = grant
        added: list[Grant] = []
        with self._share_locks[zlib.crc32(file_id.encode()) % len(self._share_locks)]:
            have = {
                str(p.get("emailAddress", "")).lower(): p
                for p in self._permissions(file_id)
                if p.get("type") in ("user", "group")
            }
            for key, grant in wanted.items():
                current = have.get(key)
                if current is not None and _rank(current.get("role", "")) >= _rank(grant.role):
                    continue
                if current is not None:
                    request = self._permissions_api().update(
                        fileId=file_id,
                        permissionId=current["id"],
                        body={"role": grant.role},
                        **ALL_DRIVES,
                    )
                else:
                    request = self._permissions_api().create(
                        fileId=file_id,
                        body={"type": "user", "role": grant.role, "emailAddress": grant.email},
                        sendNotificationEmail=notify,
                        fields="id,role,emailAddress",
                        **ALL_DRIVES,
                    )
                self._run(request)  # one at a time: see _share_locks
                added.append(grant)
        return added

    # --- template mode --------------------------------------------------------------

    def copy_template(
        self, template_id: str, name: str, parent_id: str, properties: Mapping[str, str]
    ) -> DriveFile:
        """Return the copy of the template with these properties, making it once."""
        found = self.find(properties)
        if found is not None:
            return found
        new_id = self._ids.take()
        body = {
            "id": new_id,
            "name": name,
            "parents": [parent_id],
            "appProperties": dict(properties),
        }
        request = self._files().copy(fileId=template_id, body=body, fields=FIELDS, **ALL_DRIVES)
        try:
            return to_drive_file(self._run(request))
        except Conflict:
            return to_drive_file(self._get(new_id))

    def fill_placeholders(self, doc_id: str, values: Mapping[str, str]) -> None:
        """Replace every `{{name}}` in the document by its value, in one Docs call."""
        if not values:
            return
        requests = [
            {
                "replaceAllText": {
                    "containsText": {"text": "{{" + k + "}}", "matchCase": True},
                    "replaceText": v,
                }
            }
            for k, v in sorted(values.items())
        ]
        docs = self._clients.collection("docs", "v1", "documents")
        self._run(docs.batchUpdate(documentId=doc_id, body={"requests": requests}))

    def template_placeholders(self, doc_id: str) -> set[str]:
        """Return the names of the `{{name}}` placeholders left in the document."""
        docs = self._clients.collection("docs", "v1", "documents")
        document = self._run(docs.get(documentId=doc_id))
        return set(PLACEHOLDER.findall("".join(_text_runs(document))))

    # --- internals ------------------------------------------------------------------

    def _files(self) -> Any:
        return self._clients.collection("drive", "v3", "files")

    def _permissions_api(self) -> Any:
        return self._clients.collection("drive", "v3", "permissions")

    def _run(self, request: Any) -> Any:
        return run(request, policy=self._policy)

    def _get(self, file_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._run(
            self._files().get(fileId=file_id, fields=FIELDS, **ALL_DRIVES)
        )
        return answer

    def _live(self, file_id: str) -> dict[str, Any] | None:
        try:
            item = self._get(file_id)
        except NotFound:
            return None
        return None if item.get("trashed") else item

    def _create(self, body: Mapping[str, Any], media: MediaIoBaseUpload | None = None) -> Any:
        file_id = self._ids.take()
        request = self._files().create(
            body={**body, "id": file_id}, media_body=media, fields=FIELDS, **ALL_DRIVES
        )
        try:
            return self._run(request)
        except Conflict:
            # An earlier attempt of this very request made the file; its answer was lost.
            return self._get(file_id)

    def _list(self, clauses: Sequence[str]) -> Iterator[dict[str, Any]]:
        if not any(c.startswith("appProperties") for c in clauses):
            raise ValueError("refusing to look files up without any property")
        q = " and ".join([*clauses, "trashed = false"])
        token: str | None = None
        while True:
            answer = self._run(
                self._files().list(
                    q=q,
                    fields=f"nextPageToken,files({FIELDS})",
                    pageSize=100,
                    pageToken=token,
                    orderBy="createdTime",
                    includeItemsFromAllDrives=True,
                    **ALL_DRIVES,
                )
            )
            yield from answer.get("files", [])
            token = answer.get("nextPageToken")
            if not token:
                return

    def _permissions(self, file_id: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            answer = self._run(
                self._permissions_api().list(
                    fileId=file_id,
                    pageToken=token,
                    pageSize=100,
                    fields="nextPageToken,permissions(id,type,role,emailAddress)",
                    **ALL_DRIVES,
                )
            )
            yield from answer.get("permissions", [])
            token = answer.get("nextPageToken")
            if not token:
                return


def _rank(role: str) -> int:
    return ROLE_RANK.get(role, 0)


def _text_runs(node: Any) -> Iterator[str]:
    """Yield the text of every run in a Docs document: body, tables, headers, tabs."""
    if isinstance(node, dict):
        run_ = node.get("textRun")
        if isinstance(run_, dict):
            yield str(run_.get("content", ""))
        for key, value in node.items():
            if key != "textRun":
                yield from _text_runs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _text_runs(value)
