"""Crashes and failures mid-handover: the sweep or a retry finishes it, nothing is made twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.local.drive import LocalDrive
from integrations.ports import DriveFile
from service.demo import example_handover
from service.store import handovers as repo
from service.workflows import kickoff
from tests.conftest import EXAMPLE_TEAM, Clock, told


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing after it runs, no handler catches it."""


class DyingDrive(LocalDrive):
    """A local Drive whose process dies right after the brief is written, once."""

    died = False

    def write_document(
        self,
        name: str,
        html: str,
        *,
        parent_id: str,
        properties: Mapping[str, str],
        existing_id: str | None = None,
    ) -> DriveFile:
        made = super().write_document(
            name, html, parent_id=parent_id, properties=properties, existing_id=existing_id
        )
        if not DyingDrive.died:
            DyingDrive.died = True
            raise ProcessDied
        return made


class FlakyDrive(LocalDrive):
    """A local Drive that refuses the first share, as Google does on a bad day."""

    refused = 0

    def share(self, file_id: str, grants: Any, *, notify: bool) -> Any:
        if FlakyDrive.refused == 0:
            FlakyDrive.refused += 1
            raise PermissionError("The user does not have sufficient permissions for this file.")
        return super().share(file_id, grants, notify=notify)


CLOCK_START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # where the tests' clock starts


def steps_of(services: Any, handover_id: str) -> dict[str, tuple[str, int]]:
    with services.db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        return {s.name: (s.state, s.attempts) for s in row.steps}


def test_a_crash_after_the_brief_was_written_is_resumed_by_the_sweep_without_a_second_brief(
    services: Any,
) -> None:
    clock = Clock(CLOCK_START)
    services.clock = clock
    services.drive = DyingDrive(services.settings.workspace_dir / "drive")
    DyingDrive.died = False
    result = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="test", db=services.db, tasks=services.tasks
    )
    services.tasks.wait_idle()
    assert steps_of(services, result.handover_id)["project_brief"] == ("running", 1)

    # Within the lease the sweep leaves the step alone: its worker may still be alive.
    assert kickoff.sweep(db=services.db, tasks=services.tasks, clock=clock) == []
    clock.now += timedelta(minutes=6)
    assert kickoff.sweep(db=services.db, tasks=services.tasks, clock=clock) == [result.handover_id]
    services.tasks.wait_idle()

    steps = steps_of(services, result.handover_id)
    assert all(state == "done" for state, _ in steps.values()), steps
    assert steps["project_brief"] == ("done", 2)
    briefs = list(services.settings.workspace_dir.rglob("Project Brief*"))
    assert len(briefs) == 1
    assert told(services) == EXAMPLE_TEAM  # each person once


def test_a_failed_step_shows_its_error_and_a_retry_completes_it(services: Any, client: Any) -> None:
    services.drive = FlakyDrive(services.settings.workspace_dir / "drive")
    FlakyDrive.refused = 0
    result = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="test", db=services.db, tasks=services.tasks
    )
    services.tasks.wait_idle()
    data = client.get(f"/api/handovers/{result.handover_id}").get_json()
    assert data["status"] == "failed"
    failed = next(s for s in data["steps"] if s["state"] == "failed")
    assert failed["name"] == "share_brief"
    assert "sufficient permissions" in failed["error"]
    page = client.get(f"/handovers/{result.handover_id}").get_data(as_text=True)
    assert "sufficient permissions" in page

    assert (
        kickoff.retry_handover(
            result.handover_id,
            actor="ops",
            db=services.db,
            tasks=services.tasks,
            clock=services.clock,
        )
        == 1
    )
    services.tasks.wait_idle()
    assert client.get(f"/api/handovers/{result.handover_id}").get_json()["status"] == "done"
    assert len(list(services.settings.workspace_dir.rglob("Project Brief*"))) == 1
    assert told(services) == EXAMPLE_TEAM  # each person once


def test_two_workers_never_run_the_same_step(services: Any) -> None:
    result = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="test", db=services.db, tasks=services.tasks
    )
    services.tasks.wait_idle()
    with services.db.transaction() as session:
        repo.reset_steps(session, result.handover_id, ("notify_team",), now=datetime.now(UTC))
    now = datetime.now(UTC)
    with services.db.transaction() as session:
        step = next(
            s
            for s in repo.get_handover(session, result.handover_id).steps
            if s.name == "notify_team"
        )
        step_id = step.id
    claims = []
    for _ in range(3):
        with services.db.transaction() as session:
            claims.append(repo.claim_step(session, step_id, now=now, lease=timedelta(minutes=5)))
    assert claims == [True, False, False]


def test_a_second_handover_for_the_same_client_reuses_the_account_folder(services: Any) -> None:
    first = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="t", db=services.db, tasks=services.tasks
    )
    second_data = example_handover()
    second_data["project"]["name"] = "Acme Mobile App"
    second = kickoff.submit_handover(
        second_data, idempotency_key=None, actor="t", db=services.db, tasks=services.tasks
    )
    services.tasks.wait_idle()
    with services.db.transaction() as session:
        folders = {
            repo.artifact(session, h.handover_id, "folder").external_id  # type: ignore[union-attr]
            for h in (first, second)
        }
    assert len(folders) == 1
    assert len(list(services.settings.workspace_dir.rglob("Contracts"))) == 1
    assert len(list(services.settings.workspace_dir.rglob("Project Brief*"))) == 2
