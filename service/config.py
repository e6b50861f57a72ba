"""Every setting of the service, read once from a mapping (the environment in production).

No other module reads `os.environ`: `create_app()` calls
`Settings.from_env(process_environment())` and hands the result to whatever needs it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.domain.access import DEFAULT_ROLE, ROLES
from service.domain.planning_notice import Notice, parse_notice

GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"


def process_environment() -> Mapping[str, str]:
    """Return the process's environment: the one place the service reads os.environ."""
    return os.environ


class SettingsError(ValueError):
    """A setting has a value the service cannot run with; the message names it."""


_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _hours(value: str) -> tuple[time, time]:
    match = _HOURS.match(value.strip())
    if not match:
        raise SettingsError(f"BUSINESS_HOURS must look like 09:00-17:00, got {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise SettingsError(f"BUSINESS_HOURS has an impossible time: {value!r}") from exc
    if start >= end:
        raise SettingsError(f"BUSINESS_HOURS must start before it ends, got {value!r}")
    return start, end


def _zone(name: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"{name} must be an IANA time zone, got {value!r}") from exc
    return value


def _tokens(value: str) -> dict[str, str]:
    """Parse `API_TOKENS`: `token` or `token:role`, comma-separated."""
    tokens: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        token, _, role = item.partition(":")
        if len(token) < 16:
            raise SettingsError("API_TOKENS: every token must be at least 16 characters")
        tokens[token] = _person_role("API_TOKENS", role or DEFAULT_ROLE)
    return tokens


def _person_role(name: str, role: str) -> str:
    if role not in ROLES:
        raise SettingsError(f"{name}: role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


def _roles(value: str) -> dict[str, str]:
    """Parse `ROLES`: `email:role`, comma-separated."""
    roles: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        email, _, role = item.rpartition(":")
        if "@" not in email:
            raise SettingsError(f"ROLES: each entry must be email:role, got {item!r}")
        roles[email.strip().lower()] = _person_role("ROLES", role.strip())
    return roles


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {value!r}") from exc
    if not math.isfinite(number):
        raise SettingsError(f"{name} must be a finite number, got {value!r}")
    if number < 0:
        raise SettingsError(f"{name} must not be negative, got {value!r}")
    return number


def _whole(name: str, value: str, low: int, high: int) -> int:
    if not value.strip().isdigit() or not low <= int(value) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _lease(value: str) -> float:
    seconds = _number("LEASE_SECONDS", value)
    if not 1 <= seconds <= 86400:
        raise SettingsError(f"LEASE_SECONDS must be from 1 to 86400 (a day), got {value!r}")
    return seconds


def _notice(value: str) -> Notice:
    try:
        return parse_notice(value)
    except ValueError as exc:
        raise SettingsError(
            f"MEETING_NOTICE must be next-business-day or a number of hours such as 48h, "
            f"got {value!r}"
        ) from exc


def _role(value: str) -> str:
    if value not in {"reader", "commenter", "writer"}:
        raise SettingsError(f"REVIEW_SHARE_ROLE must be reader, commenter or writer, got {value!r}")
    return value


def _signin(env: Mapping[str, str]) -> str | None:
    """Return the OAuth client id; Sign-in with Google needs its secret and ALLOWED_DOMAIN."""
    client_id = env.get("GOOGLE_OAUTH_CLIENT_ID")
    if client_id and not (env.get("GOOGLE_OAUTH_CLIENT_SECRET") and env.get("ALLOWED_DOMAIN")):
        raise SettingsError(
            "GOOGLE_OAUTH_CLIENT_ID needs GOOGLE_OAUTH_CLIENT_SECRET and ALLOWED_DOMAIN"
        )
    return client_id


def _base_url(env: Mapping[str, str]) -> str:
    """Return PUBLIC_BASE_URL, else this machine's address on PORT (8080 when unset), so a
    service started on another port links to itself."""
    if "PUBLIC_BASE_URL" in env:
        return env["PUBLIC_BASE_URL"].rstrip("/")
    port = _whole("PORT", env.get("PORT", "8080"), 1, 65535)
    return f"http://127.0.0.1:{port}"


def _sender_name(value: str) -> str:
    """Return MAIL_FROM_NAME, the name people see an email come from (one line)."""
    name = " ".join(value.split())
    if not name or len(name) > 100:
        raise SettingsError(f"MAIL_FROM_NAME must be a name of 1 to 100 characters, got {value!r}")
    return name


def _https(name: str, value: str | None) -> str | None:
    if value and not value.startswith("https://"):
        raise SettingsError(f"{name} must be an https:// URL")
    return value


MIN_SECRET = 32  # bytes of SECRET_KEY where sessions and CSRF tokens must hold


def _dev_login(env: Mapping[str, str], backend: str, on_app_engine: bool) -> bool:
    """Parse `DEV_LOGIN`: only with the local backend, off App Engine, without a domain."""
    on = _flag("DEV_LOGIN", env.get("DEV_LOGIN", "0"))
    if on and (backend != "local" or on_app_engine or env.get("ALLOWED_DOMAIN")):
        raise SettingsError(
            "DEV_LOGIN=1 works only with WORKSPACE_BACKEND=local, without ALLOWED_DOMAIN "
            "and off App Engine"
        )
    return on


@dataclass(frozen=True)
class Settings:
    """The service's configuration; see the README for each variable and its default."""

    workspace_backend: str = "local"
    database_url: str = ""
    workspace_dir: Path = Path("var/workspace")
    google_api_endpoint: str | None = None
    google_auth: str = "adc"
    google_impersonate: str | None = None
    public_base_url: str = "http://127.0.0.1:8080"
    # The name every email comes from ("Acme Agency Handover <service@agency.com>").
    mail_from_name: str = "Agency Handover"
    api_tokens: Mapping[str, str] = field(default_factory=dict)
    allowed_domain: str | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    google_oauth_client_id: str | None = None
    google_oauth_client_secret: str | None = None
    google_oidc_discovery_url: str = GOOGLE_DISCOVERY_URL
    task_queue: str = "inline"
    business_country: str = "US"
    agency_timezone: str = "America/New_York"
    business_hours: tuple[time, time] = (time(9), time(17))
    drive_clients_folder: str | None = None
    drive_intake_folder: str | None = None
    brief_template_doc_id: str | None = None
    share_notify: bool = False
    secret_key: str = "dev-only-not-secret"  # noqa: S105 - refused in production below
    log_format: str = "text"
    max_body_bytes: int = 256 * 1024
    inline_workers: int = 4
    tasks_secret: str | None = None
    cloud_tasks_endpoint: str | None = None
    review_settle_seconds: float = 120.0
    review_share_role: str = "commenter"
    review_reminder_hours: float = 4.0
    slack_webhook_url: str | None = None
    google_retry_base: float = 0.5
    google_retry_deadline: float = 120.0
    lease_seconds: float = 300.0
    on_app_engine: bool = False
    testing: bool = False
    agenda_lead_business_days: int = 1
    task_reminder_days: int = 1
    # DEV_LOGIN=1: a dev user signed in as admin, on loopback only (see `dev_login`).
    dev_login_enabled: bool = False
    meeting_notice: Notice = field(default_factory=Notice)
    # The service account that signs the delegation JWT through IAM when GOOGLE_AUTH=adc
    # has no key (App Engine, impersonated ADC); unset: the runtime's own account.
    google_service_account: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Read the settings from an environment mapping; raise SettingsError naming a bad one."""
        env = {k: v for k, v in environ.items() if v != ""}
        backend = env.get("WORKSPACE_BACKEND", "local")
        if backend not in {"local", "google"}:
            raise SettingsError(f"WORKSPACE_BACKEND must be local or google, got {backend!r}")
        workspace_dir = Path(env.get("WORKSPACE_DIR", "var/workspace"))
        auth = env.get("GOOGLE_AUTH", "adc")
        if not (auth in {"adc", "anonymous"} or auth.startswith("service-account:")):
            raise SettingsError(
                f"GOOGLE_AUTH must be adc, service-account:PATH or anonymous, got {auth!r}"
            )
        if auth == "anonymous" and not env.get("GOOGLE_API_ENDPOINT"):
            raise SettingsError("GOOGLE_AUTH=anonymous is only allowed with GOOGLE_API_ENDPOINT")
        queue = env.get("TASK_QUEUE", "inline")
        if queue not in {"inline", "database"} and not queue.startswith("cloud-tasks:"):
            raise SettingsError(
                f"TASK_QUEUE must be inline, database or cloud-tasks:..., got {queue!r}"
            )
        on_app_engine = "GAE_APPLICATION" in env
        secret = env.get("SECRET_KEY", "")
        if (on_app_engine or env.get("ALLOWED_DOMAIN")) and len(secret.encode()) < MIN_SECRET:
            raise SettingsError(
                f"SECRET_KEY must be set, at least {MIN_SECRET} bytes (for example the output "
                "of `python -c 'import secrets; print(secrets.token_hex(32))'`), when "
                "ALLOWED_DOMAIN is set or on App Engine"
            )
        dev_login = _dev_login(env, backend, on_app_engine)
        public_base_url = _base_url(env)
        if (
            backend == "google"
            and not env.get("GOOGLE_API_ENDPOINT")
            and not public_base_url.startswith("https://")
        ):
            # Drive refuses a push channel to anything but https (push.webhookUrlNotHttps),
            # and people open the links in emails from outside.
            raise SettingsError(
                "PUBLIC_BASE_URL must be an https:// address on the google backend "
                f"(Drive posts its notifications there), got {public_base_url!r}"
            )
        settings = cls(
            workspace_backend=backend,
            database_url=env.get("DATABASE_URL", f"sqlite:///{Path('var/handover.db').resolve()}"),
            workspace_dir=workspace_dir,
            google_api_endpoint=env.get("GOOGLE_API_ENDPOINT"),
            google_auth=auth,
            google_impersonate=env.get("GOOGLE_IMPERSONATE"),
            public_base_url=public_base_url,
            mail_from_name=_sender_name(env.get("MAIL_FROM_NAME", "Agency Handover")),
            api_tokens=_tokens(env.get("API_TOKENS", "")),
            allowed_domain=env.get("ALLOWED_DOMAIN"),
            roles=_roles(env.get("ROLES", "")),
            google_oauth_client_id=_signin(env),
            google_oauth_client_secret=env.get("GOOGLE_OAUTH_CLIENT_SECRET"),
            google_oidc_discovery_url=env.get("GOOGLE_OIDC_DISCOVERY_URL", GOOGLE_DISCOVERY_URL),
            task_queue=queue,
            business_country=env.get("BUSINESS_COUNTRY", "US").upper(),
            agency_timezone=_zone(
                "AGENCY_TIMEZONE", env.get("AGENCY_TIMEZONE", "America/New_York")
            ),
            business_hours=_hours(env.get("BUSINESS_HOURS", "09:00-17:00")),
            drive_clients_folder=env.get("DRIVE_CLIENTS_FOLDER"),
            drive_intake_folder=env.get("DRIVE_INTAKE_FOLDER"),
            brief_template_doc_id=env.get("BRIEF_TEMPLATE_DOC_ID"),
            share_notify=_flag("SHARE_NOTIFY", env.get("SHARE_NOTIFY", "false")),
            secret_key=secret or "dev-only-not-secret",
            log_format=env.get("LOG_FORMAT", "json" if on_app_engine else "text"),
            max_body_bytes=int(_number("MAX_BODY_BYTES", env.get("MAX_BODY_BYTES", "262144"))),
            inline_workers=int(_number("INLINE_WORKERS", env.get("INLINE_WORKERS", "4"))),
            tasks_secret=env.get("TASKS_SECRET"),
            cloud_tasks_endpoint=env.get("CLOUD_TASKS_ENDPOINT"),
            review_settle_seconds=_number(
                "REVIEW_SETTLE_SECONDS", env.get("REVIEW_SETTLE_SECONDS", "120")
            ),
            review_share_role=_role(env.get("REVIEW_SHARE_ROLE", "commenter")),
            review_reminder_hours=_number(
                "REVIEW_REMINDER_HOURS", env.get("REVIEW_REMINDER_HOURS", "4")
            ),
            slack_webhook_url=_https("SLACK_WEBHOOK_URL", env.get("SLACK_WEBHOOK_URL")),
            google_retry_base=_number("GOOGLE_RETRY_BASE", env.get("GOOGLE_RETRY_BASE", "0.5")),
            google_retry_deadline=_number(
                "GOOGLE_RETRY_DEADLINE", env.get("GOOGLE_RETRY_DEADLINE", "120")
            ),
            lease_seconds=_lease(env.get("LEASE_SECONDS", "300")),
            on_app_engine=on_app_engine,
            agenda_lead_business_days=_whole(
                "AGENDA_LEAD_BUSINESS_DAYS", env.get("AGENDA_LEAD_BUSINESS_DAYS", "1"), 1, 10
            ),
            task_reminder_days=_whole(
                "TASK_REMINDER_DAYS", env.get("TASK_REMINDER_DAYS", "1"), 0, 30
            ),
            dev_login_enabled=dev_login,
            meeting_notice=_notice(env.get("MEETING_NOTICE", "next-business-day")),
            google_service_account=env.get("GOOGLE_SERVICE_ACCOUNT"),
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def lease(self) -> timedelta:
        """How long a worker holds a step, a job or a routing before another may take it."""
        return timedelta(seconds=self.lease_seconds)

    @property
    def is_local(self) -> bool:
        """True when the embedded local backend does the work (no Google at all)."""
        return self.workspace_backend == "local"

    @property
    def signin_enabled(self) -> bool:
        """True when Sign-in with Google is configured (client id, secret and domain)."""
        return bool(
            self.google_oauth_client_id and self.google_oauth_client_secret and self.allowed_domain
        )

    @property
    def dev_login(self) -> bool:
        """True when DEV_LOGIN=1 and no domain is configured: a dev user is signed in as
        admin, loopback only; never on App Engine (from_env also refuses the google
        backend)."""
        return self.dev_login_enabled and self.allowed_domain is None and not self.on_app_engine
