"""Routing and request validation against the discovery documents bundled with googleapiclient."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tests.fakes.core import ApiError, bad_request, parse_time

APIS = {"drive": "v3", "docs": "v1", "gmail": "v1", "calendar": "v3"}

# Parameters every Google API accepts (system parameters), whatever the document says.
STANDARD_PARAMS = {
    "$.xgafv",
    "access_token",
    "alt",
    "callback",
    "fields",
    "key",
    "oauth_token",
    "prettyPrint",
    "quotaUser",
    "uploadType",
    "upload_protocol",
    "userIp",
    "trace",
    "pp",
    "strict",
    "userip",
}
ENUMS = {"alt": {"json", "media", "proto"}, "uploadType": {"media", "multipart", "resumable"}}


def load_document(api: str, version: str) -> dict[str, Any]:
    """Read a discovery document from googleapiclient's package directory."""
    root = resources.files("googleapiclient").joinpath("discovery_cache", "documents")
    document: dict[str, Any] = json.loads(
        root.joinpath(f"{api}.{version}.json").read_text(encoding="utf-8")
    )
    return document


@dataclass(frozen=True)
class Route:
    """One discovery method reachable at one URL template."""

    api: str
    method_id: str
    http_method: str
    template: str
    regex: re.Pattern[str]
    names: tuple[str, ...]
    desc: dict[str, Any]
    upload: bool


def _compile(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    names: list[str] = []
    pattern = ""
    for literal, expr in re.findall(r"([^{]*)(?:\{([^}]*)\})?", template):
        pattern += re.escape(literal)
        if expr:
            reserved = expr.startswith("+")
            names.append(expr.lstrip("+"))
            pattern += "(.+)" if reserved else "([^/]+)"
    return re.compile(pattern + r"\Z"), tuple(names)


class Discovery:
    """The bundled discovery documents: routes, schemas and parameter rules."""

    def __init__(self) -> None:
        self.documents = {api: load_document(api, version) for api, version in APIS.items()}
        routes: list[Route] = []
        for api, document in self.documents.items():
            service_path = "/" + document["servicePath"]
            for desc in _methods(document):
                templates = [(service_path + desc["path"], False)]
                protocols = desc.get("mediaUpload", {}).get("protocols", {})
                for protocol in protocols.values():
                    templates.append((protocol["path"], True))
                if protocols:
                    templates.append(("/upload" + service_path + desc["path"], True))
                for template, upload in dict.fromkeys(templates):
                    regex, names = _compile(template)
                    routes.append(
                        Route(
                            api,
                            desc["id"],
                            desc["httpMethod"],
                            template,
                            regex,
                            names,
                            desc,
                            upload,
                        )
                    )
        # Literal segments win over parameters: files/generateIds before files/{fileId}.
        routes.sort(key=lambda r: (len(r.names), -len(r.template)))
        self.routes = routes
        self.by_id = {r.method_id: r for r in routes if not r.upload}

    def match(self, http_method: str, path: str) -> tuple[Route, dict[str, str]]:
        """Find the method for a request; 404 as Google does for unknown URLs or verbs."""
        for route in self.routes:
            found = route.regex.match(path)
            if found and route.http_method == http_method:
                values = (urllib.parse.unquote(v) for v in found.groups())
                return route, dict(zip(route.names, values, strict=True))
        raise ApiError(404, f"Method not found: {http_method} {path}", "notFound")

    def schema(self, api: str, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.documents[api]["schemas"][name]
        return schema

    def params(self, route: Route, query: dict[str, list[str]]) -> dict[str, Any]:
        """Check query parameters against the method; return them converted to Python values."""
        declared: dict[str, Any] = route.desc.get("parameters", {})
        document_params: dict[str, Any] = self.documents[route.api].get("parameters", {})
        converted: dict[str, Any] = {}
        for name, values in query.items():
            spec = declared.get(name)
            if spec is not None and spec.get("location") == "path":
                spec = None
            if spec is None and name not in STANDARD_PARAMS:
                raise bad_request(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query'
                    f" parameter. Field '{name}' could not be found in request message.",
                    "invalid",
                    location=name,
                )
            spec = spec or document_params.get(name) or {"type": "string"}
            if len(values) > 1 and not spec.get("repeated"):
                raise bad_request(f"Parameter {name} may be given only once.", "invalid", name)
            items = [_convert(name, spec, v) for v in values]
            converted[name] = items if spec.get("repeated") else items[0]
        for name, spec in declared.items():
            if spec.get("required") and spec.get("location") == "query" and name not in query:
                raise bad_request(f"Required parameter: {name}", "required", name)
        return converted

    def check_body(self, route: Route, body: Any) -> None:
        """Validate a JSON request body against the method's request schema."""
        ref = route.desc.get("request", {}).get("$ref")
        if ref is None:
            return
        if not isinstance(body, dict):
            raise bad_request("Invalid JSON payload received. Expected an object.", "invalid")
        self._check(route.api, {"$ref": ref}, body, "")

    def _check(self, api: str, schema: dict[str, Any], value: Any, where: str) -> None:
        while "$ref" in schema:
            schema = self.schema(api, schema["$ref"])
        if value is None:
            return
        kind = schema.get("type", "object" if "properties" in schema else "any")
        if kind == "object":
            if not isinstance(value, dict):
                raise _invalid(where, value, "an object")
            props: dict[str, Any] = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                path = f"{where}.{key}" if where else key
                if key in props:
                    self._check(api, props[key], item, path)
                elif extra is not None:
                    self._check(api, extra, item, path)
                elif props:
                    at = f" at '{where}'" if where else ""
                    raise bad_request(
                        f'Invalid JSON payload received. Unknown name "{key}"{at}: '
                        "Cannot find field.",
                        "invalid",
                    )
        elif kind == "array":
            if not isinstance(value, list):
                raise _invalid(where, value, "a list")
            for index, item in enumerate(value):
                self._check(api, schema.get("items", {}), item, f"{where}[{index}]")
        else:
            _check_scalar(kind, schema, value, where)


def _check_scalar(kind: str, schema: dict[str, Any], value: Any, where: str) -> None:
    fmt = schema.get("format", "")
    if kind == "string":
        if isinstance(value, int | float) and not isinstance(value, bool) and "int" in fmt:
            return
        if not isinstance(value, str):
            raise _invalid(where, value, "a string")
        if "enum" in schema and value not in schema["enum"]:
            raise _invalid(where, value, "one of " + ", ".join(schema["enum"]))
        if fmt in ("date-time", "google-datetime") and parse_time(value) is None:
            raise _invalid(where, value, "an RFC 3339 date-time")
        if fmt == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise _invalid(where, value, "a date (yyyy-mm-dd)")
    elif kind == "integer":
        ok = isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())
        if not ok or isinstance(value, bool):
            raise _invalid(where, value, "an integer")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _invalid(where, value, "a number")
    elif kind == "boolean" and not isinstance(value, bool):
        raise _invalid(where, value, "a boolean")


def _invalid(where: str, value: Any, expected: str) -> ApiError:
    return bad_request(
        f"Invalid value at '{where}' ({json.dumps(value)[:80]}): expected {expected}.", "invalid"
    )


def _convert(name: str, spec: dict[str, Any], raw: str) -> Any:
    kind = spec.get("type", "string")
    allowed = spec.get("enum") or ENUMS.get(name)
    if allowed and raw not in allowed:
        raise bad_request(f"Invalid value '{raw}' for parameter {name}.", "invalidParameter", name)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise bad_request(
                f"Invalid boolean value '{raw}' for {name}.", "invalidParameter", name
            )
        return raw == "true"
    if kind == "integer":
        try:
            number = int(raw)
        except ValueError:
            raise bad_request(f"Invalid value '{raw}' for {name}.", "invalid", name) from None
        low, high = spec.get("minimum"), spec.get("maximum")
        if (low is not None and number < int(low)) or (high is not None and number > int(high)):
            raise bad_request(
                f"Invalid value '{raw}'. Values must be within the range: [{low}, {high}]",
                "invalid",
                name,
            )
        return number
    if "pattern" in spec and not re.fullmatch(spec["pattern"], raw):
        raise bad_request(f"Invalid value '{raw}' for {name}.", "invalid", name)
    return raw


def _methods(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(resource.get("methods", {}).values())
    for child in resource.get("resources", {}).values():
        found.extend(_methods(child))
    return found


# --- `fields` partial responses ----------------------------------------------------------

Mask = dict[str, "Mask | None"]


def parse_fields(text: str) -> Mask:
    """Parse a fields selector like `files(id,name),nextPageToken` into a tree."""
    mask, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise _bad_fields(text)
    return mask


def _parse_list(text: str, pos: int) -> tuple[Mask, int]:
    mask: Mask = {}
    while True:
        found = re.compile(r"[A-Za-z0-9_*.$@-]+(?:/[A-Za-z0-9_*.$@-]+)*").match(text, pos)
        if not found:
            raise _bad_fields(text)
        path = found.group().split("/")
        pos = found.end()
        sub: Mask | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise _bad_fields(text)
            pos += 1
        _merge(mask, path, sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return mask, pos


def _merge(mask: Mask, path: list[str], sub: Mask | None) -> None:
    head, rest = path[0], path[1:]
    leaf: Mask | None = _nest(rest, sub) if rest else sub
    if head in mask and mask[head] is None:
        return
    if leaf is None or head not in mask:
        mask[head] = leaf
        return
    current = mask[head]
    assert current is not None
    for key, value in leaf.items():
        _merge(current, [key], value)


def _nest(path: list[str], sub: Mask | None) -> Mask:
    return {path[0]: _nest(path[1:], sub) if len(path) > 1 else sub}


def _bad_fields(text: str) -> ApiError:
    return bad_request(f"Invalid field selection {text}", "invalidParameter", "fields")


def check_fields(discovery: Discovery, route: Route, mask: Mask) -> None:
    """Reject selections of fields the response schema does not have, as Google does."""
    ref = route.desc.get("response", {}).get("$ref")
    if ref is not None:
        _check_mask(discovery, route.api, {"$ref": ref}, mask)


def _check_mask(discovery: Discovery, api: str, schema: dict[str, Any], mask: Mask) -> None:
    while True:
        if "$ref" in schema:
            schema = discovery.schema(api, schema["$ref"])
        elif schema.get("type") == "array":
            schema = schema.get("items", {})
        else:
            break
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    for name, sub in mask.items():
        if name == "*":
            continue
        if props is not None and name in props:
            child = props[name]
        elif extra is not None:
            child = extra
        elif props is None:
            continue
        else:
            raise _bad_fields(name)
        if sub is not None:
            _check_mask(discovery, api, child, sub)


def apply_fields(mask: Mask | None, value: Any) -> Any:
    """Trim a JSON value to a fields mask."""
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply_fields(mask, item) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        return {k: apply_fields(mask.get(k), v) for k, v in value.items()}
    return {k: apply_fields(sub, value[k]) for k, sub in mask.items() if k in value}
