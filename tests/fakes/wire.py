"""Byte-level parsing of multipart bodies and of the HTTP requests inside batch parts."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field


@dataclass
class Part:
    headers: dict[str, str]
    body: bytes


@dataclass
class InnerRequest:
    """One request inside a batch: request line, headers and body."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def header_param(value: str, name: str) -> str | None:
    """Return a parameter (e.g. boundary) of a header value like Content-Type."""
    found = re.search(rf';\s*{name}\s*=\s*("([^"]*)"|[^;\s]+)', value, re.IGNORECASE)
    if not found:
        return None
    return found.group(2) if found.group(2) is not None else found.group(1)


def media_type(value: str | None) -> str:
    """The bare media type of a Content-Type header, lower-cased."""
    return (value or "").split(";", 1)[0].strip().lower()


def parse_headers(block: bytes) -> dict[str, str]:
    """Parse header lines (folded lines joined); names are lower-cased."""
    headers: dict[str, str] = {}
    last = None
    for raw in re.split(rb"\r?\n", block):
        line = raw.decode("latin-1")
        if not line:
            continue
        if line[0] in " \t" and last:
            headers[last] += " " + line.strip()
            continue
        name, _, value = line.partition(":")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """Split at the first blank line into (headers, body)."""
    if data.startswith(b"\r\n"):
        return b"", data[2:]
    if data.startswith(b"\n"):
        return b"", data[1:]
    found = re.search(rb"\r?\n\r?\n", data)
    if not found:
        return data, b""
    return data[: found.start()], data[found.end() :]


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart body into parts; raises ValueError when malformed."""
    boundary = header_param(content_type, "boundary")
    if not boundary:
        raise ValueError("multipart body without boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise ValueError("multipart body without parts")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = re.sub(rb"\A[ \t]*\r?\n", b"", chunk, count=1)
        chunk = re.sub(rb"\r?\n\Z", b"", chunk, count=1)
        head, content = split_head(chunk)
        parts.append(Part(parse_headers(head), content))
    else:
        raise ValueError("multipart body without closing delimiter")
    return parts


def parse_inner_request(data: bytes) -> InnerRequest:
    """Parse `GET /path HTTP/1.1`, headers and body from a batch part."""
    line, _, rest = data.partition(b"\n")
    pieces = line.decode("latin-1").strip().split(" ")
    if len(pieces) < 2:
        raise ValueError("bad request line in batch part")
    head, body = split_head(rest)
    return InnerRequest(pieces[0].upper(), pieces[1], parse_headers(head), body)


def build_multipart(parts: list[tuple[dict[str, str], bytes]], subtype: str) -> tuple[bytes, str]:
    """Assemble a multipart body; return (bytes, content type)."""
    boundary = "batch_" + secrets.token_hex(12)
    out = bytearray()
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode()
        for name, value in headers.items():
            out += f"{name}: {value}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/{subtype}; boundary={boundary}"
