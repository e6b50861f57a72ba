"""Shared pieces of the fake: errors in Google's JSON shape, calls, replies, time and ids."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "NOT_FOUND",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}

REASON_PHRASES = {
    200: "OK",
    204: "No Content",
    308: "Resume Incomplete",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An error answered in Google's JSON error shape."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str = "badRequest",
        *,
        location: str | None = None,
        location_type: str = "parameter",
        status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.location = location
        self.location_type = location_type
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")

    def payload(self) -> dict[str, Any]:
        """The JSON body Google sends for this error."""
        item: dict[str, Any] = {"message": self.message, "domain": "global", "reason": self.reason}
        if self.location:
            item["location"] = self.location
            item["locationType"] = self.location_type
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [item],
                "status": self.status,
            }
        }


def bad_request(message: str, reason: str = "badRequest", location: str | None = None) -> ApiError:
    return ApiError(400, message, reason, location=location)


def not_found(message: str, location: str | None = None) -> ApiError:
    return ApiError(404, message, "notFound", location=location)


@dataclass
class Batch:
    """Per-batch bookkeeping: work deferred until every part has been handled."""

    finishers: list[Callable[[], None]] = field(default_factory=list)
    authorization: str = ""  # the batch's own Authorization header, for parts without one


@dataclass
class Call:
    """One API call as a handler sees it."""

    method_id: str
    params: dict[str, Any]
    body: Any = None
    media: bytes | None = None
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    batch: Batch | None = None

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value


@dataclass
class Reply:
    """A handler's answer: JSON, raw bytes, or nothing (204)."""

    status: int = 200
    json: Any = None
    data: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Run outside the state lock, after the handler returned (see drive permissions).
    finish: Callable[[], None] | None = None
    # False when the body must not be trimmed by `fields` (already filtered, or raw).
    filterable: bool = True


def body_bytes(reply: Reply) -> tuple[bytes, str | None]:
    """Serialize a reply body; return (bytes, content type)."""
    if reply.data is not None:
        return reply.data, reply.content_type or "application/octet-stream"
    if reply.json is None:
        return b"", None
    return json.dumps(reply.json).encode(), "application/json; charset=UTF-8"


class Clock:
    """The fake's notion of now; tests may replace `now` with their own function."""

    def __init__(self) -> None:
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def stamp(self) -> str:
        return rfc3339(self.now())


def rfc3339(moment: datetime) -> str:
    """Format like Google: UTC with milliseconds and a Z."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime | None:
    """Parse RFC 3339 (with Z or offset); None when unparseable."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return parsed


ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def drive_id() -> str:
    """A Drive-looking id: 33 base64url characters starting with 1."""
    return "1" + "".join(secrets.choice(ID_ALPHABET) for _ in range(32))


def hex_id(length: int = 16) -> str:
    return secrets.token_hex(length // 2)


def b64url_decode(text: str) -> bytes:
    """Decode base64url (padding optional; standard alphabet tolerated)."""
    cleaned = text.strip().replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class State:
    """Base for per-API state: shares the world's lock and clock."""

    def __init__(self, lock: threading.RLock, clock: Clock) -> None:
        self.lock = lock
        self.clock = clock

    def handlers(self) -> dict[str, Callable[[Call], Reply]]:
        """Map discovery method ids to handlers."""
        raise NotImplementedError
