"""The Cloud Tasks adapter against a fake Cloud Tasks speaking real gRPC on 127.0.0.1.

The fake keeps every task name it ever saw (Cloud Tasks refuses a name for about an hour,
even after the task ran) and can inject faults; it delivers tasks to the app the way App
Engine does, so the whole path (submit -> task -> /tasks/run -> steps) runs offline.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.cloud import tasks_v2
from google.cloud.tasks_v2.types import cloudtasks

from integrations.tasks.cloud_tasks import TASK_ID, CloudTasks, make_client, queue_path
from service import create_app
from service.demo import example_handover
from service.workflows import kickoff
from tests.conftest import API_TOKEN, TASKS_SECRET, close_app, make_settings

QUEUE = "projects/acme-handover/locations/europe-west1/queues/handover"


@dataclass
class FakeCloudTasks:
    """An in-memory Cloud Tasks queue: CreateTask with name dedup, GetQueue, and faults."""

    queues: set[str] = field(default_factory=lambda: {QUEUE})
    tasks: dict[str, tasks_v2.Task] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # names refused even after the task ran
    faults: list[str] = field(default_factory=list)  # "unavailable" or "lost-answer", in order
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create_task(self, request: cloudtasks.CreateTaskRequest, context: Any) -> tasks_v2.Task:
        with self.lock:
            self.calls += 1
            fault = self.faults.pop(0) if self.faults else None
            if fault == "unavailable":
                context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
            if request.parent not in self.queues:
                context.abort(grpc.StatusCode.NOT_FOUND, f"queue {request.parent} not found")
            task = tasks_v2.Task(request.task)
            prefix, _, task_id = task.name.rpartition("/tasks/")
            if prefix != request.parent or not TASK_ID.match(task_id):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad task name {task.name!r}")
            if task.name in self.seen:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, "task exists or existed recently")
            self.seen.add(task.name)
            self.tasks[task.name] = task
            if fault == "lost-answer":  # made it, but the answer never reached the caller
                context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
            return task

    def get_queue(self, request: cloudtasks.GetQueueRequest, context: Any) -> tasks_v2.Queue:
        if request.name not in self.queues:
            context.abort(grpc.StatusCode.NOT_FOUND, "queue not found")
        limits = tasks_v2.RateLimits(max_dispatches_per_second=0.5, max_concurrent_dispatches=10)
        return tasks_v2.Queue(name=request.name, state=tasks_v2.Queue.State.RUNNING, rate_limits=limits)

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            "google.cloud.tasks.v2.CloudTasks",
            {
                "CreateTask": grpc.unary_unary_rpc_method_handler(
                    self.create_task,
                    request_deserializer=cloudtasks.CreateTaskRequest.deserialize,
                    response_serializer=tasks_v2.Task.serialize,
                ),
                "GetQueue": grpc.unary_unary_rpc_method_handler(
                    self.get_queue,
                    request_deserializer=cloudtasks.GetQueueRequest.deserialize,
                    response_serializer=tasks_v2.Queue.serialize,
                ),
            },
        )

    def deliver(self, client: Any, headers: dict[str, str]) -> list[int]:
        """POST every waiting task to the app, as Cloud Tasks does; return the statuses."""
        statuses = []
        while self.tasks:
            with self.lock:
                name = next(iter(self.tasks))
                task = self.tasks.pop(name)
            http = task.app_engine_http_request
            answer = client.post(
                http.relative_uri,
                data=http.body,
                headers={**dict(http.headers), **headers},
            )
            statuses.append(answer.status_code)
        return statuses


@pytest.fixture
def fake_tasks() -> Iterator[tuple[FakeCloudTasks, str]]:
    fake = FakeCloudTasks()
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((fake.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield fake, f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def queue(fake_tasks: tuple[FakeCloudTasks, str]) -> Iterator[tuple[CloudTasks, Clock]]:
    clock = Clock(1_800_000_000.3)
    adapter = CloudTasks(make_client(fake_tasks[1]), f"cloud-tasks:{QUEUE}", clock=clock, deadline=5)
    yield adapter, clock
    adapter.close()


def test_a_job_becomes_an_app_engine_post_of_its_payload(queue: Any, fake_tasks: Any) -> None:
    adapter, _clock = queue
    adapter.enqueue("advance_handover", {"handover_id": "h1"}, key="advance-h1")
    (task,) = fake_tasks[0].tasks.values()
    http = task.app_engine_http_request
    assert http.http_method == tasks_v2.HttpMethod.POST
    assert http.relative_uri == "/tasks/run/advance_handover"
    assert json.loads(http.body) == {"handover_id": "h1"}
    assert http.headers["Content-Type"] == "application/json"
    assert task.name.startswith(f"{QUEUE}/tasks/") and task.name.endswith("-advance_handover")
    # Runs when its 2-second bucket ends, plus a second of grace for clock skew.
    assert task.schedule_time == datetime.fromtimestamp(1_800_000_003, UTC)


def test_the_same_key_waiting_is_dropped_and_a_later_one_runs(queue: Any, fake_tasks: Any) -> None:
    adapter, clock = queue
    fake = fake_tasks[0]
    adapter.enqueue("sync_drive", {}, key="sync_drive")
    clock.now += 1.5  # same bucket: the first task has not run yet
    adapter.enqueue("sync_drive", {}, key="sync_drive")
    assert len(fake.tasks) == 1 and fake.calls == 2
    fake.tasks.clear()  # it ran; Cloud Tasks still remembers the name
    clock.now += 1.0  # after the first task's schedule time: a new bucket, a new task
    adapter.enqueue("sync_drive", {}, key="sync_drive")
    clock.now += 3600 * 24
    adapter.enqueue("sync_drive", {}, key="sync_drive")
    assert len(fake.tasks) == 2
    assert all(t.schedule_time.timestamp() > 1_800_000_001.8 for t in fake.tasks.values())


def test_a_delayed_job_never_runs_early(queue: Any, fake_tasks: Any) -> None:
    adapter, clock = queue
    adapter.enqueue("sync_drive", {}, key="sync_drive:settle", delay_seconds=30)
    (task,) = fake_tasks[0].tasks.values()
    assert task.schedule_time.timestamp() >= clock.now + 30


def test_different_keys_make_different_tasks(queue: Any, fake_tasks: Any) -> None:
    adapter, _clock = queue
    for n in range(5):
        adapter.enqueue("advance_handover", {"handover_id": f"h{n}"}, key=f"advance-h{n}")
    assert len(fake_tasks[0].tasks) == 5


def test_unavailable_is_retried_and_a_lost_answer_makes_no_second_task(
    queue: Any, fake_tasks: Any
) -> None:
    adapter, _clock = queue
    fake = fake_tasks[0]
    fake.faults = ["unavailable", "lost-answer"]
    adapter.enqueue("advance_handover", {"handover_id": "h1"}, key="advance-h1")
    assert fake.calls == 3  # refused, made with the answer lost, then AlreadyExists: done
    assert len(fake.tasks) == 1


def test_a_missing_queue_is_logged_not_raised(
    fake_tasks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    missing = QUEUE.replace("handover", "nope")
    adapter = CloudTasks(make_client(fake_tasks[1]), f"cloud-tasks:{missing}", deadline=2)
    try:
        adapter.enqueue("sweep", {}, key="sweep")
        assert "could not queue sweep" in caplog.text
        with pytest.raises(Exception, match="not found"):
            adapter.check()
    finally:
        adapter.close()


def test_check_reports_the_queue(queue: Any) -> None:
    assert "is running (0.5/s, 10 at once)" in queue[0].check()


@pytest.mark.parametrize(
    "value", ["cloud-tasks:projects/p", "cloud-tasks:projects/p/locations/l/queues/q q", "inline"]
)
def test_a_malformed_queue_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="TASK_QUEUE"):
        queue_path(value)


@pytest.mark.parametrize("on_app_engine", [False, True])
def test_submit_runs_through_cloud_tasks_end_to_end(
    tmp_path: Path, fake_tasks: Any, on_app_engine: bool
) -> None:
    fake, endpoint = fake_tasks
    settings = make_settings(
        tmp_path, task_queue=f"cloud-tasks:{QUEUE}", cloud_tasks_endpoint=endpoint
    )
    settings = replace(settings, on_app_engine=on_app_engine)
    app = create_app(settings)
    try:
        client = app.test_client()
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        body = example_handover("Acme Corp")
        first = client.post("/api/handovers", json=body, headers={**auth, "Idempotency-Key": "k1"})
        assert first.status_code == 202
        handover_id = first.get_json()["id"]
        assert len(fake.tasks) == 1  # the work waits in the queue, not in the web worker
        headers = (
            {"X-AppEngine-QueueName": "handover", "X-AppEngine-TaskName": "t"}
            if on_app_engine
            else {"X-Tasks-Secret": TASKS_SECRET}
        )
        assert set(fake.deliver(client, headers)) == {200}
        answer = client.get(f"/api/handovers/{handover_id}", headers=auth).get_json()
        assert answer["status"] == "done", answer
        s = app.extensions["handover"]
        assert kickoff.sweep(db=s.db, tasks=s.tasks, clock=s.clock) == []
    finally:
        close_app(app)


def test_doctor_checks_the_queue(fake_tasks: Any, tmp_path: Path) -> None:
    from service.doctor import diagnose_all

    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}",
        "TASK_QUEUE": f"cloud-tasks:{QUEUE}",
        "CLOUD_TASKS_ENDPOINT": fake_tasks[1],
    }
    queue = next(f for f in diagnose_all(env) if f.check == "queue")
    assert queue.ok and f"queue {QUEUE} is running" in queue.message
    env["TASK_QUEUE"] = f"cloud-tasks:{QUEUE}-gone"
    queue = next(f for f in diagnose_all(env) if f.check == "queue")
    assert not queue.ok and "roles/cloudtasks.enqueuer" in queue.message
