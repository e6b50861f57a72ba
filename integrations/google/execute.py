"""Every Google call goes through here: retries with capped backoff, typed errors.

Nothing else in the project calls `.execute()`. The library's own `num_retries` backoff
has no cap and no deadline, so requests run with `num_retries=0` and this module retries:
truncated exponential backoff with full jitter, a total deadline and a maximum number of
attempts, on 429, 5xx, 403 rate limits and transient connection failures only.
"""

from __future__ import annotations

import http.client
import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import google.auth.exceptions
import httplib2
from googleapiclient.errors import Error as ClientLibraryError
from googleapiclient.errors import HttpError

from integrations.google.delegation import DelegationError
from integrations.google.errors import (
    GoogleConnectionError,
    GoogleError,
    Unauthenticated,
    error_for_status,
    parse_error_body,
)

log = logging.getLogger("integrations.google")

T = TypeVar("T")

# Failures after which the same request may well succeed. ConnectionRefusedError and
# DNS failures (httplib2.ServerNotFoundError) are left out: they mean a wrong endpoint.
TRANSIENT = (
    ConnectionResetError,  # includes http.client.RemoteDisconnected
    ConnectionAbortedError,
    BrokenPipeError,
    TimeoutError,  # socket.timeout is an alias since 3.10
    http.client.IncompleteRead,
    http.client.BadStatusLine,
    ssl.SSLEOFError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to retry; the clock, sleep and randomness are injectable."""

    base: float = 0.5
    cap: float = 30.0
    deadline: float = 120.0
    max_attempts: int = 8
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)

    def wait(self, attempt: int, error: GoogleError) -> float:
        """Return the pause before retry number `attempt` (1-based): full jitter, capped."""
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        pause = float(self.random()) * ceiling
        if error.retry_after is not None:
            pause = max(pause, min(error.retry_after, self.cap))
        return pause


def to_google_error(exc: BaseException) -> GoogleError | None:
    """Return the typed error for a failure of a Google call, or None for our own bugs."""
    if isinstance(exc, GoogleError):
        return exc
    if isinstance(exc, HttpError):
        reason, message = parse_error_body(exc.content)
        error = error_for_status(int(exc.resp.status), reason, message or str(exc.reason))
        retry_after = exc.resp.get("retry-after") if exc.resp is not None else None
        if retry_after and retry_after.isdigit():
            error.retry_after = float(retry_after)
        return error
    if isinstance(exc, DelegationError):  # a 4xx of a delegation link: says what to fix
        return Unauthenticated(
            exc.message, status=exc.status, reason=f"delegation ({exc.link})", retryable=False
        )
    if isinstance(exc, google.auth.exceptions.RefreshError):
        # google-auth marks 5xx/429 of the token endpoint retryable; 4xx never are.
        return Unauthenticated(
            f"credentials could not be refreshed: {exc}",
            reason="refresh",
            retryable=bool(getattr(exc, "retryable", False)),
        )
    if isinstance(exc, google.auth.exceptions.TransportError):
        return GoogleConnectionError(str(exc), reason="transport", retryable=True)
    if isinstance(exc, TRANSIENT):
        return GoogleConnectionError(
            f"{type(exc).__name__}: {exc}", reason=type(exc).__name__, retryable=True
        )
    if isinstance(exc, OSError | httplib2.HttpLib2Error | http.client.HTTPException):
        return GoogleConnectionError(f"{type(exc).__name__}: {exc}", reason=type(exc).__name__)
    if isinstance(exc, ClientLibraryError):
        return GoogleError(f"{type(exc).__name__}: {exc}", reason=type(exc).__name__)
    return None


def _describe(request: Any) -> str:
    method = getattr(request, "methodId", None) or getattr(request, "method", "")
    return str(method or type(request).__name__)


class _Retrier:
    """Counts attempts against the policy and sleeps between them."""

    def __init__(self, policy: RetryPolicy, what: str) -> None:
        self.policy = policy
        self.what = what
        self.started = policy.clock()
        self.attempt = 0

    def again(self, error: GoogleError) -> bool:
        """Sleep and return True if another attempt is allowed after this error."""
        self.attempt += 1
        if not error.retryable or self.attempt >= self.policy.max_attempts:
            return False
        pause = self.policy.wait(self.attempt, error)
        elapsed = self.policy.clock() - self.started
        if elapsed + pause > self.policy.deadline:
            log.warning("%s: giving up after %.1fs: %s", self.what, elapsed, error)
            return False
        log.warning(
            "%s: attempt %d failed (%s); retrying in %.2fs", self.what, self.attempt, error, pause
        )
        self.policy.sleep(pause)
        return True


def run(
    request: Any,
    *,
    policy: RetryPolicy,
    already_done: Callable[[], T | None] | None = None,
) -> Any:
    """Execute a googleapiclient request with retries; raise a `GoogleError` on failure.

    `already_done`, if given, is asked before each retry whether the effect of an attempt
    whose answer was lost is visible already; its non-None answer is returned instead.
    """
    retrier = _Retrier(policy, _describe(request))
    while True:
        try:
            return request.execute(num_retries=0)
        except Exception as exc:
            error = to_google_error(exc)
            if error is None:
                raise
            if not retrier.again(error):
                raise error from exc
        if already_done is not None:
            done = already_done()
            if done is not None:
                return done


@dataclass
class BatchResult:
    """The outcome of a batch: each request id's response, or its error."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, GoogleError] = field(default_factory=dict)


def run_batch(
    client: Any,
    requests: Mapping[str, Any],
    *,
    policy: RetryPolicy,
    max_per_batch: int = 50,
) -> BatchResult:
    """Run requests as batches of `max_per_batch`; re-batch the parts that failed retryably.

    Parts must be safe to repeat: a whole-batch failure (connection lost, 5xx on the batch
    endpoint) sends every part again.
    """
    outcome = BatchResult()
    pending = dict(requests)
    retrier = _Retrier(policy, f"batch of {len(pending)}")
    while pending:
        failed: dict[str, GoogleError] = {}
        ids = list(pending)
        for start in range(0, len(ids), max_per_batch):
            chunk = ids[start : start + max_per_batch]
            failed.update(_run_one_batch(client, {i: pending[i] for i in chunk}, outcome))
        pending = {i: pending[i] for i, e in failed.items() if e.retryable}
        for request_id, error in failed.items():
            if not error.retryable:
                outcome.errors[request_id] = error
        if pending and not retrier.again(next(e for e in failed.values() if e.retryable)):
            outcome.errors.update({i: failed[i] for i in pending})
            pending = {}
    return outcome


def _run_one_batch(
    client: Any, chunk: Mapping[str, Any], outcome: BatchResult
) -> dict[str, GoogleError]:
    failed: dict[str, GoogleError] = {}

    def on_part(request_id: str, response: Any, exc: BaseException | None) -> None:
        if exc is None:
            outcome.results[request_id] = response
            return
        error = to_google_error(exc)
        failed[request_id] = error or GoogleError(repr(exc), reason=type(exc).__name__)

    batch = client.new_batch_http_request(callback=on_part)
    for request_id, request in chunk.items():
        batch.add(request, request_id=request_id)
    try:
        batch.execute()
    except Exception as exc:
        error = to_google_error(exc)
        if error is None:
            raise
        for request_id in chunk:
            if request_id not in outcome.results:
                failed[request_id] = error
    return failed
