"""Long lists come a page at a time: the handovers on the home page, the audit trail."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask

from service.demo import example_handover
from service.workflows import kickoff
from tests.e2e.signin_support import (  # noqa: F401 - fixtures
    ADMIN,
    SALES,
    app_fixture,
    client_as,
    google_fixture,
)
from tests.fakes.oidc import FakeGoogleSignIn


class Queue:
    """A queue that keeps the jobs: the handovers stay as submitted (fast to make many)."""

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        pass


def submit_many(app: Flask, count: int) -> list[str]:
    services = app.extensions["handover"]
    return [
        kickoff.submit_handover(
            example_handover(f"Client {n:03d}"),
            idempotency_key=None,
            actor=SALES,
            db=services.db,
            tasks=Queue(),
        ).handover_id
        for n in range(count)
    ]


def listed(html: str) -> tuple[list[str], str | None]:
    ids = re.findall(r'href="/handovers/([0-9a-f]{32})"', html)
    older = re.search(r'href="(/\?before=[0-9a-f]{32})"', html)
    return ids, older.group(1) if older else None


def test_the_home_page_pages_through_every_handover(app: Flask, google: FakeGoogleSignIn) -> None:
    made = submit_many(app, 120)
    ops = client_as(app, google, "ola@agency.example")
    seen: list[list[str]] = []
    url: str | None = "/"
    while url is not None:
        answer = ops.get(url)
        assert answer.status_code == 200
        ids, url = listed(answer.get_data(as_text=True))
        seen.append(ids)
    assert [len(page) for page in seen] == [50, 50, 20]  # today: the newest 50, no more
    assert [i for page in seen for i in page] == list(reversed(made))
    assert ops.get("/?before=not-an-id").status_code == 400


def test_the_audit_trail_pages_back_to_its_first_line(app: Flask, google: FakeGoogleSignIn) -> None:
    submit_many(app, 12)
    client = app.test_client()
    lines: list[dict[str, Any]] = []
    url: str | None = "/api/audit?limit=5"
    while url is not None:
        page = client.get(url, headers=ADMIN).get_json()
        lines += page["audit"]
        url = f"/api/audit?limit=5&before={page['older']}" if page["older"] else None
    ids = [line["id"] for line in lines]
    assert len(ids) == 12 and ids == sorted(ids, reverse=True)
    assert client.get("/api/audit?before=x", headers=ADMIN).get_json()["errors"][0]["field"] == (
        "before"
    )
    html = client_as(app, google, "boss@agency.example").get("/admin/audit?limit=5")
    assert "Older lines" in html.get_data(as_text=True)
