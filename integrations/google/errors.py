"""The errors of the Google adapters: one base class, one subclass per way a call fails.

Every failure of a Google call reaches the rest of the service as one of these, carrying
Google's own `reason` (e.g. `rateLimitExceeded`) and `message`, never as `HttpError`.
"""

from __future__ import annotations

import json
from typing import Any

# 403 reasons that mean "slow down" (retry later) rather than "no" or "not today".
RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
)
QUOTA_REASONS = frozenset(
    {"quotaExceeded", "dailyLimitExceeded", "sharingRateLimitExceeded", "storageQuotaExceeded"}
)


class GoogleError(Exception):
    """A Google API call failed; `retryable` says whether trying again may help."""

    retryable = False
    retry_after: float | None = None  # seconds, from a Retry-After header

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        retryable: bool | None = None,
    ) -> None:
        super().__init__(f"{status or '-'} {reason or 'error'}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class InvalidRequest(GoogleError):
    """Google refused the request as malformed (400 and other unlisted 4xx); a bug here."""


class Unauthenticated(GoogleError):
    """The credentials were refused or could not be refreshed (401, RefreshError)."""


class PermissionDenied(GoogleError):
    """The service user may not do this (403 other than rate limits and quotas)."""


class NotFound(GoogleError):
    """The file, message or event does not exist or is not visible to us (404)."""


class Conflict(GoogleError):
    """The thing already exists, e.g. a create with an id used before (409)."""


class PreconditionFailed(GoogleError):
    """A conditional request lost a race (412)."""


class RateLimited(GoogleError):
    """Too many requests for now (429, 403 rateLimitExceeded); retried with backoff."""

    retryable = True


class QuotaExceeded(GoogleError):
    """A daily or storage quota is spent (403 quotaExceeded...); retrying will not help."""


class Unavailable(GoogleError):
    """Google failed or is overloaded (5xx); retried with backoff."""

    retryable = True


class GoogleConnectionError(GoogleError):
    """The connection failed before an answer came; retryable when the failure is transient."""


def parse_error_body(content: bytes | str | None) -> tuple[str, str]:
    """Return Google's (reason, message) from an error body, or ("", text) if it is not JSON."""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    content = content or ""
    try:
        body: Any = json.loads(content)
    except ValueError:
        return "", content.strip()[:500]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        # OAuth token endpoints answer {"error": "invalid_grant", "error_description": ...}
        if isinstance(error, str):
            return error, str(body.get("error_description", error))
        return "", content.strip()[:500]
    message = str(error.get("message", ""))
    reason = ""
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason", ""))
    if not reason:
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and detail.get("reason"):
                reason = str(detail["reason"])
                break
    return reason or str(error.get("status", "")), message


def error_for_status(status: int, reason: str, message: str) -> GoogleError:
    """Return the typed error for an HTTP status and Google's reason."""
    kind: type[GoogleError]
    if status == 429 or reason in RATE_LIMIT_REASONS:
        kind = RateLimited
    elif status >= 500:
        kind = Unavailable
    elif reason in QUOTA_REASONS:
        kind = QuotaExceeded
    elif status == 401:
        kind = Unauthenticated
    elif status == 403:
        kind = PermissionDenied
    elif status == 404:
        kind = NotFound
    elif status == 409:
        kind = Conflict
    elif status == 412:
        kind = PreconditionFailed
    else:
        kind = InvalidRequest
    return kind(message or f"HTTP {status}", status=status, reason=reason)
