"""Turns the form's dotted field names (`delivery_team.1.email`) into the API's JSON shape."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

LIST_FIELDS = ("sales", "delivery_team", "client_contacts")
# The deepest field is `client_contacts.0.roles`: a longer dotted name keeps its tail as one
# part (then refused as an unknown field), so no name can build a structure deep enough to
# exhaust the recursion of whatever reads it.
MAX_PARTS = 4
MULTI_VALUED = {"roles"}
OPTIONAL_PEOPLE = ("project_manager",)


def nest(form: MultiDict[str, str]) -> dict[str, Any]:
    """Return the nested dict for a flat form; blank rows and blank optional people drop out."""
    data: dict[str, Any] = {}
    for key in form:
        if key in {"csrf_token", "idempotency_key"}:
            continue
        parts = key.split(".", MAX_PARTS - 1)
        values = form.getlist(key)
        value: Any = values if parts[-1] in MULTI_VALUED else values[-1]
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break  # `a` and `a.b` both sent: keep the first, never crash on the second
            node = child
        else:
            node[parts[-1]] = value
    for name in LIST_FIELDS:
        rows = data.get(name, {})
        if isinstance(rows, dict):
            ordered = [
                rows[k] for k in sorted(rows, key=_row_number)
            ]
            data[name] = [_clean(r) for r in ordered if isinstance(r, dict) and _filled(r)]
    for name in OPTIONAL_PEOPLE:
        if name in data and not _filled(data[name]):
            data[name] = None
        elif name in data:
            data[name] = _clean(data[name])
    for name in ("account_manager",):
        if isinstance(data.get(name), dict):
            data[name] = _clean(data[name])
    return data


def _row_number(key: str) -> int:
    """Return a row's number for ordering (`sales.2.name`); names like `²` or `x` go last."""
    return int(key) if key.isascii() and key.isdecimal() and len(key) < 7 else 10**6


def _filled(row: Any) -> bool:
    if not isinstance(row, dict):
        return bool(row)
    return any((v if isinstance(v, list) else str(v).strip()) for v in row.values())


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Drop blank optional values (time zone, country) so they take their defaults."""
    return {k: v for k, v in row.items() if not (k in {"timezone", "country", "title"} and not v)}


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Return the dotted-path view of nested data, the inverse of `nest` for the form."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(data, list) and not (data and all(isinstance(v, str) for v in data)):
        for index, value in enumerate(data):
            out.update(flatten(value, f"{prefix}{index}."))
    else:
        out[prefix.rstrip(".")] = data
    return out
