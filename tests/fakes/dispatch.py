"""From an HTTP request to a handler and back: log, faults, validation, uploads and batches."""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.auth import AuthState
from tests.fakes.core import REASON_PHRASES, ApiError, Batch, Call, Reply, bad_request, body_bytes
from tests.fakes.faults import Faults
from tests.fakes.validation import (
    Discovery,
    Mask,
    Route,
    apply_fields,
    check_fields,
    parse_fields,
)
from tests.fakes.wire import (
    build_multipart,
    media_type,
    parse_inner_request,
    parse_multipart,
)

# Batch endpoints: the discovery documents' batchPath values plus the per-API forms.
BATCH_PATHS = {
    "/batch/drive/v3": "drive",
    "/batch/calendar/v3": "calendar",
    "/batch/gmail/v1": "gmail",
    "/batch/docs/v1": "docs",
    "/batch": None,
}
BATCH_LIMITS = {"drive": 100, "gmail": 100, "calendar": 1000, "docs": 1000, None: 1000}


@dataclass
class RecordedRequest:
    """One logged request (a batch logs itself and each part); status 0 means reset."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    status: int = 0
    method_id: str | None = None
    in_batch: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    media: bytes | None = None
    time: float = field(default_factory=time.time)
    acting_as: str | None = None  # the user the request's token acts as (None: no token)


@dataclass
class Outcome:
    """What to send back; reset=True means close the connection without answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reset: bool = False


@dataclass
class _Session:
    """A resumable upload in progress."""

    route: Route
    path_params: dict[str, str]
    query: dict[str, list[str]]
    metadata: Any
    content_type: str | None
    data: bytearray = field(default_factory=bytearray)


class Dispatcher:
    """Routes requests to handlers under one lock; answers errors as Google does."""

    def __init__(
        self,
        discovery: Discovery,
        faults: Faults,
        lock: threading.RLock,
        handlers: dict[str, Callable[[Call], Reply]],
        default_fields: dict[str, str],
    ) -> None:
        self.discovery = discovery
        self.faults = faults
        self.lock = lock
        self.handlers = handlers
        self.default_fields = {k: parse_fields(v) for k, v in default_fields.items()}
        self.log: list[RecordedRequest] = []
        self.sessions: dict[str, _Session] = {}
        self.crashes: list[str] = []  # tracebacks of bugs in the fake itself
        self.auth: AuthState | None = None  # the token endpoint, IAM signer and token checks

    def handle(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        host: str,
        batch: Batch | None = None,
    ) -> Outcome:
        """Answer one request (or one batch part when batch is given)."""
        split = urllib.parse.urlsplit(target)
        path = split.path
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        fault = None
        record = RecordedRequest(
            method,
            path,
            {k: v[-1] for k, v in query.items()},
            in_batch=batch is not None,
            headers=dict(headers),
        )
        self.log.append(record)
        try:
            route: Route | None = None
            path_params: dict[str, str] = {}
            try:
                route, path_params = self.discovery.match(method, path)
                record.method_id = route.method_id
            except ApiError as missing:
                not_found: ApiError | None = missing
            else:
                not_found = None
            fault = self.faults.pick(method, path, record.method_id, can_reset=batch is None)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.reset and not fault.after:
                    return Outcome(reset=True)
                if fault.status is not None and not fault.after:
                    raise fault.error()
            if path == "/token":
                record.method_id = "oauth2.token"
            elif path.startswith("/v1/projects/-/serviceAccounts/"):
                record.method_id = "iamcredentials.sign"
            answer = self.auth.route(method, path, headers, body) if self.auth else None
            if answer is None and self.auth is not None:
                self._acting_as(record, headers, batch, route)
            if answer is not None:
                outcome = Outcome(
                    answer.status,
                    {"Content-Type": "application/json; charset=UTF-8"},
                    json.dumps(answer.body).encode(),
                )
            elif method == "POST" and path in BATCH_PATHS and batch is None:
                outcome = self._batch(path, headers, body, host)
            elif "upload_id" in query:
                outcome = self._resume(query["upload_id"][-1], headers, body, batch, record)
            elif route is None:
                assert not_found is not None
                raise not_found
            else:
                outcome = self._call(route, path_params, query, headers, body, host, batch, record)
            if fault is not None and fault.after:
                # The request took effect; only its answer is lost or replaced.
                if fault.reset:
                    record.status = 0
                    return Outcome(reset=True)
                if fault.status is not None:
                    raise fault.error()
        except ApiError as error:
            outcome = _error(error)
        except Exception:  # a bug in the fake: answer 500 and keep the traceback
            trace = traceback.format_exc()
            self.crashes.append(trace)
            print(f"FakeGoogle crashed on {method} {target}:\n{trace}", file=sys.stderr)
            outcome = _error(
                ApiError(500, "FakeGoogle internal error (see fake.crashes).", "internalError")
            )
        record.status = outcome.status
        return outcome

    def _acting_as(
        self,
        record: RecordedRequest,
        headers: dict[str, str],
        batch: Batch | None,
        route: Route | None,
    ) -> None:
        """Record who the request acts as (a batch part may inherit its batch's token);
        raise 401 when tokens are required and this one is missing or dead, 403 when its
        scopes include none of those the method accepts (its discovery `scopes`)."""
        assert self.auth is not None
        if batch is not None and "authorization" not in headers and batch.authorization:
            headers = {**headers, "authorization": batch.authorization}
        record.acting_as = self.auth.acting_as(headers)
        if route is not None:
            self.auth.check_scopes(headers, route.desc.get("scopes") or [])

    def _call(
        self,
        route: Route,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        host: str,
        batch: Batch | None,
        record: RecordedRequest,
    ) -> Outcome:
        metadata: Any = None
        media: bytes | None = None
        content_type = headers.get("content-type")
        if route.upload:
            if batch is not None:
                raise bad_request("Media upload requests are not supported in a batch.")
            kind = (query.get("uploadType") or ["media"])[-1]
            if kind == "resumable":
                metadata = _json(body) if body else None
                return self._start_session(
                    route, path_params, query, metadata, headers, host, record
                )
            if kind == "multipart":
                metadata, media, content_type = _split_related(body, content_type)
            else:
                media = body
        elif body:
            metadata = _json(body)
        record.body = metadata
        record.media = media
        params = self.discovery.params(route, query)
        params.update(path_params)
        if metadata is not None:
            self.discovery.check_body(route, metadata)
        if media is not None:
            _check_accept(route, content_type)
        return self._invoke(route, params, metadata, media, content_type, headers, batch)

    def _invoke(
        self,
        route: Route,
        params: dict[str, Any],
        metadata: Any,
        media: bytes | None,
        content_type: str | None,
        headers: dict[str, str],
        batch: Batch | None,
    ) -> Outcome:
        """Run the handler under the lock and shape its reply (fields, serialization)."""
        mask: Mask | None = self.default_fields.get(route.method_id)
        if params.get("fields"):
            mask = parse_fields(params["fields"])
            check_fields(self.discovery, route, mask)
        handler = self.handlers.get(route.method_id)
        if handler is None:
            raise ApiError(501, f"FakeGoogle does not emulate {route.method_id}.", "notImplemented")
        call = Call(route.method_id, params, metadata, media, content_type, headers, batch)
        with self.lock:
            reply = handler(call)
        if reply.finish is not None:
            reply.finish()
        if reply.filterable and isinstance(reply.json, dict):
            reply.json = apply_fields(mask, reply.json)
        data, kind = body_bytes(reply)
        out_headers = dict(reply.headers)
        if kind:
            out_headers["Content-Type"] = kind
        return Outcome(reply.status, out_headers, data)

    def _start_session(
        self,
        route: Route,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        metadata: Any,
        headers: dict[str, str],
        host: str,
        record: RecordedRequest,
    ) -> Outcome:
        record.body = metadata
        self.discovery.params(route, query)
        if metadata is not None:
            self.discovery.check_body(route, metadata)
        upload_id = uuid.uuid4().hex
        self.sessions[upload_id] = _Session(
            route, path_params, query, metadata, headers.get("x-upload-content-type")
        )
        location = f"http://{host}{_expand(route, path_params)}"
        location += "?" + urllib.parse.urlencode(
            [(k, v) for k, vs in query.items() for v in vs] + [("upload_id", upload_id)]
        )
        return Outcome(200, {"Location": location, "Content-Type": "text/plain"}, b"")

    def _resume(
        self,
        upload_id: str,
        headers: dict[str, str],
        body: bytes,
        batch: Batch | None,
        record: RecordedRequest,
    ) -> Outcome:
        session = self.sessions.get(upload_id)
        if session is None:
            raise ApiError(404, "Upload session not found.", "notFound")
        record.method_id = session.route.method_id
        span = headers.get("content-range", "")
        total: int | None = None
        if "/" in span:
            size = span.rsplit("/", 1)[1]
            total = int(size) if size.isdigit() else None
        if not span.startswith("bytes */"):
            session.data += body
        if total is None or len(session.data) < total:
            out = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
            return Outcome(308, out, b"")
        del self.sessions[upload_id]
        record.body = session.metadata
        record.media = bytes(session.data)
        query = {k: v for k, v in session.query.items() if k != "uploadType"}
        params = self.discovery.params(session.route, query)
        params.update(session.path_params)
        content_type = session.content_type or "application/octet-stream"
        _check_accept(session.route, content_type)
        return self._invoke(
            session.route,
            params,
            session.metadata,
            bytes(session.data),
            content_type,
            headers,
            batch,
        )

    def _batch(self, path: str, headers: dict[str, str], body: bytes, host: str) -> Outcome:
        content_type = headers.get("content-type", "")
        if media_type(content_type) != "multipart/mixed":
            raise bad_request("Batch requests must be multipart/mixed.")
        try:
            parts = parse_multipart(body, content_type)
        except ValueError as error:
            raise bad_request(f"Malformed batch body: {error}") from None
        api = BATCH_PATHS[path]
        if len(parts) > BATCH_LIMITS[api]:
            raise bad_request(f"A batch may contain at most {BATCH_LIMITS[api]} requests.")
        batch = Batch(authorization=headers.get("authorization", ""))
        answers = []
        for part in parts:
            content_id = part.headers.get("content-id", "").strip().strip("<>")
            try:
                inner = parse_inner_request(part.body)
            except ValueError as error:
                answers.append((content_id, _error(bad_request(str(error)))))
                continue
            target = urllib.parse.urlsplit(inner.target)
            inner_path = target.path + (f"?{target.query}" if target.query else "")
            if api is not None and not target.path.startswith(f"/{api}/"):
                wrong = bad_request(f"Batch part for {target.path} sent to {path}.")
                answers.append((content_id, _error(wrong)))
                continue
            outcome = self.handle(inner.method, inner_path, inner.headers, inner.body, host, batch)
            answers.append((content_id, outcome))
        for finish in batch.finishers:
            finish()
        out_parts = []
        for content_id, outcome in answers:
            head = f"HTTP/1.1 {outcome.status} {REASON_PHRASES.get(outcome.status, 'Unknown')}\r\n"
            for name, value in outcome.headers.items():
                head += f"{name}: {value}\r\n"
            head += f"Content-Length: {len(outcome.body)}\r\n\r\n"
            out_parts.append(
                (
                    {"Content-Type": "application/http", "Content-ID": f"<response-{content_id}>"},
                    head.encode() + outcome.body,
                )
            )
        data, kind = build_multipart(out_parts, "mixed")
        return Outcome(200, {"Content-Type": kind}, data)


def _expand(route: Route, path_params: dict[str, str]) -> str:
    path = route.template
    for name, value in path_params.items():
        quoted = urllib.parse.quote(value, safe="")
        path = path.replace("{" + name + "}", quoted).replace("{+" + name + "}", quoted)
    return path


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise bad_request("Invalid JSON payload received.", "parseError") from None


def _split_related(body: bytes, content_type: str | None) -> tuple[Any, bytes, str | None]:
    if media_type(content_type) != "multipart/related":
        raise bad_request("uploadType=multipart needs a multipart/related body.", "badContent")
    try:
        parts = parse_multipart(body, content_type or "")
    except ValueError as error:
        raise bad_request(f"Malformed multipart body: {error}", "badContent") from None
    if len(parts) != 2:
        raise bad_request("A multipart upload has exactly two parts.", "badContent")
    metadata = _json(parts[0].body) if parts[0].body.strip() else None
    return metadata, parts[1].body, parts[1].headers.get("content-type")


def _check_accept(route: Route, content_type: str | None) -> None:
    accepted = route.desc.get("mediaUpload", {}).get("accept", ["*/*"])
    kind = media_type(content_type) or "application/octet-stream"
    for pattern in accepted:
        major, _, minor = pattern.partition("/")
        if major in ("*", kind.split("/")[0]) and minor in ("*", kind.partition("/")[2]):
            return
    raise bad_request(
        f"Media type '{kind}' is not supported. Valid media types: {accepted}", "badContent"
    )


def _error(error: ApiError) -> Outcome:
    return Outcome(
        error.code,
        {"Content-Type": "application/json; charset=UTF-8"},
        json.dumps(error.payload()).encode(),
    )
