"""Drive's `q` search language: a tokenizer, a recursive-descent parser and an evaluator.

Supported: `'ID' in parents|owners|writers|readers`, `name|mimeType|fullText` with
`= != contains`, `createdTime|modifiedTime` with `= != < <= > >=`, `trashed|starred` with
`= !=` against true/false, `appProperties|properties has { key='k' and value='v' }`,
`and`, `or`, `not` and parentheses. String literals use single quotes; `\\'` and `\\\\`
are the only escapes, so a name such as `x' or name contains '` stays one literal.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes.core import bad_request, parse_time

Predicate = Callable[[dict[str, Any]], bool]

TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^'\\]|\\.)*')
    | (?P<op><=|>=|!=|=|<|>|\(|\)|\{|\})
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<num>-?\d+(?:\.\d+)?)
    )""",
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str
    text: str
    value: Any


def tokenize(q: str) -> list[Token]:
    tokens = []
    pos = 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        found = TOKEN.match(q, pos)
        if not found:
            raise invalid_query(q)
        pos = found.end()
        kind = found.lastgroup or ""
        text = found.group(kind)
        value: Any = text
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.DOTALL)
        tokens.append(Token(kind, text, value))
    return tokens


def invalid_query(q: str) -> Exception:
    return bad_request(f"Invalid Value: {q}", "invalid", "q")


class Parser:
    """Recursive descent over tokens, producing a predicate on file resources."""

    def __init__(self, q: str, resolve: Callable[[str], str]) -> None:
        self.q = q
        self.tokens = tokenize(q)
        self.pos = 0
        self.resolve = resolve  # maps folder aliases such as 'root' to ids

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda f: True
        predicate = self.expr()
        if self.pos != len(self.tokens):
            raise invalid_query(self.q)
        return predicate

    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, kind: str | None = None, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (kind and token.kind != kind):
            raise invalid_query(self.q)
        if text is not None and token.text.lower() != text:
            raise invalid_query(self.q)
        self.pos += 1
        return token

    def at_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() == word

    def expr(self) -> Predicate:
        terms = [self.term()]
        while self.at_word("or"):
            self.pos += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else (lambda f: any(t(f) for t in terms))

    def term(self) -> Predicate:
        factors = [self.factor()]
        while self.at_word("and"):
            self.pos += 1
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else (lambda f: all(t(f) for t in factors))

    def factor(self) -> Predicate:
        if self.at_word("not"):
            self.pos += 1
            inner = self.factor()
            return lambda f: not inner(f)
        token = self.peek()
        if token is not None and token.text == "(":
            self.pos += 1
            inner = self.expr()
            self.take("op", ")")
            return inner
        if token is not None and token.kind == "str":
            return self.membership()
        return self.comparison()

    def membership(self) -> Predicate:
        value = self.take("str").value
        self.take("word", "in")
        collection = self.take("word").text
        if collection == "parents":
            folder = self.resolve(value)
            return lambda f: folder in f.get("parents", [])
        if collection in ("owners", "writers", "readers"):
            return lambda f: value in f.get("_" + collection, ())
        raise invalid_query(self.q)

    def comparison(self) -> Predicate:
        field = self.take("word").text
        if field in ("appProperties", "properties"):
            return self.has(field)
        op_token = self.take()
        op = op_token.text.lower()
        if op_token.kind not in ("op", "word") or op not in (
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "contains",
        ):
            raise invalid_query(self.q)
        literal = self.take()
        if field in ("name", "mimeType", "fullText"):
            return self.text_test(field, op, literal)
        if field in ("createdTime", "modifiedTime", "viewedByMeTime"):
            return self.time_test(field, op, literal)
        if field in ("trashed", "starred", "sharedWithMe"):
            return self.bool_test(field, op, literal)
        raise invalid_query(self.q)

    def text_test(self, field: str, op: str, literal: Token) -> Predicate:
        if literal.kind != "str" or op not in ("=", "!=", "contains"):
            raise invalid_query(self.q)
        value: str = literal.value
        if field == "fullText":
            if op != "contains":
                raise invalid_query(self.q)
            needle = value.lower()
            return lambda f: needle in (f.get("name", "") + "\n" + f.get("_text", "")).lower()
        if op == "contains":
            if field == "name":
                return lambda f: _name_contains(f.get("name", ""), value)
            return lambda f: value in f.get(field, "")
        if op == "=":
            return lambda f: f.get(field) == value
        return lambda f: f.get(field) != value

    def time_test(self, field: str, op: str, literal: Token) -> Predicate:
        moment = parse_time(literal.value) if literal.kind == "str" else None
        if moment is None or op == "contains":
            raise invalid_query(self.q)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        compare: Callable[[datetime, datetime], bool] = {
            "=": operator.eq,
            "!=": operator.ne,
            "<": operator.lt,
            "<=": operator.le,
            ">": operator.gt,
            ">=": operator.ge,
        }[op]

        def test(f: dict[str, Any]) -> bool:
            stamp = parse_time(f.get(field, ""))
            return stamp is not None and compare(stamp, moment)

        return test

    def bool_test(self, field: str, op: str, literal: Token) -> Predicate:
        if literal.kind != "word" or literal.text not in ("true", "false") or op not in ("=", "!="):
            raise invalid_query(self.q)
        wanted = (literal.text == "true") == (op == "=")
        return lambda f: bool(f.get(field, False)) == wanted

    def has(self, field: str) -> Predicate:
        self.take("word", "has")
        self.take("op", "{")
        self.take("word", "key")
        self.take("op", "=")
        key = self.take("str").value
        self.take("word", "and")
        self.take("word", "value")
        self.take("op", "=")
        value = self.take("str").value
        self.take("op", "}")
        return lambda f: f.get(field, {}).get(key) == value


def _name_contains(name: str, term: str) -> bool:
    """Drive matches `name contains` on word prefixes (case-insensitive)."""
    lowered, term = name.lower(), term.lower()
    if lowered.startswith(term):
        return True
    return any(word.startswith(term) for word in re.split(r"[\s\-_.,;:()]+", lowered))


ORDER_KEYS = {
    "createdTime",
    "folder",
    "modifiedByMeTime",
    "modifiedTime",
    "name",
    "name_natural",
    "quotaBytesUsed",
    "recency",
    "sharedWithMeTime",
    "starred",
    "viewedByMeTime",
}


def sort_files(files: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
    """Sort by an orderBy string like `folder,name desc`; unknown keys are 400."""
    if not order_by:
        return files
    keys = []
    for item in order_by.split(","):
        words = item.split()
        if not words or words[0] not in ORDER_KEYS or words[1:] not in ([], ["desc"]):
            raise bad_request(f"Invalid Value: {order_by}", "invalid", "orderBy")
        keys.append((words[0], words[1:] == ["desc"]))
    result = list(files)
    for key, descending in reversed(keys):
        result.sort(key=lambda f, k=key: _order_value(f, k), reverse=descending)  # type: ignore[misc]
    return result


def _order_value(file: dict[str, Any], key: str) -> Any:
    if key == "folder":
        return 0 if file.get("mimeType") == "application/vnd.google-apps.folder" else 1
    if key in ("name", "name_natural"):
        return file.get("name", "").lower()
    if key == "recency":
        return file.get("modifiedTime", "")
    return file.get(key) or ""
