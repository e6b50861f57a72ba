"""Builds the Google adapters from the settings (the production backend)."""

from __future__ import annotations

from typing import Any

from integrations.google.auth import SCOPES, Clients, credentials_for
from integrations.google.drive import GoogleDrive
from integrations.google.execute import RetryPolicy
from integrations.google.mail import GoogleMail
from integrations.ports import MailLedger


def google_clients(settings: Any) -> Clients:
    """Return the per-thread client factory for the configured credentials and endpoint."""
    credentials = credentials_for(
        settings.google_auth,
        impersonate=settings.google_impersonate,
        scopes=list(SCOPES),
        endpoint=settings.google_api_endpoint,
        account=settings.google_service_account,
    )
    return Clients(credentials=credentials, endpoint=settings.google_api_endpoint)


def google_workspace(
    settings: Any, clients: Clients, ledger: MailLedger
) -> tuple[GoogleDrive, GoogleMail]:
    """Return the Drive and Mail adapters acting as the service user; the Mail adapter
    records each email's draft in `ledger` between making and sending it."""
    policy = _policy(settings)
    return (
        GoogleDrive(clients, policy=policy),
        GoogleMail(
            clients,
            policy=policy,
            ledger=ledger,
            sender=settings.google_impersonate,
            sender_name=settings.mail_from_name,
        ),
    )


def google_calendar(settings: Any, clients: Clients) -> Any:
    """Return the Calendar adapter (Calendar v3 with Meet links)."""
    from integrations.google.calendar import GoogleCalendar

    return GoogleCalendar(clients, policy=_policy(settings))


def google_change_feed(settings: Any, clients: Clients, *, drive_id: str | None = None) -> Any:
    """Return the ChangeFeed adapter (Drive's change feed; one shared drive's if drive_id)."""
    from integrations.google.changes import GoogleChangeFeed

    return GoogleChangeFeed(clients, policy=_policy(settings), drive_id=drive_id)


def google_approvals(settings: Any, clients: Clients) -> Any:
    """Return the Approvals adapter (Drive's native approvals)."""
    from integrations.google.approvals import GoogleApprovals

    return GoogleApprovals(clients, policy=_policy(settings))


def _policy(settings: Any) -> RetryPolicy:
    return RetryPolicy(base=settings.google_retry_base, deadline=settings.google_retry_deadline)
