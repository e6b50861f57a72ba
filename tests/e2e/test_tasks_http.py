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
    assert answer.get_json() == {"requeued": [], "reviews_requeued": []}


def test_an_unknown_job_is_404_even_for_the_queue(client: Any) -> None:
    answer = client.post("/tasks/run/rm_rf", json={}, headers={"X-Tasks-Secret": TASKS_SECRET})
    assert answer.status_code == 404


def test_dev_login_answers_only_on_loopback(client: Any) -> None:
    assert client.get("/handovers/new").status_code == 200
    far = client.get("/handovers/new", environ_overrides={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403
    assert client.post("/api/handovers", json={}, environ_overrides={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401


def test_a_task_finding_its_step_held_queues_itself_for_later_and_ends_well(
    tmp_path: Any, database_url: str
) -> None:
    from datetime import UTC, datetime

    from service import create_app
    from service.demo import example_handover
    from service.store import handovers as repo
    from service.store.queue_models import QueuedJobRow
    from service.workflows import kickoff
    from tests.conftest import close_app, make_settings

    app = create_app(make_settings(tmp_path, database_url=database_url, task_queue="database"))
    try:
        s = app.extensions["handover"]
        handover_id = kickoff.submit_handover(
            example_handover(), idempotency_key=None, actor="t", db=s.db, tasks=s.tasks
        ).handover_id
        with s.db.transaction() as session:  # another worker holds the first step
            row = repo.get_handover(session, handover_id)
            assert row is not None
            first = min(row.steps, key=lambda step: step.position)
            assert repo.claim_step(session, first.id, now=s.clock(), lease=s.settings.lease)
            session.query(QueuedJobRow).delete()  # only what the task queues below counts

        answer = app.test_client().post(
            "/tasks/run/advance_handover",
            json={"handover_id": handover_id},
            headers={"X-Tasks-Secret": TASKS_SECRET},
        )

        assert answer.status_code == 200  # a 5xx would make Cloud Tasks throttle the queue
        assert answer.get_json()["again_in_seconds"] == s.settings.lease_seconds
        with s.db.transaction() as session:
            [job] = session.query(QueuedJobRow).all()
            assert (job.job, job.payload) == ("advance_handover", {"handover_id": handover_id})
            wait = (job.run_at - datetime.now(UTC)).total_seconds()
            assert s.settings.lease_seconds - 30 < wait <= s.settings.lease_seconds
    finally:
        close_app(app)
