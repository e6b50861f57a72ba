"""The retry policy of integrations.google.execute, over a scripted HTTP layer."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from googleapiclient.http import HttpMockSequence

from integrations.google import errors
from integrations.google.discovery import build_client
from integrations.google.execute import RetryPolicy, run, run_batch

ENDPOINT = "http://google.invalid/"


class Clock:
    """A clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedHttp(HttpMockSequence):
    """HttpMockSequence that can also raise a transport exception at its turn."""

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        redirections: int = 1,
        connection_type: Any = None,
    ) -> Any:
        if self._iterable and isinstance(self._iterable[0], BaseException):
            self.request_sequence.append((uri, method, body, headers))
            raise self._iterable.pop(0)
        return super().request(uri, method, body, headers, redirections, connection_type)


def error(status: int, reason: str, message: str = "no", **headers: str) -> tuple[dict, str]:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"reason": reason, "message": message, "domain": "global"}],
        }
    }
    return {"status": str(status), **headers}, json.dumps(body)


OK = ({"status": "200"}, json.dumps({"id": "f1", "name": "brief"}))


def policy(clock: Clock, **kw: Any) -> RetryPolicy:
    kw = {"base": 1.0, "cap": 4.0, "deadline": 60.0, "max_attempts": 6, **kw}
    return RetryPolicy(clock=clock, sleep=clock.sleep, random=lambda: 1.0, **kw)


def drive_get(script: list[Any]) -> tuple[Any, ScriptedHttp]:
    http = ScriptedHttp(script)
    client = build_client("drive", "v3", endpoint=ENDPOINT, credentials=None, http=http)
    return client.files().get(fileId="f1"), http


def test_429_then_200_is_retried_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    request, http = drive_get([error(429, "rateLimitExceeded"), OK])
    with caplog.at_level(logging.WARNING, logger="integrations.google"):
        assert run(request, policy=policy(clock)) == {"id": "f1", "name": "brief"}
    assert len(http.request_sequence) == 2
    assert clock.sleeps == [1.0]
    assert "retrying" in caplog.text and "drive.files.get" in caplog.text


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded"])
def test_403_rate_limits_are_retried(reason: str) -> None:
    request, http = drive_get([error(403, reason), error(500, "backendError"), OK])
    assert run(request, policy=policy(Clock()))["id"] == "f1"
    assert len(http.request_sequence) == 3


def test_403_quota_exceeded_is_not_retried() -> None:
    request, http = drive_get([error(403, "quotaExceeded", "Daily limit"), OK])
    with pytest.raises(errors.QuotaExceeded) as caught:
        run(request, policy=policy(Clock()))
    assert (caught.value.status, caught.value.reason) == (403, "quotaExceeded")
    assert caught.value.message == "Daily limit" and not caught.value.retryable
    assert len(http.request_sequence) == 1


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (409, "duplicate", errors.Conflict),
        (404, "notFound", errors.NotFound),
        (400, "invalid", errors.InvalidRequest),
        (403, "insufficientFilePermissions", errors.PermissionDenied),
        (401, "authError", errors.Unauthenticated),
    ],
)
def test_other_4xx_are_not_retried(status: int, reason: str, kind: type) -> None:
    request, http = drive_get([error(status, reason, "said Google"), OK])
    with pytest.raises(kind) as caught:
        run(request, policy=policy(Clock()))
    assert caught.value.reason == reason and caught.value.message == "said Google"
    assert len(http.request_sequence) == 1


def test_waits_are_capped_and_attempts_limited() -> None:
    clock = Clock()
    request, http = drive_get([error(503, "backendError")] * 10)
    with pytest.raises(errors.Unavailable):
        run(request, policy=policy(clock, max_attempts=6))
    assert len(http.request_sequence) == 6
    assert clock.sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_full_jitter_draws_below_the_ceiling() -> None:
    clock = Clock()
    draws = iter([0.5, 0.25, 0.0])
    p = RetryPolicy(base=1.0, cap=4.0, clock=clock, sleep=clock.sleep, random=lambda: next(draws))
    request, _ = drive_get([error(500, "x")] * 3 + [OK])
    run(request, policy=p)
    assert clock.sleeps == [0.5, 0.5, 0.0]


def test_total_deadline_is_respected() -> None:
    clock = Clock()
    request, http = drive_get([error(502, "badGateway")] * 20)
    with pytest.raises(errors.Unavailable):
        run(request, policy=policy(clock, max_attempts=100, deadline=10.0))
    assert sum(clock.sleeps) <= 10.0
    assert clock.sleeps == [1.0, 2.0, 4.0]  # a fourth wait of 4s would end past 10s


def test_retry_after_is_honoured_within_the_cap() -> None:
    clock = Clock()
    request, _ = drive_get(
        [error(429, "x", **{"retry-after": "3"}), error(429, "x", **{"retry-after": "60"}), OK]
    )
    run(request, policy=policy(clock))
    assert clock.sleeps == [3.0, 4.0]


def test_connection_reset_is_retried() -> None:
    clock = Clock()
    request, http = drive_get([ConnectionResetError(104, "reset"), TimeoutError("slow"), OK])
    assert run(request, policy=policy(clock))["id"] == "f1"
    assert len(http.request_sequence) == 3


def test_connection_refused_is_not_retried() -> None:
    request, http = drive_get([ConnectionRefusedError(111, "refused"), OK])
    with pytest.raises(errors.GoogleConnectionError) as caught:
        run(request, policy=policy(Clock()))
    assert not caught.value.retryable
    assert len(http.request_sequence) == 1


def test_persistent_reset_ends_as_a_connection_error() -> None:
    request, _ = drive_get([ConnectionResetError(104, "reset")] * 3)
    with pytest.raises(errors.GoogleConnectionError) as caught:
        run(request, policy=policy(Clock(), max_attempts=3))
    assert caught.value.retryable and caught.value.reason == "ConnectionResetError"


def test_already_done_short_cuts_the_retry() -> None:
    request, http = drive_get([ConnectionResetError(104, "reset"), OK])
    assert run(request, policy=policy(Clock()), already_done=lambda: {"id": "seen"}) == {
        "id": "seen"
    }
    assert len(http.request_sequence) == 1


def test_programming_errors_are_not_wrapped() -> None:
    request, _ = drive_get([ValueError("bug")])
    with pytest.raises(ValueError):
        run(request, policy=policy(Clock()))


def test_error_reason_from_error_info_details() -> None:
    body = {
        "error": {
            "code": 429,
            "message": "slow down",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                }
            ],
        }
    }
    assert errors.parse_error_body(json.dumps(body)) == ("RATE_LIMIT_EXCEEDED", "slow down")
    assert errors.parse_error_body(b"<html>oops</html>") == ("", "<html>oops</html>")


# --- batches ---------------------------------------------------------------------------


def batch_answer(parts: dict[str, tuple[int, dict]]) -> tuple[dict, str]:
    lines = []
    for request_id, (status, body) in parts.items():
        lines += [
            "--B",
            "Content-Type: application/http",
            f"Content-ID: <response-x + {request_id}>",
            "",
            f"HTTP/1.1 {status} X",
            "Content-Type: application/json",
            "",
            json.dumps(body),
        ]
    lines.append("--B--")
    return {"status": "200", "content-type": 'multipart/mixed; boundary="B"'}, "\r\n".join(lines)


def rate_limited() -> dict:
    return {"error": {"code": 429, "message": "slow", "errors": [{"reason": "rateLimitExceeded"}]}}


def test_batch_retries_only_the_failed_parts() -> None:
    clock = Clock()
    http = ScriptedHttp(
        [
            batch_answer(
                {
                    "a": (200, {"id": "a"}),
                    "b": (429, rate_limited()),
                    "c": (
                        404,
                        {
                            "error": {
                                "code": 404,
                                "message": "gone",
                                "errors": [{"reason": "notFound"}],
                            }
                        },
                    ),
                }
            ),
            batch_answer({"b": (200, {"id": "b"})}),
        ]
    )
    client = build_client("drive", "v3", endpoint=ENDPOINT, credentials=None, http=http)
    requests = {k: client.files().get(fileId=k) for k in "abc"}
    outcome = run_batch(client, requests, policy=policy(clock))
    assert outcome.results == {"a": {"id": "a"}, "b": {"id": "b"}}
    assert isinstance(outcome.errors["c"], errors.NotFound)
    assert set(outcome.errors) == {"c"}
    assert "files/b" in http.request_sequence[1][2] and "files/a" not in http.request_sequence[1][2]
    assert http.request_sequence[0][0] == ENDPOINT + "batch/drive/v3"
    assert clock.sleeps == [1.0]


def test_batch_gives_up_on_parts_that_stay_rate_limited() -> None:
    clock = Clock()
    http = ScriptedHttp(
        [ConnectionResetError(104, "reset")] + [batch_answer({"a": (429, rate_limited())})] * 3
    )
    client = build_client("drive", "v3", endpoint=ENDPOINT, credentials=None, http=http)
    outcome = run_batch(
        client, {"a": client.files().get(fileId="a")}, policy=policy(clock, max_attempts=3)
    )
    assert outcome.results == {}
    assert isinstance(outcome.errors["a"], errors.RateLimited)
    assert len(http.request_sequence) == 3


def test_batch_is_split_into_chunks() -> None:
    http = ScriptedHttp(
        [batch_answer({"a": (200, {}), "b": (200, {})}), batch_answer({"c": (200, {})})]
    )
    client = build_client("drive", "v3", endpoint=ENDPOINT, credentials=None, http=http)
    requests = {k: client.files().get(fileId=k) for k in "abc"}
    outcome = run_batch(client, requests, policy=policy(Clock()), max_per_batch=2)
    assert set(outcome.results) == {"a", "b", "c"} and not outcome.errors
    assert len(http.request_sequence) == 2
