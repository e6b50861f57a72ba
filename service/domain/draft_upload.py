"""A contract draft uploaded from the browser: what may be uploaded, and its clean name.

Pure rules, no I/O. The file then goes into the client's Contracts folder and takes the
same path as a draft dropped there in Drive.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from service.domain.contracts import DOCX, ODT, ContractPatterns, InvalidDecision, classify

MAX_BYTES = 10 * 1024 * 1024  # 10 MB: a contract draft, not a scan of a whole archive
TYPES: Mapping[str, str] = {
    ".pdf": "application/pdf",
    ".docx": DOCX,
    ".doc": "application/msword",
    ".odt": ODT,
}
MAX_NAME = 150
# Characters no file name needs: path separators, controls, and those Drive and file
# systems treat specially.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


class InvalidUpload(InvalidDecision):
    """The upload is not valid; `errors` maps each bad field to its message."""


@dataclass(frozen=True)
class Draft:
    """An upload found valid: its clean name and its type."""

    name: str
    mime_type: str


def clean_name(raw: str) -> str:
    """Return the file name without any folder part, unsafe characters or outer spaces."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub(" ", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if dot:
        name = f"{stem.rstrip(' .')}.{ext.strip()}"
        stem = stem.rstrip(" .")
    if dot and len(name) > MAX_NAME:
        name = f"{stem[: MAX_NAME - len(ext) - 1].rstrip(' .')}.{ext}"
    return name[:MAX_NAME]


def check_upload(
    file_name: str,
    size: int,
    *,
    account_known: bool,
    patterns: ContractPatterns | None = None,
) -> Draft:
    """Return the draft to store, or raise InvalidUpload naming each bad field."""
    errors: dict[str, str] = {}
    if not account_known:
        errors["account"] = "pick one of your accounts"
    name = clean_name(file_name)
    ext = "." + name.rpartition(".")[2].lower() if "." in name else ""
    if not name:
        errors["file"] = "is missing: choose the contract draft to upload"
    elif ext not in TYPES:
        errors["file"] = "must be a PDF, Word (.docx or .doc) or OpenDocument (.odt) file"
    elif size == 0:
        errors["file"] = "is empty: choose the draft itself"
    elif size > MAX_BYTES:
        errors["file"] = f"is larger than {MAX_BYTES // (1024 * 1024)} MB"
    elif classify(name, TYPES[ext], *([patterns] if patterns else [])) is None:
        errors["file"] = (
            "needs a name that says what it is: MSA, SOW, amendment, change order or "
            "contract (for example “SOW - Acme Corp v2.pdf”)"
        )
    if errors:
        raise InvalidUpload(errors)
    return Draft(name, TYPES[ext])
