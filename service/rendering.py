"""Documents and emails rendered from the Jinja templates in `templates/`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from service.domain.brief_content import (
    agency_people,
    cadence_words,
    client_people,
    next_steps,
    steps_note,
)
from service.domain.guidelines import ask_whom, guidelines
from service.domain.model import ContactRole, Handover, project_title
from service.domain.plan_words import day_words
from service.domain.recurrence_words import zone_words

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class Renderer:
    """Renders the Project Brief and the notification emails; every value is escaped."""

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._html = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(["html"], default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._text = Environment(
            loader=FileSystemLoader(templates),
            autoescape=False,  # noqa: S701 - plain-text email bodies and subjects only
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        for env in (self._html, self._text):
            env.globals["named"] = project_title  # "Acme Corp, Website relaunch"

    def brief(
        self,
        handover: Handover,
        *,
        links: Mapping[str, str],
        plan: Mapping[str, Any] | None = None,
        agency_timezone: str | None = None,
    ) -> str:
        """Return the Project Brief as a standalone HTML page that Drive converts to a Doc.

        `plan` is the stored plan (its meetings' dates go in the next steps), if known yet.
        """
        h = handover
        return self._html.get_template("documents/project_brief/brief.html").render(
            h=h,
            links=links,
            guidelines=guidelines(h),
            agency=agency_people(h, agency_timezone=agency_timezone),
            client=client_people(h),
            steps=next_steps(h, plan),
            steps_note=steps_note(h, plan),
            signed_on=day_words(h.project.contract_signed_on),
            client_zone=zone_words(h.client.timezone),
            cadence=cadence_words(h.project.sync_cadence),
            ask=ask_whom(h),
        )

    def invitation(self, kind: str, **context: Any) -> str:
        """Return the plain-text description of a meeting invitation: agenda and links."""
        template = self._text.get_template(f"documents/invitations/{kind}.txt")
        return template.render(**context).strip() + "\n"

    def document(self, name: str, **context: Any) -> str:
        """Return the document `templates/documents/<name>/document.html` as HTML."""
        return self._html.get_template(f"documents/{name}/document.html").render(**context)

    def email(self, name: str, **context: Any) -> RenderedEmail:
        """Return the subject, text and HTML of the email template `name`."""
        base = f"emails/{name}"
        subject = self._text.get_template(f"{base}/subject.txt").render(**context)
        return RenderedEmail(
            subject=" ".join(subject.split()),
            text=self._text.get_template(f"{base}/body.txt").render(**context),
            html=self._html.get_template(f"{base}/body.html").render(**context),
        )


def handover_fields(
    handover: Handover, *, links: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the handover's fields as flat strings by dotted name, for `{{name}}` templates."""
    h = handover
    pm = h.project_manager
    fields = {
        "client.name": h.client.name,
        "client.domain": h.client.domain,
        # In words, as people read them: "New York time", "Thu 3 Dec 2026", "Every two weeks".
        "client.timezone": zone_words(h.client.timezone),
        "project.name": h.project.name,
        "project.contract_signed_on": day_words(h.project.contract_signed_on),
        "project.proposal_url": h.project.proposal_url,
        "project.sync_cadence": cadence_words(h.project.sync_cadence).capitalize(),
        "account_manager.name": h.account_manager.name,
        "account_manager.email": h.account_manager.email,
        "project_manager.name": pm.name if pm else "to be assigned by Operations",
        "project_manager.email": pm.email if pm else "",
        "sales": ", ".join(f"{p.name} <{p.email}>" for p in h.sales),
        "delivery_team": ", ".join(
            f"{p.name} ({p.role})" if p.role else p.name for p in h.delivery_team
        ),
        "client_contacts": ", ".join(f"{c.name} <{c.email}>" for c in h.client_contacts),
        "success.why_bought": h.success.why_bought,
        "success.problem_and_goals": h.success.problem_and_goals,
        "success.success_definition": h.success.success_definition,
        "success.roadblocks": h.success.roadblocks,
        "influencers_notes": h.influencers_notes,
    }
    for role in ContactRole:
        fields[f"contacts.{role.value}"] = ", ".join(c.name for c in h.contacts_with(role))
    # The six Guidelines of Success: an unanswered one says whom to ask, never "".
    for guideline in guidelines(h):
        fields[f"guidelines.{guideline.key}"] = guideline.as_text()
        if guideline.key in {"why_bought", "problem_and_goals", "success_definition",
                             "roadblocks"} and not fields[f"success.{guideline.key}"]:  # fmt: skip
            fields[f"success.{guideline.key}"] = guideline.unknown
    if not fields["contacts.buyer"]:
        fields["contacts.buyer"] = fields["guidelines.buyer"]
    if not fields["influencers_notes"]:
        fields["influencers_notes"] = fields["guidelines.influencers"]
    for name, url in (links or {}).items():
        fields[f"links.{name}"] = url
    return fields
