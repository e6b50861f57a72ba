"""Template mode of the Drive port: copy a Google Doc and fill its `{{placeholders}}`."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from integrations.google.auth import Clients
from integrations.google.drive_files import ALL_DRIVES, FIELDS, to_drive_file
from integrations.google.drive_ids import IdPool
from integrations.google.errors import Conflict, NotFound
from integrations.ports import DriveFile

PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_.-]*)\}\}")


class _Drive(Protocol):
    """What the mixin uses of GoogleDrive."""

    _clients: Clients
    _ids: IdPool

    def find(self, properties: Mapping[str, str]) -> DriveFile | None: ...

    def _files(self) -> Any: ...

    def _run(self, request: Any) -> Any: ...

    def _get(self, file_id: str) -> dict[str, Any]: ...


class TemplatesMixin:
    """copy_template, fill_placeholders, template_placeholders and trash for GoogleDrive."""

    def copy_template(
        self: _Drive,
        template_id: str,
        name: str,
        parent_id: str,
        properties: Mapping[str, str],
        *,
        file_id: str | None = None,
    ) -> DriveFile:
        """Return the copy of the template with these properties (or this id), making it once."""
        if file_id is None:
            found = self.find(properties)
            if found is not None:
                return found
        new_id = file_id or self._ids.take()
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

    def fill_placeholders(self: _Drive, doc_id: str, values: Mapping[str, str]) -> None:
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

    def template_placeholders(self: _Drive, doc_id: str) -> set[str]:
        """Return the names of the `{{name}}` placeholders left in the document."""
        docs = self._clients.collection("docs", "v1", "documents")
        # Without includeTabsContent, Docs shows only the first tab: a placeholder in
        # another would go unseen and be left in the brief.
        document = self._run(docs.get(documentId=doc_id, includeTabsContent=True))
        return set(PLACEHOLDER.findall("".join(_text_runs(document))))

    def trash(self: _Drive, file_id: str) -> None:
        """Move the file to the trash; a missing file is fine."""
        request = self._files().update(fileId=file_id, body={"trashed": True}, **ALL_DRIVES)
        with contextlib.suppress(NotFound):
            self._run(request)


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
