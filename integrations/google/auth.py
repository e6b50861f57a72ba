"""Credentials for the service user, and the API clients made with them.

The service acts as one Workspace user (`GOOGLE_IMPERSONATE`) through domain-wide
delegation: a service account whose client id the Workspace admin allowed the scopes below.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import google.auth
import httplib2
from google.oauth2 import service_account as _service_account

from integrations.google.delegation import (
    CLOUD_PLATFORM,
    TOKEN_URI,
    DelegatedCredentials,
    delegated_via_iam,
    token_uri_for,
)

# google-auth's signatures are partly untyped: use them through Any.
service_account: Any = _service_account
__all__ = ["SCOPES", "TOKEN_URI", "Builder", "Clients", "credentials_for"]

# The least the service needs, each for one reason. These exact strings must be the ones
# the Workspace admin enters for the service account in the domain-wide delegation page.
SCOPES: dict[str, str] = {
    "https://www.googleapis.com/auth/drive": (
        "make client folders and briefs, share them, and see contract drafts that people "
        "drop into Contracts folders (drive.file would only show files the service made); "
        "it also covers the Docs API, so the documents scope is not asked for"
    ),
    "https://www.googleapis.com/auth/gmail.compose": (
        "send notifications as the service user, each as a draft first (drafts.create, then "
        "drafts.send) so a retry never sends twice; gmail.send does not allow drafts. It also "
        "reads the profile for `doctor`; it reads no mail"
    ),
    "https://www.googleapis.com/auth/calendar.events": "create, update and cancel the meetings",
    "https://www.googleapis.com/auth/calendar.freebusy": (
        "read people's busy times to place meetings (calendar.readonly would show event details)"
    ),
}

def credentials_for(
    auth: str,
    *,
    impersonate: str | None,
    scopes: Sequence[str],
    endpoint: str | None,
    account: str | None = None,
) -> Any:
    """Return credentials for `adc`, `service-account:PATH` or `anonymous` (None).

    With GOOGLE_API_ENDPOINT set, the IAM signer and the token endpoint of the key-less
    delegation are under it too (the loopback Google plays both in tests).
    """
    if auth == "anonymous":
        if not endpoint:
            raise ValueError(
                "GOOGLE_AUTH=anonymous sends unauthenticated requests: it is only allowed "
                "with GOOGLE_API_ENDPOINT pointing at a fake or an emulator"
            )
        return None
    if auth.startswith("service-account:"):
        path = auth.partition(":")[2]
        if not path:
            raise ValueError("GOOGLE_AUTH=service-account:PATH needs the key file's path")
        creds: Any = DelegatedCredentials.from_service_account_file(path, scopes=scopes)
        return creds.with_subject(impersonate) if impersonate else creds
    if auth == "adc":
        if not impersonate:
            creds, _project = google.auth.default(scopes=list(scopes))
            return creds
        # The source only signs (IAM wants cloud-platform); only the delegated
        # credentials carry the Workspace scopes.
        source, _project = google.auth.default(scopes=[CLOUD_PLATFORM])
        if endpoint and hasattr(source, "with_token_uri"):
            # The test and emulator mode: the runtime's own tokens come from there too.
            source = source.with_token_uri(token_uri_for(endpoint))
        if isinstance(source, service_account.Credentials):  # a key file through ADC
            return DelegatedCredentials(
                source.signer,
                source.service_account_email,
                token_uri_for(endpoint),
                scopes=list(scopes),
                subject=impersonate,
            )
        return delegated_via_iam(
            source, impersonate, scopes, account=account, endpoint=endpoint
        )
    raise ValueError(f"GOOGLE_AUTH must be adc, service-account:PATH or anonymous, not {auth!r}")


def delegated(credentials: Any, subject: str) -> Any:
    """Return the same credentials acting as another Workspace user (None stays None)."""
    if credentials is None:
        return None  # anonymous, against a fake: the calendar id says whose calendar it is
    if not hasattr(credentials, "with_subject"):
        raise ValueError("these credentials cannot act as another user (domain-wide delegation)")
    return credentials.with_subject(subject)


Builder = Callable[..., Any]


class Clients:
    """Makes API clients, one per API, version and thread (httplib2 is not thread-safe)."""

    def __init__(
        self,
        *,
        credentials: Any,
        endpoint: str | None,
        timeout: float = 60.0,
        build: Builder | None = None,
    ) -> None:
        self.credentials = credentials
        self.endpoint = endpoint
        self.timeout = timeout
        self._build = build
        self._local = threading.local()
        self._all: list[Any] = []  # every thread's clients, so close() reaches them all
        self._lock = threading.Lock()

    def for_subject(self, subject: str) -> Clients:
        """Return the clients acting as this Workspace user, made once per user."""
        with self._lock:
            made: dict[str, Clients] = self.__dict__.setdefault("_subjects", {})
            found = made.get(subject.lower())
            if found is None:
                found = made[subject.lower()] = Clients(
                    credentials=delegated(self.credentials, subject),
                    endpoint=self.endpoint,
                    timeout=self.timeout,
                    build=self._build,
                )
            return found

    def get(self, api: str, version: str) -> Any:
        """Return this thread's client for the API, building it on first use."""
        cache: dict[tuple[str, str], Any] = self._local.__dict__.setdefault("clients", {})
        client = cache.get((api, version))
        if client is None:
            client = cache[(api, version)] = self._make(api, version)
            with self._lock:
                self._all.append(client)
        return client

    def collection(self, api: str, version: str, path: str) -> Any:
        """Return this thread's collection such as `files` or `users.messages`, made once.

        Making one is not free: the Docs API's `documents()` costs ~0.1s of docstrings.
        """
        cache: dict[tuple[str, str, str], Any] = self._local.__dict__.setdefault("collections", {})
        found = cache.get((api, version, path))
        if found is None:
            found = self.get(api, version)
            for name in path.split("."):
                found = getattr(found, name)()
            cache[(api, version, path)] = found
        return found

    def close(self) -> None:
        """Close every client's connections (httplib2 keeps sockets open until told)."""
        with self._lock:
            clients, self._all = self._all, []
            subjects = list(self.__dict__.get("_subjects", {}).values())
        self._local = threading.local()
        for client in clients:
            client.close()
        for other in subjects:
            other.close()

    def _make(self, api: str, version: str) -> Any:
        build = self._build
        if build is None:
            from integrations.google.discovery import build_client

            build = build_client
        http = httplib2.Http(timeout=self.timeout)
        return build(api, version, endpoint=self.endpoint, credentials=self.credentials, http=http)
