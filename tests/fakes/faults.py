"""Injected failures: error statuses, connection resets and delays, by count or by seeded rate."""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.fakes.core import ApiError

DEFAULT_REASONS = {
    403: "rateLimitExceeded",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
}
MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Quota exceeded for quota metric 'Queries' of service.",
    "backendError": "Backend Error",
    "internalError": "Internal Error",
}


@dataclass
class Fault:
    """A rule that makes matching requests fail.

    status: HTTP status to answer (429, 403, 500, 503...); reason defaults by status
    (403 and 429: rateLimitExceeded; 5xx: backendError); pass reason="userRateLimitExceeded"
    or "quotaExceeded" for the other 403s. reset=True closes the connection without an
    answer instead. path is a regex searched in the URL path (anchor it with ^...$ for an
    exact match); method is the HTTP verb; method_id a discovery id like
    "drive.permissions.create". times limits how often it fires; rate fires with that
    probability, drawn from random.Random(seed). delay adds seconds before the answer.
    after=True lets the request take effect first and then loses its answer (reset) or
    replaces it (status): the "did my create happen?" case. Faults apply to each part of a
    batch as to a plain request (resets only to whole HTTP requests).
    """

    status: int | None = None
    reason: str | None = None
    message: str | None = None
    path: str | None = None
    method: str | None = None
    method_id: str | None = None
    times: int | None = None
    rate: float | None = None
    seed: int | None = None
    reset: bool = False
    delay: float = 0.0
    after: bool = False
    fired: int = field(default=0, init=False)
    seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.status is None and not self.reset and not self.delay:
            raise ValueError("a Fault needs a status, reset=True or a delay")
        self._random = random.Random(self.seed)
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, method: str, path: str, method_id: str | None) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.method_id and self.method_id != method_id:
            return False
        return not (self._pattern and not self._pattern.search(path))

    def draw(self) -> bool:
        """Decide whether this matching request fails; counts what fired."""
        self.seen += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.rate is not None and self._random.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def error(self) -> ApiError:
        assert self.status is not None
        reason = self.reason or DEFAULT_REASONS.get(self.status, "backendError")
        message = self.message or MESSAGES.get(reason, "Fault injected by FakeGoogle")
        return ApiError(self.status, message, reason)


class Faults:
    """The fake's fault rules; the first matching rule that fires wins."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._rules.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._rules))

    def pick(
        self, method: str, path: str, method_id: str | None, *, can_reset: bool
    ) -> Fault | None:
        """Return the fault that fires for this request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.reset and not can_reset:
                    continue
                if rule.matches(method, path, method_id) and rule.draw():
                    return rule
        return None
