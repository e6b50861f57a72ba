"""Domain-wide delegation without a key file: the delegation JWT signed by the IAM API.

On App Engine (Compute Engine credentials) or with impersonated-service-account ADC there
is no private key: the service account signs the JWT through the IAM Service Account
Credentials API (`signBlob`), then Google's token endpoint trades it for a token acting as
the Workspace user (the jwt-bearer grant, RFC 7523). Three links, each with its own fix:

1. source credentials: the runtime's own credentials, scoped `cloud-platform` (the IAM
   API refuses a token without it, 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT);
2. IAM signer: the account needs "Service Account Token Creator" on itself
   (`iam.serviceAccounts.signBlob`), else 403;
3. token endpoint: the account's client id must be allowed these scopes in the Admin
   console, else 401 `unauthorized_client` ("Client is unauthorized to retrieve access
   tokens using this method, or client not authorized for any of the scopes requested").

A 4xx on any link is not retried: it raises `DelegationError` naming the link and the fix.
Only the delegated credentials carry the Workspace scopes.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import google.auth.exceptions
import google.auth.transport.requests
import requests
from google.auth import crypt as _crypt
from google.oauth2 import service_account as _service_account

crypt: Any = _crypt
service_account: Any = _service_account

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
IAM_BASE = "https://iamcredentials.googleapis.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
ADMIN_CONSOLE = (
    "Admin console > Security > Access and data control > API controls > Domain-wide delegation"
)
SIGN_ATTEMPTS = 4  # 429/5xx from the signer; its own backoff, then the caller's retries


class DelegationError(google.auth.exceptions.RefreshError):
    """A link of the delegation chain refused (4xx): `link` names it; never retried."""

    def __init__(self, link: str, message: str, status: int | None = None) -> None:
        super().__init__(message, retryable=False)  # type: ignore[no-untyped-call]
        self.link = link
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class ThreadRequest:
    """A google-auth transport with one `requests` session per thread.

    The signer is called from every thread that refreshes the delegated token; one
    `httplib2.Http` shared by threads corrupts its connections.
    """

    def __init__(self, timeout: float = 30.0) -> None:
        self._local = threading.local()
        self._timeout = timeout

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = google.auth.transport.requests.Request(
                requests.Session()
            )
        return request(
            url,
            method=method,
            body=body,
            headers=headers,
            timeout=timeout or self._timeout,
            **kwargs,
        )


class IamSigner(crypt.Signer):  # type: ignore[misc]
    """Signs bytes as a service account through IAM `signBlob` (no key leaves Google)."""

    def __init__(self, request: ThreadRequest, source: Any, email: str, *, base_url: str) -> None:
        self._request = request
        self._source = source
        self._email = email
        self._url = f"{base_url.rstrip('/')}/v1/projects/-/serviceAccounts/{email}:signBlob"
        self._lock = threading.Lock()

    @property
    def key_id(self) -> str | None:
        return None  # IAM picks the key; the token endpoint finds it by the signature

    def sign(self, message: bytes | str) -> bytes:
        data = message.encode() if isinstance(message, str) else message
        body = json.dumps({"payload": base64.b64encode(data).decode()}).encode()
        for attempt in range(SIGN_ATTEMPTS):
            headers = {"Content-Type": "application/json"}
            self._authorise(headers)
            response = self._request(self._url, method="POST", body=body, headers=headers)
            if response.status == 200:
                return base64.b64decode(json.loads(response.data)["signedBlob"])
            if response.status != 429 and response.status < 500:
                raise DelegationError("IAM signer", self._explain(response), response.status)
            time.sleep(min(2.0, 0.2 * 2**attempt))
        raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
            f"the IAM signer kept failing (HTTP {response.status}); will try again"
        )

    def _authorise(self, headers: dict[str, str]) -> None:
        """Add the source credentials' token (refreshed once at a time)."""
        try:
            with self._lock:
                self._source.before_request(self._request, "POST", self._url, headers)
        except google.auth.exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise
            raise DelegationError(
                "source credentials",
                f"the runtime's own credentials could not get a token ({exc}); check the "
                "App Engine service account or GOOGLE_APPLICATION_CREDENTIALS",
            ) from exc

    def _explain(self, response: Any) -> str:
        status, text = _error_text(response)
        if response.status == 403 and "SCOPE" in text.upper():
            fix = (
                f"the runtime's credentials lack the {CLOUD_PLATFORM} scope (on Compute "
                "Engine, give the instance that scope; the service asks ADC for it)"
            )
        elif response.status in (403, 404):
            fix = (
                f'give the service account {self._email} the role "Service Account Token '
                'Creator" (roles/iam.serviceAccountTokenCreator) on itself, and enable the '
                "IAM Service Account Credentials API in its project"
            )
        else:
            fix = "check GOOGLE_SERVICE_ACCOUNT and the runtime's credentials"
        return (
            f"Google refused to sign the delegation token as {self._email}: {fix} "
            f"(IAM answered {status}: {text})"
        )


def _error_text(response: Any) -> tuple[int, str]:
    raw = response.data.decode("utf-8", "replace") if response.data else ""
    try:
        error = json.loads(raw).get("error") or {}
    except (ValueError, AttributeError):
        return response.status, raw[:300]
    if isinstance(error, dict):
        return response.status, str(error.get("message") or error.get("status") or raw[:300])
    return response.status, str(error)


class DelegatedCredentials(service_account.Credentials):  # type: ignore[misc]
    """Service-account credentials acting as a Workspace user, whose refusals say the fix."""

    def refresh(self, request: Any) -> None:
        try:
            super().refresh(request)
        except DelegationError:
            raise
        except google.auth.exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise
            raise DelegationError("token endpoint", self._explain(exc)) from exc

    def _explain(self, exc: Exception) -> str:
        text = str(exc.args[0]) if exc.args else str(exc)
        email, subject = self.service_account_email, self._subject
        if "unauthorized_client" in text or "access_denied" in text:
            fix = (
                f"the client id of {email} is not allowed these scopes for domain-wide "
                f"delegation: a Workspace admin must add them in {ADMIN_CONSOLE}: "
                + ",".join(self._scopes or ())
            )
        elif "invalid_grant" in text and ("email" in text.lower() or "user" in text.lower()):
            fix = f"GOOGLE_IMPERSONATE={subject} is not a user of the Workspace"
        elif "invalid_grant" in text:
            fix = "the delegation token was refused (check the server's clock and the key)"
        else:
            fix = "check the service account and the scopes allowed to it"
        return f"Google refused to let {email} act as {subject}: {fix} ({text})"


def delegated_via_iam(
    source: Any,
    subject: str,
    scopes: Sequence[str],
    *,
    account: str | None,
    endpoint: str | None,
) -> Any:
    """Return credentials acting as `subject`, the JWT signed through IAM as `account` (or
    the source's own service account)."""
    request = ThreadRequest()
    email = account or getattr(source, "service_account_email", None)
    if not email or email == "default":  # Compute Engine learns its email on refresh
        try:
            source.refresh(request)
        except google.auth.exceptions.RefreshError as exc:
            raise DelegationError(
                "source credentials", f"the runtime's credentials could not get a token: {exc}"
            ) from exc
        email = getattr(source, "service_account_email", None)
    if not email or email == "default":
        raise ValueError(
            "GOOGLE_IMPERSONATE needs a service account to sign with: these default "
            "credentials are not one; set GOOGLE_SERVICE_ACCOUNT (or use "
            "GOOGLE_AUTH=service-account:PATH)"
        )
    signer = IamSigner(request, source, email, base_url=endpoint or IAM_BASE)
    return DelegatedCredentials(
        signer, email, token_uri_for(endpoint), scopes=list(scopes), subject=subject
    )


def token_uri_for(endpoint: str | None) -> str:
    """Return the OAuth token endpoint: Google's, or the fake's/emulator's under its base."""
    return f"{endpoint.rstrip('/')}/token" if endpoint else TOKEN_URI
