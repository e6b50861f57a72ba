"""The handbook's six Guidelines of Success, always all six, in the handbook's order.

Each is answered from the handover: Sales' words for 1-3 and 6, the client contacts with
the role plus the notes for 4 (the buyer) and 5 (influencers, champions, detractors). An
unanswered one says "Not known yet", naming the Sales person to ask, rather than vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.domain.model import ClientContact, ContactRole, Handover

QUESTIONS: tuple[tuple[str, str], ...] = (
    ("why_bought", "Why did the client buy the product?"),
    (
        "problem_and_goals",
        "What problem are they trying to solve, and/or what goals are they trying to accomplish?",
    ),
    ("success_definition", "What does success mean for the client?"),
    ("buyer", "Who is the Buyer of the product?"),
    ("influencers", "Who are the Influencers, Champions, and Detractors within the account?"),
    (
        "roadblocks",
        "What are potential roadblocks one may face in making the project/client successful?",
    ),
)
# The template placeholders that give a Guideline its place (any one of them will do).
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "why_bought": ("guidelines.why_bought", "success.why_bought"),
    "problem_and_goals": ("guidelines.problem_and_goals", "success.problem_and_goals"),
    "success_definition": ("guidelines.success_definition", "success.success_definition"),
    "buyer": ("guidelines.buyer", "contacts.buyer"),
    "influencers": ("guidelines.influencers", "influencers_notes"),
    "roadblocks": ("guidelines.roadblocks", "success.roadblocks"),
}
_PEOPLE_ROLES = (
    (ContactRole.CHAMPION, "Champion"),
    (ContactRole.INFLUENCER, "Influencer"),
    (ContactRole.DETRACTOR, "Detractor"),
)


@dataclass(frozen=True)
class Guideline:
    """One Guideline of Success as the brief shows it."""

    key: str
    number: int
    question: str
    paragraphs: tuple[str, ...]  # Sales' words (or the notes)
    people: tuple[tuple[str, ClientContact], ...]  # (label, contact) named for it
    unknown: str  # "" when answered, else "Not known yet - ask <Sales>"

    def as_text(self) -> str:
        """Return the answer as one plain text (for `{{guidelines.*}}` placeholders)."""
        lines = [f"{label}: {_contact(c)}" for label, c in self.people]
        lines += list(self.paragraphs)
        return "\n".join(lines) if lines else self.unknown


def _contact(contact: ClientContact) -> str:
    title = f", {contact.title}" if contact.title else ""
    return f"{contact.name}{title} <{contact.email}>"


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split("\n") if p.strip())


def ask_whom(h: Handover) -> str:
    """Return the words naming whom to ask about an unanswered Guideline."""
    if not h.sales:
        return "Not known yet \u2014 ask the Account Manager, " + h.account_manager.name
    return "Not known yet \u2014 ask " + " or ".join(p.name for p in h.sales)


def guidelines(h: Handover) -> tuple[Guideline, ...]:
    """Return the six Guidelines of Success in the handbook's order, answered or not."""
    answers = {
        "why_bought": h.success.why_bought,
        "problem_and_goals": h.success.problem_and_goals,
        "success_definition": h.success.success_definition,
        "roadblocks": h.success.roadblocks,
    }
    out = []
    for number, (key, question) in enumerate(QUESTIONS, start=1):
        people: tuple[tuple[str, ClientContact], ...] = ()
        if key == "buyer":
            people = tuple(("Buyer", c) for c in h.contacts_with(ContactRole.BUYER))
            paragraphs: tuple[str, ...] = ()
        elif key == "influencers":
            people = tuple(
                (label, c) for role, label in _PEOPLE_ROLES for c in h.contacts_with(role)
            )
            paragraphs = _paragraphs(h.influencers_notes)
        else:
            paragraphs = _paragraphs(answers[key])
        unknown = "" if people or paragraphs else ask_whom(h)
        out.append(Guideline(key, number, question, paragraphs, people, unknown))
    return tuple(out)


def missing_places(placeholders: set[str]) -> list[str]:
    """Return the Guidelines a brief template has no placeholder for, as people read them."""
    missing = []
    for number, (key, question) in enumerate(QUESTIONS, start=1):
        if not placeholders & set(PLACEHOLDERS[key]):
            missing.append(f"{number}. {question} (add {{{{{PLACEHOLDERS[key][0]}}}}})")
    return missing
