"""Build Google API clients from the discovery documents bundled with googleapiclient."""

from __future__ import annotations

import json
import threading
from importlib import resources
from typing import Any

import google_auth_httplib2
import httplib2
from googleapiclient.discovery import Resource, build_from_document, fix_method_name

DEFAULT_TIMEOUT = 30

_lock = threading.Lock()
_documents: dict[tuple[str, str], dict[str, Any]] = {}


def _bundled_document(api: str, version: str) -> dict[str, Any]:
    """Return the discovery document shipped with googleapiclient (static discovery)."""
    documents = resources.files("googleapiclient").joinpath("discovery_cache", "documents")
    text = documents.joinpath(f"{api}.{version}.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _prime(resource: Resource, description: dict[str, Any]) -> None:
    """Touch every nested resource once so later builds never grow the shared document."""
    for name, child in description.get("resources", {}).items():
        _prime(getattr(resource, fix_method_name(name))(), child)


def _document(api: str, version: str) -> dict[str, Any]:
    """Return the parsed document for the API, cached and shared by every build."""
    key = (api, version)
    with _lock:
        document = _documents.get(key)
        if document is None:
            document = _bundled_document(api, version)
            # build_from_document fixes up method parameters in place the first time it
            # sees them; doing it here, under the lock, keeps later (concurrent) builds
            # from changing the shared dicts.
            _prime(build_from_document(document, http=httplib2.Http()), document)
            _documents[key] = document
        return document


def _redirect(document: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """Return the document with REST, upload and batch URLs all starting at `endpoint`."""
    root = endpoint if endpoint.endswith("/") else endpoint + "/"
    # rootUrl is the base of REST, media upload and batch URLs alike (servicePath and
    # batchPath stay relative to it); mtlsRootUrl must not win over the endpoint. Only the
    # top level changes, so a shallow copy shares the (large) methods and schemas.
    rewritten = dict(document)
    rewritten["rootUrl"] = root
    rewritten["mtlsRootUrl"] = root
    rewritten["baseUrl"] = root + str(document.get("servicePath", ""))
    return rewritten


def build_client(
    api: str,
    version: str,
    *,
    endpoint: str | None,
    credentials: Any | None,
    http: httplib2.Http | None = None,
) -> Resource:
    """Build a client whose REST, upload and batch requests all go to `endpoint` (or Google)."""
    transport: Any = http if http is not None else httplib2.Http(timeout=DEFAULT_TIMEOUT)
    if credentials is not None:
        transport = google_auth_httplib2.AuthorizedHttp(credentials, http=transport)
    # build_from_document never fetches or caches discovery documents, so there is no
    # discovery cache (and none of its warnings) to switch off, unlike build().
    document = _document(api, version)
    if endpoint is not None:
        document = _redirect(document, endpoint)
    return build_from_document(document, http=transport)
