"""Checks that the Google backend can work, each answered in plain words with a fix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import google.auth.exceptions

from integrations.google.auth import SCOPES, Builder, Clients, credentials_for
from integrations.google.delegation import DelegationError, IamSigner, ThreadRequest
from integrations.google.errors import (
    GoogleConnectionError,
    GoogleError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from integrations.google.execute import RetryPolicy, run
from integrations.ports import FOLDER_MIME


@dataclass(frozen=True)
class Finding:
    """One check's outcome; `message` says what is wrong and how to fix it."""

    check: str
    ok: bool
    message: str


def _explain(error: GoogleError, who: str) -> str:
    if isinstance(error, Unauthenticated):
        return (
            f"Google refused the credentials ({error.message}). If it says unauthorized_client, "
            "a Workspace admin must allow the service account's client id these scopes in "
            "Admin console > Security > API controls > Domain-wide delegation: " + ",".join(SCOPES)
        )
    if isinstance(error, PermissionDenied):
        return (
            f"{who} may not do this ({error.reason}: {error.message}). Check the scopes granted "
            "to the service account and that the API is enabled in its Cloud project."
        )
    if isinstance(error, NotFound):
        return error.message
    if error.retryable and not isinstance(error, GoogleConnectionError):
        return f"Google is busy or failing ({error.status} {error.reason}); try again shortly."
    if isinstance(error, GoogleConnectionError):
        return f"Google could not be reached ({error.message}). Check the network or the endpoint."
    return f"Google answered {error.status} {error.reason}: {error.message}"


def _delegation(creds: Any, impersonate: str) -> Finding:
    """Get a token acting as the user by the path the service uses (IAM signer, then the
    token endpoint), and name the link that refused."""
    try:
        creds.refresh(ThreadRequest())
    except DelegationError as exc:
        return Finding(f"delegation ({exc.link})", False, str(exc))
    except google.auth.exceptions.GoogleAuthError as exc:
        return Finding("delegation", False, f"Google could not be reached for a token: {exc}")
    signer = getattr(creds, "signer", None)
    how = "signed through IAM" if isinstance(signer, IamSigner) else "signed with the key file"
    email = getattr(creds, "service_account_email", "?")
    return Finding("delegation", True, f"{email} acts as {impersonate} ({how})")


def _check(name: str, call: Callable[[], str], who: str) -> Finding:
    try:
        return Finding(name, True, call())
    except GoogleError as error:
        return Finding(name, False, _explain(error, who))


def diagnose(
    *,
    auth: str,
    impersonate: str | None,
    endpoint: str | None,
    clients_folder: str | None,
    scopes: Sequence[str] = tuple(SCOPES),
    policy: RetryPolicy | None = None,
    build: Builder | None = None,
    account: str | None = None,
) -> list[Finding]:
    """Run every check and return what each found, in order; nothing is changed."""
    findings: list[Finding] = []
    try:
        creds = credentials_for(
            auth, impersonate=impersonate, scopes=scopes, endpoint=endpoint, account=account
        )
    except DelegationError as exc:
        findings.append(Finding(f"delegation ({exc.link})", False, str(exc)))
        return findings
    except Exception as exc:  # any failure to load credentials is a finding, not a crash
        hint = (
            "Use adc (`gcloud auth application-default login`, or deploy with a service "
            "account) or service-account:/path/to/key.json."
        )
        findings.append(Finding("credentials", False, f"GOOGLE_AUTH={auth} failed: {exc}. {hint}"))
        return findings
    findings.append(Finding("credentials", True, f"credentials loaded ({auth})"))

    if auth == "anonymous":
        findings.append(Finding("impersonation", True, f"anonymous calls to {endpoint}"))
    elif impersonate:
        findings.append(Finding("impersonation", True, f"acting as {impersonate}"))
    else:
        message = (
            "GOOGLE_IMPERSONATE is not set: the service account would act as itself, and it has "
            "no mailbox or calendar. Set it to the Workspace user the service acts as."
        )
        findings.append(Finding("impersonation", False, message))

    if impersonate and creds is not None:
        finding = _delegation(creds, impersonate)
        findings.append(finding)
        if not finding.ok:
            return findings

    missing = sorted(set(SCOPES) - set(scopes))
    message = "all scopes requested"
    if missing:
        message = f"missing scopes: {', '.join(missing)} (see integrations/google/auth.py)"
    findings.append(Finding("scopes", not missing, message))

    clients = Clients(credentials=creds, endpoint=endpoint, build=build)
    policy = policy or RetryPolicy(max_attempts=2, deadline=15.0)
    who = impersonate or "the service user"

    def drive_folder() -> str:
        folder_id = clients_folder or "root"
        request = (
            clients.get("drive", "v3")
            .files()
            .get(fileId=folder_id, fields="id,name,mimeType,capabilities", supportsAllDrives=True)
        )
        try:
            item: dict[str, Any] = run(request, policy=policy)
        except NotFound as error:
            raise NotFound(
                f"DRIVE_CLIENTS_FOLDER={folder_id} is not visible to {who}: share the folder "
                "(or add them to the shared drive) or fix the id.",
                status=404,
            ) from error
        if item.get("mimeType") != FOLDER_MIME:
            raise NotFound(
                f"DRIVE_CLIENTS_FOLDER={folder_id} is a {item.get('mimeType')}, "
                "not a folder: give a folder's or a shared drive's id"
            )
        if (item.get("capabilities") or {}).get("canAddChildren") is False:
            raise PermissionDenied(
                f"{who} cannot add files to {item.get('name')!r}", reason="canAddChildren"
            )
        return f"clients folder {item.get('name')!r} ({folder_id}) is usable"

    def gmail_profile() -> str:
        users = clients.get("gmail", "v1").users()
        profile: dict[str, Any] = run(users.getProfile(userId="me"), policy=policy)
        return f"Gmail mailbox {profile.get('emailAddress')} reachable"

    def calendar() -> str:
        events = clients.get("calendar", "v3").events()
        run(events.list(calendarId="primary", maxResults=1), policy=policy)
        return "primary calendar reachable"

    try:
        findings.append(_check("drive folder", drive_folder, who))
        findings.append(_check("gmail", gmail_profile, who))
        findings.append(_check("calendar", calendar, who))
    finally:
        clients.close()
    return findings
