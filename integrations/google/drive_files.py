"""Drive file resources as the service knows them: the fields asked for, the addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.ports import DOC_MIME, FOLDER_MIME, DriveFile

FIELDS = "id,name,mimeType,parents,appProperties,trashed,webViewLink"
# Shared drives too: DRIVE_CLIENTS_FOLDER may be one.
ALL_DRIVES = {"supportsAllDrives": True}


def file_url(file_id: str, mime_type: str, web_view_link: str = "") -> str:
    """Return the address a person opens the file at."""
    if mime_type == DOC_MIME:
        return f"https://docs.google.com/document/d/{file_id}/edit"
    if mime_type == FOLDER_MIME:
        return f"https://drive.google.com/drive/folders/{file_id}"
    return web_view_link or f"https://drive.google.com/file/d/{file_id}/view"


def to_drive_file(item: Mapping[str, Any]) -> DriveFile:
    """Return our DriveFile for a Drive API file resource."""
    return DriveFile(
        id=item["id"],
        name=item.get("name", ""),
        url=file_url(item["id"], item.get("mimeType", ""), item.get("webViewLink", "")),
        mime_type=item.get("mimeType", ""),
        parents=tuple(item.get("parents") or ()),
        properties=dict(item.get("appProperties") or {}),
    )
