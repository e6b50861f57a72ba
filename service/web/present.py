"""How a stored handover looks from outside: the API's JSON and the page's data."""

from __future__ import annotations

from typing import Any

from service.links import absolute
from service.store.models import HandoverRow
from service.workflows.kickoff import handover_status
from service.workflows.meeting_states import meetings_json

FOLDER_KINDS = ("folder", "contracts_folder")


def handover_json(row: HandoverRow, *, base_url: str) -> dict[str, Any]:
    """Return the handover as the HTTP contract describes it; stored links of ours on
    `base_url` (today's; "" on our own pages keeps them paths)."""
    artifacts = {a.kind: a for a in row.artifacts}
    events = [
        {
            "kind": a.kind.removeprefix("event:"),
            "id": a.external_id,
            "url": absolute(a.url, base_url),
            **a.data,
        }
        for a in sorted(row.artifacts, key=lambda a: a.id)
        if a.kind.startswith("event:")
    ]
    out: dict[str, Any] = {
        "id": row.id,
        "status": handover_status(
            [s.state for s in row.steps], cancelled=row.cancelled_at is not None
        ),
        "client": row.client_name,
        "project": row.project_name,
        "account": row.account_key,
        "account_id": row.account_key,
        "account_url": f"{base_url}/accounts/{row.account_key}",
        "submitted_by": row.submitted_by,
        # True while Operations has to confirm this project joins the client's account.
        "account_pending": row.account_pending_since is not None,
        "created_at": row.created_at.isoformat(),
        "status_url": f"{base_url}/api/handovers/{row.id}",
        "page_url": f"{base_url}/handovers/{row.id}",
        "steps": [
            {
                "name": s.name,
                "state": s.state,
                "error": s.error,
                "attempts": s.attempts,
                "updated_at": s.updated_at.isoformat(),
            }
            for s in row.steps
        ],
        "artifacts": {
            kind: {
                "id": artifacts[kind].external_id,
                "url": absolute(artifacts[kind].url, base_url),
            }
            for kind in (*FOLDER_KINDS, "brief")
            if kind in artifacts
        },
    }
    out["artifacts"]["events"] = events
    out["plan"] = dict(artifacts["plan"].data) if "plan" in artifacts else None
    out["account_id"] = row.account_key
    out["meetings"] = meetings_json(row)
    since = row.pm_needed_since if row.cancelled_at is None else None
    out["waiting_for"] = "Operations assigns the PM" if since is not None else None
    out["pm_needed_since"] = since.isoformat() if since is not None else None
    return out
