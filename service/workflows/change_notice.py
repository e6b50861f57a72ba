"""Changes are told: a change to a handover is emailed in words to its AM and PM, and the
people added or taken off are told what it means for them (each message once)."""

from __future__ import annotations

import json
from typing import Any

from integrations.ports import Email
from service.domain.changes import PART_MEANING, describe_changes
from service.domain.email_words import greeting
from service.store.db import Database
from service.store.models import HandoverRow
from service.workflows.context import StepContext


def tell_changes(
    handover_id: str, *, before: str, actor: str, key: str, db: Database, ctx: StepContext
) -> list[str]:
    """Email the change's summary to the AM and PM, and added or removed people their part."""
    with db.transaction() as session:
        row = session.get(HandoverRow, handover_id)
        if row is None:
            return []
        after: dict[str, Any] = dict(row.payload)
        client, project = row.client_name, row.project_name
    was: dict[str, Any] = json.loads(before)
    lines, added, removed = describe_changes(was, after)
    page_url = f"{ctx.public_base_url}/handovers/{handover_id}"
    told: list[str] = []
    named = [
        p
        for p in (after.get("account_manager"), after.get("project_manager"))
        if isinstance(p, dict) and p.get("email")
    ]
    leads = [str(p["email"]).lower() for p in named]
    if lines and leads:
        message = ctx.renderer.email(
            "handover_changed",
            greeting=greeting(str(p.get("name") or "") for p in named),
            actor=actor,
            client=client,
            project=project,
            changes=lines,
            page_url=page_url,
        )
        email = Email(f"{key}:summary", tuple(dict.fromkeys(leads)), message.subject,
                      message.text, message.html)  # fmt: skip
        ctx.mail.send(email)
        told.extend(leads)
    for template, people in (("team_added", added), ("team_removed", removed)):
        for address, name, part in people:
            message = ctx.renderer.email(
                template,
                greeting=greeting([name]),
                client=client,
                project=project,
                part=part if part != "delivery team" else "a member of the delivery team",
                meaning=PART_MEANING.get(part, ""),
                page_url=page_url,
            )
            email = Email(f"{key}:{template}:{address}", (address,), message.subject,
                          message.text, message.html)  # fmt: skip
            ctx.mail.send(email)
            told.append(address)
    return told
