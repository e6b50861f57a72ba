"""Task and cron endpoints: only the platform may call them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TASKS_SECRET


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Tasks-Secret": "wrong"},
        {"X-AppEngine-QueueName": "default"},  # off App Engine this header proves nothing
        {"X-Appengine-Cron": "true"},
    ],
)
def test_untrusted_callers_are_refused(client: Any, headers: dict[str, str]) -> None:
    assert client.post("/tasks/sweep", headers=headers).status_code == 403
    answer = client.post("/tasks/run/advance_handover", json={"handover_id": "x"}, headers=headers)
    assert answer.status_code == 403


def test_the_queue_with_the_secret_runs_a_sweep(client: Any) -> None:
    answer = client.post("/tasks/sweep", headers={"X-Tasks-Secret": TASKS_SECRET})
    assert answer.status_code == 200
    assert answer.get_json() == {"requeued": []}


def test_an_unknown_job_is_404_even_for_the_queue(client: Any) -> None:
    answer = client.post("/tasks/run/rm_rf", json={}, headers={"X-Tasks-Secret": TASKS_SECRET})
    assert answer.status_code == 404


def test_dev_login_answers_only_on_loopback(client: Any) -> None:
    assert client.get("/handovers/new").status_code == 200
    far = client.get("/handovers/new", environ_overrides={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403
    assert client.post("/api/handovers", json={}, environ_overrides={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401
