"""What a person reads on a page, and the internal things it must never show them.

`visible_text(html)` keeps the text a reader sees: no tags, attributes, scripts or styles,
and of a closed `<details>` only its summary ("Technical details" hides raw ids on purpose).
`leaks(text)` returns the ISO timestamps, internal keys (`client_kickoff`) and 32-hex ids in it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from service.web.words import FIELD, MEETING, STEP

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
HEX = re.compile(r"\b[0-9a-f]{32}\b")
KEYS = sorted(
    {*MEETING, *STEP, *FIELD, "executive_sponsor", "account_manager", "project_manager",
     "contracts_folder", "changes_requested", "pm_needed", "handover.submitted", "step.done",
     "step.failed"},
)  # fmt: skip
KEY = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in KEYS if "_" in k or "." in k) + r")\b")
HIDDEN = {"script", "style", "template", "title"}


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0  # depth inside script/style
        self.details: list[bool] = []  # each open <details>: is it open?
        self.summary = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        elif tag == "details":
            self.details.append(any(name == "open" for name, _ in attrs))
        elif tag == "summary":
            self.summary += 1
        if tag in {"br", "p", "li", "tr", "td", "th", "div", "h1", "h2", "label", "option"}:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "details" and self.details:
            self.details.pop()
        elif tag == "summary":
            self.summary = max(0, self.summary - 1)

    def handle_data(self, data: str) -> None:
        closed = any(not is_open for is_open in self.details)
        if self.hidden or (closed and not self.summary):
            return
        self.out.append(data)


def visible_text(html: str) -> str:
    """Return the text a reader sees on the page (closed details show their summary only)."""
    parser = _Visible()
    parser.feed(html)
    return re.sub(r"[ \t]+", " ", "".join(parser.out))


def leaks(text: str) -> list[str]:
    """Return the ISO timestamps, internal keys and hex ids found in a page's visible text."""
    return ISO.findall(text) + KEY.findall(text) + HEX.findall(text)
