"""The recorded steps of a handover. Each one is idempotent: it looks for its artifact
(by the id stored from a previous run, then by properties on the artifact itself)
before it makes one, so a retry or a crash mid-step never makes a second.

On a Drive that reserves file ids (Google) the kickoff steps take the shorter road of
`drive_steps`: ids stored before the calls that make the files, and independent calls
side by side; in template mode the brief is made by `brief_template`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from integrations.ports import DriveIds, Email, Grant, SharesFiles, TemplateDrive
from service.domain.email_words import greeting, meeting_lines
from service.domain.model import Handover, account_key
from service.links import absolute
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import AccountRow
from service.workflows import drive_steps, meetings_ahead
from service.workflows.brief_plan import plan_for_brief
from service.workflows.brief_template import template_brief
from service.workflows.context import StepContext, StepFailed
from service.workflows.contracts import ensure_cursor
from service.workflows.meeting_steps import (
    MEETING_STEP_FUNCTIONS,
    MEETING_STEPS,
    planned_for_email,
)
from service.workflows.public_errors import public_error

log = logging.getLogger(__name__)

KICKOFF_STEPS: tuple[str, ...] = ("client_folder", "project_brief", "share_brief", "notify_team")
STEP_NAMES: tuple[str, ...] = KICKOFF_STEPS + MEETING_STEPS
# The steps that touch the account (its folder's sharing, its syncs): a handover waiting for
# Operations to confirm it joins the account runs them again once confirmed.
ACCOUNT_STEPS: tuple[str, ...] = ("share_brief", "account_syncs")


Step = Callable[[str, Handover, StepContext, Database], None]


def client_folder(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Find or make the account's folder and its Contracts subfolder."""
    if ctx.change_feed is not None:
        ensure_cursor(
            db=db, feed=ctx.change_feed, now=ctx.clock(), clients_folder=ctx.clients_folder_id
        )
    drive = ctx.drive
    if isinstance(drive, DriveIds):
        meetings_ahead.start(handover_id, h, ctx, db)  # they need neither shares nor email

        def brief(folder_id: str, contracts_url: str) -> None:
            drive_steps.write_brief(
                handover_id,
                h,
                ctx,
                db,
                drive,
                folder_id=folder_id,
                contracts_url=contracts_url,
                plan=plan_for_brief(handover_id, h, ctx, db),
            )

        early = None if _template_mode(ctx) else brief
        drive_steps.client_folder(handover_id, h, ctx, db, drive, early_brief=early)
        return
    key = account_key(h.client)
    folder = ctx.drive.ensure_folder(
        h.client.name,
        parent_id=ctx.clients_folder_id,
        properties={"accountKey": key, "kind": "client_folder"},
    )
    contracts = ctx.drive.ensure_folder(
        "Contracts", parent_id=folder.id, properties={"accountKey": key, "kind": "contracts_folder"}
    )
    with db.transaction() as session:
        account = session.get(AccountRow, key)
        assert account is not None
        account.folder_id, account.contracts_folder_id = folder.id, contracts.id
        repo.put_artifact(session, handover_id, "folder", external_id=folder.id, url=folder.url)
        repo.put_artifact(
            session, handover_id, "contracts_folder", external_id=contracts.id, url=contracts.url
        )


def project_brief(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Render the Project Brief into the client's folder, into the same document every time."""
    with db.transaction() as session:
        folder = repo.artifact(session, handover_id, "folder")
        contracts = repo.artifact(session, handover_id, "contracts_folder")
        existing = repo.artifact(session, handover_id, "brief")
        if folder is None:
            raise StepFailed("the client folder is missing: run the client_folder step first")
        folder_id, existing_id = folder.external_id, existing.external_id if existing else None
        links = {"contracts_folder": contracts.url if contracts else ""}
    template_id, drive = ctx.settings.brief_template_doc_id, ctx.drive
    if template_id and isinstance(drive, TemplateDrive):
        template_brief(
            handover_id,
            h,
            ctx,
            db,
            drive,
            template_id=template_id,
            folder_id=folder_id,
            contracts_url=links["contracts_folder"],
        )
        return
    plan = plan_for_brief(handover_id, h, ctx, db)
    if isinstance(drive, DriveIds):
        drive_steps.write_brief(
            handover_id,
            h,
            ctx,
            db,
            drive,
            folder_id=folder_id,
            contracts_url=links["contracts_folder"],
            plan=plan,
        )
        return
    html = ctx.renderer.brief(
        h, links=links, plan=plan, agency_timezone=ctx.settings.agency_timezone
    )
    doc = ctx.drive.write_document(
        f"Project Brief - {h.project.name}",
        html,
        parent_id=folder_id,
        properties={"handoverId": handover_id, "kind": "project_brief"},
        existing_id=existing_id,
    )
    with db.transaction() as session:
        repo.put_artifact(session, handover_id, "brief", external_id=doc.id, url=doc.url)


def share_plan(h: Handover) -> tuple[list[Grant], list[Grant]]:
    """Return who gets the folder (AM and PM, writers) and who the brief (Sales, the team)."""
    leads = [h.account_manager] + ([h.project_manager] if h.project_manager else [])
    lead_emails = {p.email for p in leads}
    others = [Grant(p.email, "writer") for p in h.sales if p.email not in lead_emails]
    others += [
        Grant(p.email, "commenter")
        for p in h.delivery_team
        if p.email not in lead_emails and p.email not in {g.email for g in others}
    ]
    return [Grant(p.email, "writer") for p in leads], others


def share_brief(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Share the client folder with the AM and PM, the brief with Sales and the team.

    A handover waiting for Operations to confirm it joins the account shares only its brief
    (with everyone it names): the account's folder stays as it was.
    """
    folder_grants, brief_grants = share_plan(h)
    with db.transaction() as session:
        if repo.account_pending(session, handover_id):
            brief_grants, folder_grants = folder_grants + brief_grants, []
    if isinstance(ctx.drive, SharesFiles):
        drive_steps.share_brief(
            handover_id,
            ctx,
            db,
            ctx.drive,
            folder_grants=folder_grants,
            brief_grants=brief_grants,
            early_email=lambda: notify_team(handover_id, h, ctx, db),
        )
        return
    with db.transaction() as session:
        folder = repo.artifact(session, handover_id, "folder")
        brief = repo.artifact(session, handover_id, "brief")
        if folder is None or brief is None:
            raise StepFailed("the folder or the brief is missing: run the earlier steps first")
        folder_id, brief_id = folder.external_id, brief.external_id
    if folder_grants:
        ctx.drive.share(folder_id, folder_grants, notify=ctx.share_notify)
    if brief_grants:
        ctx.drive.share(brief_id, brief_grants, notify=ctx.share_notify)


def notify_team(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Email the brief and what happens next to every internal person not told yet: one
    email each, greeting them by name and listing their meetings in their own zone."""
    with db.transaction() as session:
        brief = repo.artifact(session, handover_id, "brief")
        contracts = repo.artifact(session, handover_id, "contracts_folder")
        told = repo.artifact(session, handover_id, "notified")
        if brief is None:
            raise StepFailed("the brief is missing: run the project_brief step first")
        base = ctx.public_base_url
        brief_url = absolute(brief.url, base)
        contracts_url = absolute(contracts.url, base) if contracts else ""
        already = set(told.data.get("emails", [])) if told else set()
    people = [p for p in h.internal_people() if p.email not in already]
    if not people:
        return
    planned = planned_for_email(handover_id, h, ctx, db)
    pm = h.project_manager
    emails = []
    for person in people:
        zone_name = person.timezone or ctx.settings.agency_timezone
        message = ctx.renderer.email(
            "handover_started",
            greeting=greeting([person.name]),
            client=h.client.name,
            project=h.project.name,
            am=f"{h.account_manager.name} <{h.account_manager.email}>",
            pm=f"{pm.name} <{pm.email}>" if pm else "",
            pm_changed=False,
            meetings=meeting_lines(planned, person.email, zone_name) if planned else [],
            is_pm=pm is not None and pm.email.lower() == person.email.lower(),
            brief_url=brief_url,
            contracts_url=contracts_url,
            status_url=f"{base}/handovers/{handover_id}",
        )
        # Each person is told once, even when a crash repeats the step.
        key = f"handover:{handover_id}:started:{person.email.lower()}"
        emails.append(Email(key, (person.email,), message.subject, message.text, message.html))
    sent, failure = side_by_side([_sender(ctx, e) for e in emails], [e.to[0] for e in emails])
    with db.transaction() as session:
        data = {"emails": sorted(already | set(sent))}
        repo.put_artifact(session, handover_id, "notified", external_id="-", data=data)
    if failure is not None:
        raise failure


def _sender(ctx: StepContext, email: Email) -> Callable[[], None]:
    mail = ctx.mail

    def send() -> None:
        mail.send(email)  # once per key, even when a crash repeats the step

    return send


_senders: ThreadPoolExecutor | None = None
_senders_lock = threading.Lock()


def side_by_side(
    sends: list[Callable[[], None]], names: list[str]
) -> tuple[list[str], Exception | None]:
    """Run the sends side by side (one email a person: the team is told in one round trip);
    return the names of those that went out and the first failure, if any."""
    global _senders
    if len(sends) == 1:
        try:
            sends[0]()
        except Exception as exc:  # noqa: BLE001 - handed back to the step, which raises it
            return [], exc
        return list(names), None
    with _senders_lock:
        if _senders is None:
            # Kept for the process: each thread makes its API clients once (per thread).
            _senders = ThreadPoolExecutor(max_workers=8, thread_name_prefix="team-email")
        futures = [_senders.submit(send) for send in sends]
    done, failure = [], None
    for name, future in zip(names, futures, strict=True):
        try:
            future.result()
            done.append(name)
        except Exception as exc:  # noqa: BLE001 - the first is raised once all have ended
            failure = failure or exc
    return done, failure


def _template_mode(ctx: StepContext) -> bool:
    """Return True when the brief is made from the template document."""
    return bool(ctx.settings.brief_template_doc_id) and isinstance(ctx.drive, TemplateDrive)


STEPS: dict[str, Step] = {
    "client_folder": client_folder,
    "project_brief": project_brief,
    "share_brief": share_brief,
    "notify_team": notify_team,
    **MEETING_STEP_FUNCTIONS,
}


def run_step(name: str, handover_id: str, h: Handover, *, ctx: StepContext, db: Database) -> None:
    """Run one step; every failure becomes StepFailed with a message for the page."""
    try:
        STEPS[name](handover_id, h, ctx, db)
    except StepFailed:
        raise
    except Exception as exc:
        log.exception("step %s raised", name, extra={"handover_id": handover_id, "step": name})
        # Errors of the outside world say whether a retry may help (GoogleError.retryable).
        transient = getattr(exc, "retryable", False) is True
        raise StepFailed(public_error(exc), transient=transient) from exc
