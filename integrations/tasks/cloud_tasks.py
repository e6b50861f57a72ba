"""The Tasks port on Google Cloud Tasks: each job is an App Engine HTTP task.

A job becomes a POST of its JSON payload to `/tasks/run/<job>` on the app itself, which
Cloud Tasks delivers with the `X-AppEngine-QueueName` header (see service/web/tasks.py).

Task names and deduplication. Cloud Tasks refuses a second task with a name it has seen
(AlreadyExists) for about an hour after the first was created, ran or was deleted, so a
name made from the dedup key alone would silently drop a legitimate later run of the
same job (`advance_handover` after a PM change or a retry, `sync_drive` for the next
Drive change). Names therefore carry a *time bucket*, and the task runs when its bucket
ends:

* `bucket = ceil((now + delay) / window)`, `name = sha256(key, bucket)`, and the task is
  scheduled at `bucket * window + grace`;
* every enqueue of the key whose target time falls in the same bucket gets the same name
  and is dropped by Cloud Tasks, and each of those enqueues happened before the task's
  schedule time, i.e. while the first was still waiting, which is the port's promise;
* an enqueue after the task started lands in a later bucket, so it is never lost;
* `grace` covers clock skew between instances; the hash comes first in the name because
  Cloud Tasks shards by name and sequential prefixes slow it down.

A retry of `create_task` (timeout, UNAVAILABLE) reuses the name, so a create that
succeeded but whose answer was lost ends as AlreadyExists: done, never a second task.
The cost is up to `window + grace` seconds of added latency per hop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.api_core import retry as api_retry
from google.cloud import tasks_v2

log = logging.getLogger(__name__)

QUEUE_PATH = re.compile(r"^projects/[^/]+/locations/[^/]+/queues/[A-Za-z0-9-]{1,100}$")
TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
PREFIX = "cloud-tasks:"

# Safe to retry because a retried create reuses the task name.
_TRANSIENT = (
    api_exceptions.ServiceUnavailable,
    api_exceptions.DeadlineExceeded,
    api_exceptions.InternalServerError,
    api_exceptions.ResourceExhausted,
    api_exceptions.Aborted,
)


def queue_path(task_queue: str) -> str:
    """Return `projects/P/locations/L/queues/Q` from a `cloud-tasks:...` TASK_QUEUE value."""
    path = task_queue.removeprefix(PREFIX)
    if not QUEUE_PATH.match(path):
        raise ValueError(
            "TASK_QUEUE must look like cloud-tasks:projects/P/locations/L/queues/Q, "
            f"got {task_queue!r}"
        )
    return path


def task_id(job: str, key: str, bucket: int) -> str:
    """Return the task id for a key in a time bucket: hash first, then the job, for logs."""
    digest = hashlib.sha256(f"{key}\x00{bucket}".encode()).hexdigest()[:40]
    name = f"{digest}-{re.sub(r'[^A-Za-z0-9_-]', '_', job)}"[:500]
    assert TASK_ID.match(name)
    return name


def make_client(endpoint: str | None = None) -> tasks_v2.CloudTasksClient:
    """Return a Cloud Tasks client: Google's with ADC, or plain gRPC to an emulator/fake."""
    if not endpoint:
        return tasks_v2.CloudTasksClient()
    import grpc
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(endpoint)
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))


class CloudTasks:
    """Queues jobs as App Engine HTTP tasks on one Cloud Tasks queue."""

    def __init__(
        self,
        client: tasks_v2.CloudTasksClient,
        queue: str,
        *,
        window: float = 2.0,
        grace: float = 1.0,
        clock: Callable[[], float] = time.time,
        deadline: float = 10.0,
    ) -> None:
        self._client = client
        self._queue = queue_path(queue)
        self._window, self._grace, self._clock = window, grace, clock
        self._retry = api_retry.Retry(
            predicate=api_retry.if_exception_type(*_TRANSIENT),
            initial=0.2,
            maximum=5.0,
            multiplier=2.0,
            timeout=deadline,
        )

    @property
    def queue(self) -> str:
        return self._queue

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        """Create the job's task unless one with the same key waits in the same time bucket.

        A failure is logged, not raised: the work itself is recorded in the database and
        the sweep (cron) queues it again, so a failed nudge must not fail the request
        that stored it (a client retrying a failed submit could store it twice).
        """
        task = self.task_for(job, payload, key=key, delay_seconds=delay_seconds)
        try:
            self._client.create_task(
                parent=self._queue, task=task, retry=self._retry, timeout=5.0
            )
        except api_exceptions.AlreadyExists:
            log.debug("task %s already queued", task.name, extra={"job": job})
        except (api_exceptions.GoogleAPICallError, api_exceptions.RetryError) as error:
            log.error(
                "could not queue %s on %s: %s (the sweep will queue it again)",
                job,
                self._queue,
                error,
                extra={"job": job, "task": task.name},
            )

    def task_for(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> tasks_v2.Task:
        """Return the task that `enqueue` would create now."""
        target = self._clock() + max(0.0, delay_seconds)
        bucket = math.ceil(target / self._window)
        run_at = bucket * self._window + self._grace
        return tasks_v2.Task(
            name=f"{self._queue}/tasks/{task_id(job, key, bucket)}",
            schedule_time=datetime.fromtimestamp(run_at, UTC),
            app_engine_http_request=tasks_v2.AppEngineHttpRequest(
                http_method=tasks_v2.HttpMethod.POST,
                relative_uri=f"/tasks/run/{job}",
                headers={"Content-Type": "application/json"},
                body=json.dumps(dict(payload), sort_keys=True).encode(),
            ),
        )

    def check(self) -> str:
        """Return a line saying the queue is usable; raise GoogleAPICallError if not."""
        queue: Any = self._client.get_queue(name=self._queue, timeout=10.0)
        state = tasks_v2.Queue.State(queue.state).name
        if state != "RUNNING":
            raise api_exceptions.FailedPrecondition(  # type: ignore[no-untyped-call]
                f"queue {self._queue} is {state}"
            )
        limits = queue.rate_limits
        return (
            f"queue {self._queue} is running "
            f"({limits.max_dispatches_per_second:g}/s, {limits.max_concurrent_dispatches} at once)"
        )

    def wait_idle(self, timeout: float = 30) -> bool:
        """Return True: the jobs run elsewhere, there is nothing to wait for here."""
        return True

    def close(self) -> None:
        """Close the client's channel."""
        self._client.transport.close()  # type: ignore[no-untyped-call]
