"""HTML to what Google Docs ends up with when Drive converts an HTML upload: its plain text,
and the look each element keeps.

Drive's import maps headings, paragraphs, lists and tables to Docs' own, and keeps the
formatting written in each element's `style` attribute (fonts, colours, sizes, borders);
a `<style>` block and class names are not carried into the document (see
piotr-agier/google-drive-mcp pull request 108, and Google's own exports, which inline
every style). `html_looks` models exactly that: a look comes from the element's own
`style` attribute only, so a test cannot pass on a look only a stylesheet gave.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "caption",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
}
SKIPPED = {"head", "script", "style", "template", "title"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skipping = 0
        self.pre = 0

    def flush(self, force: bool = False) -> None:
        text = "".join(self.current)
        if not self.pre:
            text = re.sub(r"[ \t\r\n\f]+", " ", text).strip()
        if text or force:
            self.lines.extend(text.split("\n") if self.pre else [text])
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.flush(force=True)
        elif tag in BLOCKS:
            self.flush()
            if tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.flush(force=True)
        elif tag in BLOCKS:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self.flush()
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)


def html_to_text(html: str) -> str:
    """Paragraphs, headings, list items and table cells become lines; ends with a newline."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    parser.flush()
    return "".join(line + "\n" for line in parser.lines) or "\n"


_INLINE = {"a", "b", "strong", "i", "em", "u", "span"}


class _LookExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.looks: list[tuple[str, dict[str, str]]] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif not self.skipping and (tag in BLOCKS or tag in _INLINE):
            style = dict(attrs).get("style") or ""
            props = {}
            for part in style.split(";"):
                name, _, value = part.partition(":")
                if name.strip() and value.strip():
                    props[name.strip().lower()] = value.strip()
            self.looks.append((tag, props))

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)


def html_looks(html: str) -> list[tuple[str, dict[str, str]]]:
    """Return each converted element in order, with the style properties of its own
    `style` attribute (what Drive keeps); a stylesheet's rules are not there."""
    parser = _LookExtractor()
    parser.feed(html)
    parser.close()
    return parser.looks
