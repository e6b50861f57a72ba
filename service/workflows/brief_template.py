"""Template mode of the Project Brief (BRIEF_TEMPLATE_DOC_ID): a copy of that Google Doc
with its `{{field}}` placeholders filled from the handover in one batchUpdate.

Before any write the template is read: a placeholder no field of the handover fills fails
the step, naming it; a field the template never uses is a warning, logged and kept in the
brief's data. A handover changed later gets a new copy (the filled one has no placeholders
left to fill again), and the old copy goes to the trash.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from integrations.ports import DriveIds, TemplateDrive
from service.domain.guidelines import missing_places
from service.domain.model import Handover
from service.rendering import handover_fields
from service.store import handovers as repo
from service.store.db import Database
from service.workflows.context import StepContext, StepFailed
from service.workflows.drive_steps import digest, planned_id, record_brief

log = logging.getLogger(__name__)


def check_template(placeholders: set[str], values: Mapping[str, str]) -> list[str]:
    """Return the fields the template never uses; fail naming the placeholders none fills,
    and the Guidelines of Success it has no place for (the brief always carries all six)."""
    problems = []
    unknown = sorted(placeholders - set(values))
    if unknown:
        names = ", ".join("{{" + name + "}}" for name in unknown)
        problems.append(f"the brief template has placeholders this handover cannot fill: {names}")
    missing = missing_places(placeholders)
    if missing:
        problems.append(
            f"the brief template has no place for these Guidelines of Success: {'; '.join(missing)}"
        )
    if problems:
        raise StepFailed(
            f"{'. '.join(problems)}. Fix the template (BRIEF_TEMPLATE_DOC_ID); "
            f"the fields are: {', '.join(sorted(values))}"
        )
    return sorted(set(values) - placeholders)


def template_brief(
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    db: Database,
    drive: TemplateDrive,
    *,
    template_id: str,
    folder_id: str,
    contracts_url: str,
) -> None:
    """Copy the template into the client folder once and fill it from the handover."""
    name = f"Project Brief - {h.project.name}"
    values = handover_fields(h, links={"contracts_folder": contracts_url})
    placeholders = drive.template_placeholders(template_id)
    unused = check_template(placeholders, values)
    if unused:
        log.warning(
            "the brief template %s never uses these fields: %s",
            template_id,
            ", ".join(unused),
            extra={"handover_id": handover_id},
        )
    used = {key: values[key] for key in sorted(placeholders)}
    sha = digest(template_id, name, *(f"{k}={v}" for k, v in used.items()))
    with db.transaction() as session:
        row = repo.artifact(session, handover_id, "brief")
        existing = (row.external_id, dict(row.data)) if row is not None else None
    if existing is not None and existing[1].get("sha") == sha:
        return  # this copy is made and filled with these values already
    version = sha[:16]
    file_id = None
    if isinstance(drive, DriveIds):  # stored before the copy: a repeated copy gets 409
        file_id = planned_id(db, handover_id, f"brief:{version}", drive)
    props = {"handoverId": handover_id, "kind": "project_brief", "version": version}
    doc = drive.copy_template(template_id, name, folder_id, props, file_id=file_id)
    drive.fill_placeholders(doc.id, used)
    if existing is not None and existing[0] != doc.id:
        drive.trash(existing[0])  # the copy filled with the handover's earlier values
    data: dict[str, object] = {"sha": sha, "template": template_id, "unused_fields": unused}
    if unused:
        data["warnings"] = [f"the brief template never uses these fields: {', '.join(unused)}"]
    record_brief(db, handover_id, doc, data, previous=existing[0] if existing else None)
