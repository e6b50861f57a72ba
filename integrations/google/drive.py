"""The Drive port on Drive v3 and Docs v1.

Creates never make a second file: each create carries an id reserved with
`files.generateIds` (from a pool filled ahead, see `drive_ids`), so a retry of a create
whose answer was lost gets 409 and reads the file the first attempt made. `ensure_folder`
and `write_document` look the file up by its appProperties before creating;
`create_folder` and `create_document` take an id the caller stored before the call, so
they look nothing up. Sharing makes one permission call per file at a time, several files
side by side (`drive_sharing`); template mode is in `drive_templates`.
"""

from __future__ import annotations

import contextlib
import io
import threading
import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from googleapiclient.http import MediaIoBaseUpload

from integrations.google.auth import Clients
from integrations.google.drive_files import ALL_DRIVES, FIELDS, file_url, to_drive_file
from integrations.google.drive_ids import IdPool
from integrations.google.drive_sharing import Chain, all_permissions, holds
from integrations.google.drive_templates import TemplatesMixin
from integrations.google.errors import Conflict, NotFound
from integrations.google.execute import RetryPolicy, run, run_batch
from integrations.ports import DOC_MIME, FOLDER_MIME, DriveFile, Grant, Made


def quote(value: str) -> str:
    """Return a Drive query string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def properties_query(properties: Mapping[str, str]) -> list[str]:
    """Return one `appProperties has {...}` clause per property."""
    return [
        f"appProperties has {{ key={quote(k)} and value={quote(v)} }}"
        for k, v in sorted(properties.items())
    ]


def _html(html: str) -> MediaIoBaseUpload:
    # Not resumable: one multipart request, whose body is built once and resent as is.
    return MediaIoBaseUpload(io.BytesIO(html.encode("utf-8")), "text/html", resumable=False)


class GoogleDrive(TemplatesMixin):
    """Folders, briefs and sharing in the service user's Drive."""

    def __init__(
        self, clients: Clients, *, policy: RetryPolicy, id_batch: int = 10, prefetch: bool = True
    ) -> None:
        self._clients = clients
        self._policy = policy
        # prefetch: fill the pool of reserved ids in the background, now and when it runs low.
        apart = self._generate_ids_apart if prefetch else None
        self._ids = IdPool(self._generate_ids, size=id_batch, fetch_apart=apart)
        self._ids.warm()
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
            return to_drive_file(self._rewrite(target["id"], name, html))
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
        return self.share_files({file_id: grants}, notify=notify)[file_id]

    def upload(
        self,
        name: str,
        data: bytes,
        *,
        mime_type: str,
        parent_id: str,
        properties: Mapping[str, str],
        file_id: str | None = None,
    ) -> DriveFile:
        """Upload the bytes as they are (no conversion), once per properties; with a
        reserved `file_id`, a second upload at once is refused by Drive (409) and reads
        the first one's file."""
        found = self.find(properties)
        if found is not None:
            return found
        body = {
            "name": name,
            "mimeType": mime_type,
            "parents": [parent_id],
            "appProperties": dict(properties),
        }
        media = MediaIoBaseUpload(io.BytesIO(data), mime_type, resumable=False)
        if file_id is None:
            return to_drive_file(self._create(body, media=media))
        try:
            return to_drive_file(self._run(self._create_request({**body, "id": file_id}, media)))
        except Conflict:  # made by the other attempt
            return to_drive_file(self._get(file_id))

    # --- reserved ids (DriveIds) and sharing side by side (SharesFiles) -------------

    def new_id(self) -> str:
        """Return an id reserved for a file not made yet (from a pool filled ahead)."""
        return self._ids.take()

    def address(self, file_id: str, mime_type: str) -> str:
        """Return the address a person opens the file at, whether it exists yet or not."""
        return file_url(file_id, mime_type)

    def create_folder(
        self, name: str, *, file_id: str, parent_id: str | None, properties: Mapping[str, str]
    ) -> Made:
        """Make the folder with this reserved id, or return it if an earlier attempt did."""
        body: dict[str, Any] = {
            "id": file_id,
            "name": name,
            "mimeType": FOLDER_MIME,
            "appProperties": dict(properties),
        }
        if parent_id:
            body["parents"] = [parent_id]
        try:
            return Made(to_drive_file(self._run(self._create_request(body))), new=True)
        except Conflict:  # made by an earlier attempt whose answer (or record) was lost
            return Made(to_drive_file(self._get(file_id)), new=False)

    def create_document(
        self,
        name: str,
        html: str,
        *,
        file_id: str,
        parent_id: str,
        properties: Mapping[str, str],
    ) -> Made:
        """Make the document from HTML with this reserved id, or write into the one made."""
        body = {
            "id": file_id,
            "name": name,
            "mimeType": DOC_MIME,  # Drive converts the uploaded HTML into a Google Doc
            "parents": [parent_id],
            "appProperties": dict(properties),
        }
        request = self._create_request(body, _html(html))
        try:
            return Made(to_drive_file(self._run(request)), new=True)
        except Conflict:  # made by an earlier attempt: write this content into it
            return Made(to_drive_file(self._rewrite(file_id, name, html)), new=False)

    def share_files(
        self,
        shares: Mapping[str, Sequence[Grant]],
        *,
        notify: bool,
        new_files: Collection[str] = (),
    ) -> dict[str, list[Grant]]:
        """Share each file with its grants; return those added per file.

        One call per file at a time; the files' calls of a round go in one batch request.
        """
        chains = [
            Chain(file_id, grants, notify=notify, new=file_id in new_files)
            for file_id, grants in shares.items()
        ]
        with contextlib.ExitStack() as stack:
            slots = {zlib.crc32(c.file_id.encode()) % len(self._share_locks) for c in chains}
            for slot in sorted(slots):  # always in the same order: no deadlock
                stack.enter_context(self._share_locks[slot])
            while True:
                api = self._permissions_api()
                calls = {str(n): (c, c.next_request(api)) for n, c in enumerate(chains)}
                calls = {key: (c, r) for key, (c, r) in calls.items() if r is not None}
                if not calls:
                    break
                for key, answer in self._run_round(calls).items():
                    calls[key][0].took(answer)
        return {c.file_id: c.added for c in chains}

    # --- internals ------------------------------------------------------------------

    def _files(self) -> Any:
        return self._clients.collection("drive", "v3", "files")

    def _permissions_api(self) -> Any:
        return self._clients.collection("drive", "v3", "permissions")

    def _run(self, request: Any) -> Any:
        return run(request, policy=self._policy)

    def _run_round(self, calls: Mapping[str, tuple[Chain, Any]]) -> dict[str, Any]:
        """Run one round of calls on different files: together in one batch, or one by one
        when a call is alone or emails someone (a create that must not be sent twice)."""
        if len(calls) == 1 or any(chain.notifying_grant() for chain, _r in calls.values()):
            return {key: self._run_call(chain, r) for key, (chain, r) in calls.items()}
        requests = {key: r for key, (_chain, r) in calls.items()}
        outcome = run_batch(self._clients.get("drive", "v3"), requests, policy=self._policy)
        if outcome.errors:
            raise next(iter(outcome.errors.values()))
        return outcome.results

    def _run_call(self, chain: Chain, request: Any) -> Any:
        """Run a chain's call; before retrying a create that emails, look whether it landed."""
        grant = chain.notifying_grant()
        if grant is None:
            return self._run(request)
        return run(request, policy=self._policy, already_done=lambda: self._held(chain, grant))

    def _held(self, chain: Chain, grant: Grant) -> dict[str, Any] | None:
        """Return the file's permission for the grant's person if it is there already."""
        for permission in all_permissions(self._permissions_api(), chain.file_id, self._run):
            same = str(permission.get("emailAddress", "")).lower() == grant.email.lower()
            if same and holds(permission, grant):
                return dict(permission)
        return None

    def _generate_ids(self, count: int) -> list[str]:
        answer = self._run(self._files().generateIds(count=count, space="drive", type="files"))
        return [str(i) for i in answer["ids"]]

    def _generate_ids_apart(self, count: int) -> list[str]:
        """Fetch ids on clients of its own, closed after: it runs on a passing thread."""
        own = Clients(
            credentials=self._clients.credentials,
            endpoint=self._clients.endpoint,
            timeout=self._clients.timeout,
        )
        try:
            files = own.collection("drive", "v3", "files")
            answer = self._run(files.generateIds(count=count, space="drive", type="files"))
            return [str(i) for i in answer["ids"]]
        finally:
            own.close()

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

    def _rewrite(self, file_id: str, name: str, html: str) -> Any:
        request = self._files().update(
            fileId=file_id, body={"name": name}, media_body=_html(html), fields=FIELDS, **ALL_DRIVES
        )
        return self._run(request)

    def _create_request(self, body: Mapping[str, Any], media: Any = None) -> Any:
        return self._files().create(body=dict(body), media_body=media, fields=FIELDS, **ALL_DRIVES)

    def _create(self, body: Mapping[str, Any], media: MediaIoBaseUpload | None = None) -> Any:
        file_id = self._ids.take()
        try:
            return self._run(self._create_request({**body, "id": file_id}, media))
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
