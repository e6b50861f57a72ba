"""Docs v1: documents held as plain text (one paragraph per line), indexed in UTF-16 units.

documents.get answers a body of NORMAL_TEXT paragraphs built from the text, enough for a
client to read it back; styles, tables, lists and headers are not modelled. batchUpdate
supports replaceAllText, insertText and deleteContentRange, atomically. Like the real API
(proto3 JSON), `occurrencesChanged` is omitted from a reply when it is zero.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.core import ApiError, Call, Clock, Reply, State, bad_request, not_found

if TYPE_CHECKING:
    from tests.fakes.drive import DriveState

DOC = "application/vnd.google-apps.document"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def to_offset(text: str, index: int) -> int:
    """Convert a UTF-16 index within text to a Python string offset."""
    units = 0
    for offset, char in enumerate(text):
        if units >= index:
            return offset
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


class DocsState(State):
    """Google Docs content, keyed by the Drive file id."""

    drive: DriveState

    def __init__(self, lock: threading.RLock, clock: Clock) -> None:
        super().__init__(lock, clock)
        self.reset()

    def reset(self) -> None:
        self.texts: dict[str, str] = {}
        # doc id -> the elements of the HTML it was converted from, with the look Drive
        # keeps of each (its own style attribute only; see htmltext.html_looks).
        self.looks: dict[str, list[tuple[str, dict[str, str]]]] = {}
        self.revisions: dict[str, int] = {}
        # Tabs after the first: doc id -> [(title, text)]. As in Docs, documents.get shows
        # only the first tab (in `body`) unless includeTabsContent=true asks for `tabs`.
        self.more_tabs: dict[str, list[tuple[str, str]]] = {}

    def add_tab(self, doc_id: str, title: str, text: str) -> None:
        """Add a tab to the document, as a person would in Docs."""
        with self.lock:
            self.more_tabs.setdefault(doc_id, []).append(
                (title, text if text.endswith("\n") else text + "\n")
            )

    def look(self, doc_id: str) -> list[tuple[str, dict[str, str]]]:
        """The elements the document was converted from, each with the look it kept."""
        with self.lock:
            return list(self.looks.get(doc_id, []))

    def text(self, doc_id: str) -> str:
        """The document's plain text: one line per paragraph, ending with a newline."""
        with self.lock:
            return self.texts[doc_id]

    def handlers(self) -> dict[str, Callable[[Call], Reply]]:
        return {
            "docs.documents.get": self.documents_get,
            "docs.documents.create": self.documents_create,
            "docs.documents.batchUpdate": self.documents_batch_update,
        }

    def replace_text(self, doc_id: str, text: str) -> None:
        self.texts[doc_id] = text if text.endswith("\n") else text + "\n"
        self.revisions[doc_id] = self.revisions.get(doc_id, 0) + 1

    def edit_text(self, doc_id: str, text: str) -> None:
        """Edit the document as a person would in Docs: new text, and Drive sees an edit
        (`modifiedTime` and `version` move on, a change is recorded)."""
        with self.lock:
            self.replace_text(doc_id, text)
            self.drive._touch(self.drive.files[doc_id])

    def _doc(self, doc_id: str) -> dict[str, Any]:
        file = self.drive.files.get(doc_id)
        if file is None:
            raise not_found("Requested entity was not found.")
        if file["mimeType"] != DOC:
            raise bad_request(
                "This operation is not supported for this document. The document"
                " must be a Google Docs document.",
                "failedPrecondition",
            )
        return file

    def _render(self, doc_id: str, title: str, with_tabs: bool) -> dict[str, Any]:
        body = _body(self.texts.get(doc_id, "\n"))
        document: dict[str, Any] = {
            "documentId": doc_id,
            "title": title,
            "revisionId": self._revision(doc_id),
        }
        if with_tabs:
            tabs = [("Tab 1", body), *((t, _body(x)) for t, x in self.more_tabs.get(doc_id, []))]
            document["tabs"] = [
                {
                    "tabProperties": {"tabId": f"t.{n}", "title": name, "index": n},
                    "documentTab": {"body": tab_body},
                }
                for n, (name, tab_body) in enumerate(tabs)
            ]
        else:
            document["body"] = body
        return document

    def _revision(self, doc_id: str) -> str:
        return f"ALm{doc_id[-8:]}_{self.revisions.get(doc_id, 1)}"

    def documents_get(self, call: Call) -> Reply:
        file = self._doc(call.params["documentId"])
        with_tabs = bool(call.param("includeTabsContent", False))
        return Reply(json=self._render(file["id"], file["name"], with_tabs))

    def documents_create(self, call: Call) -> Reply:
        title = (call.body or {}).get("title") or "Untitled document"
        file = self.drive._create(title, DOC, [self.drive.root_id], text="\n")
        return Reply(json=self._render(file["id"], title, False))

    def documents_batch_update(self, call: Call) -> Reply:
        file = self._doc(call.params["documentId"])
        body = call.body or {}
        required = (body.get("writeControl") or {}).get("requiredRevisionId")
        if required and required != self._revision(file["id"]):
            raise ApiError(
                400,
                "The document was modified since the required revision.",
                "failedPrecondition",
                status="FAILED_PRECONDITION",
            )
        text = self.texts.get(file["id"], "\n")
        replies = []
        for number, request in enumerate(body.get("requests") or []):
            kinds = [k for k, v in request.items() if v is not None]
            if len(kinds) != 1:
                raise bad_request(
                    f"Invalid requests[{number}]: exactly one kind of request must be set.",
                    "invalid",
                )
            kind = kinds[0]
            apply = {
                "replaceAllText": _replace_all,
                "insertText": _insert,
                "deleteContentRange": _delete_range,
            }.get(kind)
            if apply is None:
                raise ApiError(
                    501, f"FakeGoogle does not emulate {kind} requests.", "notImplemented"
                )
            text, reply = apply(text, request[kind], f"requests[{number}].{kind}")
            if kind == "replaceAllText":  # every tab, unless tabsCriteria says otherwise
                tabs = self.more_tabs.get(file["id"], [])
                for n, (title, tab_text) in enumerate(tabs):
                    tab_text, more = apply(tab_text, request[kind], f"requests[{number}].{kind}")
                    tabs[n] = (title, tab_text)
                    reply["replaceAllText"]["occurrencesChanged"] = reply["replaceAllText"].get(
                        "occurrencesChanged", 0
                    ) + more["replaceAllText"].get("occurrencesChanged", 0)
            replies.append(reply)
        if replies:
            self.replace_text(file["id"], text)
            self.drive._touch(file)
        return Reply(
            json={
                "documentId": file["id"],
                "replies": replies,
                "writeControl": {"requiredRevisionId": self._revision(file["id"])},
            }
        )


def _replace_all(text: str, request: dict[str, Any], where: str) -> tuple[str, dict[str, Any]]:
    contains = request.get("containsText") or {}
    needle = contains.get("text") or ""
    if not needle:
        raise bad_request(f"Invalid {where}: The text to replace cannot be empty.", "invalid")
    replacement = request.get("replaceText") or ""
    if contains.get("matchCase"):
        count = text.count(needle)
        result = text.replace(needle, replacement)
    else:
        lowered, lowered_needle = text.lower(), needle.lower()
        pieces, pos, count = [], 0, 0
        while (found := lowered.find(lowered_needle, pos)) >= 0:
            pieces.append(text[pos:found] + replacement)
            pos = found + len(needle)
            count += 1
        result = "".join(pieces) + text[pos:]
    reply: dict[str, Any] = {"occurrencesChanged": count} if count else {}
    return result, {"replaceAllText": reply}


def _insert(text: str, request: dict[str, Any], where: str) -> tuple[str, dict[str, Any]]:
    addition = request.get("text") or ""
    end_index = utf16_len(text) + 1
    location = request.get("location")
    if location is not None:
        if location.get("segmentId"):
            raise ApiError(
                501, "FakeGoogle has no headers, footers or footnotes.", "notImplemented"
            )
        index = location.get("index", 0)
        if index < 1:
            raise bad_request(f"Invalid {where}: Index {index} must be at least 1.", "invalid")
        if index >= end_index:
            raise bad_request(
                f"Invalid {where}: Index {index} must be less than the end index"
                f" of the referenced segment, {end_index}.",
                "invalid",
            )
        offset = to_offset(text, index - 1)
    elif request.get("endOfSegmentLocation") is not None:
        offset = len(text) - 1
    else:
        raise bad_request(f"Invalid {where}: a location is required.", "invalid")
    return text[:offset] + addition + text[offset:], {}


def _delete_range(text: str, request: dict[str, Any], where: str) -> tuple[str, dict[str, Any]]:
    span = request.get("range") or {}
    start, end = span.get("startIndex", 0), span.get("endIndex", 0)
    end_index = utf16_len(text) + 1
    if start < 1 or end <= start:
        raise bad_request(
            f"Invalid {where}: The range must be non-empty and start at 1 or later.", "invalid"
        )
    if end >= end_index:
        raise bad_request(
            f"Invalid {where}: The range cannot include the newline character at"
            " the end of the segment.",
            "invalid",
        )
    return text[: to_offset(text, start - 1)] + text[to_offset(text, end - 1) :], {}


def _body(text: str) -> dict[str, Any]:
    """A tab's body in the Docs JSON shape: one paragraph per line."""
    content: list[dict[str, Any]] = [
        {
            "endIndex": 1,
            "sectionBreak": {
                "sectionStyle": {
                    "columnSeparatorStyle": "NONE",
                    "contentDirection": "LEFT_TO_RIGHT",
                }
            },
        }
    ]
    index = 1
    for line in text.split("\n")[:-1]:
        run = line + "\n"
        end = index + utf16_len(run)
        content.append(
            {
                "startIndex": index,
                "endIndex": end,
                "paragraph": {
                    "elements": [
                        {
                            "startIndex": index,
                            "endIndex": end,
                            "textRun": {"content": run, "textStyle": {}},
                        }
                    ],
                    "paragraphStyle": {
                        "namedStyleType": "NORMAL_TEXT",
                        "direction": "LEFT_TO_RIGHT",
                    },
                },
            }
        )
        index = end
    return {"content": content}
