"""Google's credential chain on the loopback: OAuth token endpoint, IAM signer, who acts.

As at Google (https://developers.google.com/identity/protocols/oauth2/service-account,
the IAM Service Account Credentials API reference):

* `POST /token`, `grant_type=refresh_token`: a source credential (an `authorized_user` ADC
  file; in production the metadata server plays this part) gets a token for the scopes
  it asks, here usually `cloud-platform`.
* `POST /v1/projects/-/serviceAccounts/{email}:signBlob` (and `:signJwt`): the caller's
  token must carry `cloud-platform` (or `iam`), else 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT;
  the caller must hold "Service Account Token Creator" on the account, else 403
  IAM_PERMISSION_DENIED ("Permission 'iam.serviceAccounts.signBlob' denied on resource
  (or it may not exist)."). The answer is `{"keyId", "signedBlob"}`.
* `POST /token`, `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`: the assertion's
  signature must verify against the key IAM signed with (else 400 invalid_grant "Invalid
  JWT Signature."), `aud` must be https://oauth2.googleapis.com/token, `iat`/`exp` at most an hour apart
  and not expired (else invalid_grant), `sub` a user of the domain (else invalid_grant
  "Invalid email or User ID"), and every scope allowed to the account's client id in the
  "Admin console" (`authorise`), else 401 `unauthorized_client` "Client is unauthorized to
  retrieve access tokens using this method, or client not authorized for any of the scopes
  requested.".

With `required` on, every API call needs a live token (else 401 UNAUTHENTICATED) and is
recorded with the user it acts as (`RecordedRequest.acting_as`).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.core import ApiError, b64url_decode

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
IAM_SCOPE = "https://www.googleapis.com/auth/iam"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SIGN_PREFIX = "/v1/projects/-/serviceAccounts/"
SOURCE_CLIENT_ID = "fake-adc-client.apps.googleusercontent.com"
SOURCE_CLIENT_SECRET = "fake-adc-secret"  # noqa: S105 - a test value
TOKEN_LIFETIME = 3600
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL


@dataclass
class ServiceAccount:
    """A service account of the fake's Cloud project, with the key IAM signs with."""

    email: str
    client_id: str
    key: rsa.RSAPrivateKey
    key_id: str
    token_creators: set[str] = field(default_factory=set)


@dataclass
class Token:
    """An access token: who holds it, who it acts as, for which scopes, until when."""

    principal: str
    acting_as: str
    scopes: frozenset[str]
    expires: float


@dataclass
class AuthReply:
    status: int
    body: dict[str, Any]


class AuthState:
    """The fake's credential chain; `required` makes every API call need a live token."""

    def __init__(self, lock: threading.RLock, domain: str) -> None:
        self.lock = lock
        self.domain = domain
        self.reset()

    def reset(self) -> None:
        self.required = False
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.delegation: dict[str, set[str]] = {}  # the Admin console: client id -> scopes
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> principal
        self.tokens: dict[str, Token] = {}
        self.grants: list[dict[str, Any]] = []  # every jwt-bearer grant asked, with outcome
        self.signatures = 0
        self.token_endpoint = ""

    # --- set up, as an admin would ----------------------------------------------------

    def add_service_account(self, email: str, *, token_creators: set[str] | None = None) -> str:
        """Create a service account; return its client id (what the Admin console takes)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        client_id = str(100000000000000000000 + len(self.service_accounts) + 1)
        self.service_accounts[email] = ServiceAccount(
            email, client_id, key, secrets.token_hex(20), set(token_creators or ())
        )
        return client_id

    def authorise(self, client_id: str, scopes: set[str] | list[str]) -> None:
        """Domain-wide delegation in the Admin console: the client id may ask these scopes."""
        self.delegation[client_id] = set(scopes)

    def adc_file(self, principal: str) -> dict[str, Any]:
        """Return an `authorized_user` ADC file's content whose tokens come from this fake."""
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = principal
        return {
            "type": "authorized_user",
            "client_id": SOURCE_CLIENT_ID,
            "client_secret": SOURCE_CLIENT_SECRET,
            "refresh_token": refresh,
            "token_uri": self.token_endpoint,
        }

    # --- what API calls see -----------------------------------------------------------

    def acting_as(self, headers: dict[str, str]) -> str | None:
        """Return the user a request acts as; raise 401 when a token is required and bad."""
        value = headers.get("authorization", "")
        token = self.tokens.get(value[7:]) if value.lower().startswith("bearer ") else None
        if token is not None and token.expires > time.time():
            return token.acting_as
        if self.required:
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                "authError",
                location="Authorization",
                location_type="header",
            )
        return None

    def check_scopes(self, headers: dict[str, str], accepted: list[str]) -> None:
        """Raise 403 as Google does when the request's token carries none of the scopes
        the method accepts (a request without a token is left to `acting_as`)."""
        value = headers.get("authorization", "")
        token = self.tokens.get(value[7:]) if value.lower().startswith("bearer ") else None
        if token is None or not accepted or token.scopes & set(accepted):
            return
        raise ApiError(
            403,
            "Request had insufficient authentication scopes.",
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        )

    # --- the endpoints ----------------------------------------------------------------

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        """Answer the token endpoint and the IAM signer; None for any other path."""
        if method == "POST" and path == "/token":
            return self._token(body)
        if method == "POST" and path.startswith(SIGN_PREFIX) and ":sign" in path:
            email, _, verb = path[len(SIGN_PREFIX) :].partition(":")
            return self._sign(urllib.parse.unquote(email), verb, headers, body)
        return None

    def _token(self, body: bytes) -> AuthReply:
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        with self.lock:
            if grant == "refresh_token":
                return self._refresh(form)
            if grant == JWT_BEARER:
                reply = self._jwt_bearer(form.get("assertion", ""))
                self.grants.append({"status": reply.status, **reply.body})
                return reply
        return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")

    def _refresh(self, form: dict[str, str]) -> AuthReply:
        if form.get("client_id") != SOURCE_CLIENT_ID:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        principal = self.refresh_tokens.get(form.get("refresh_token", ""))
        if principal is None:
            return _oauth_error(400, "invalid_grant", "Bad Request")
        scopes = frozenset((form.get("scope") or CLOUD_PLATFORM).split())
        return self._issue(principal, principal, scopes)

    def _jwt_bearer(self, assertion: str) -> AuthReply:
        try:
            head, payload, signature = assertion.split(".")
            claims = json.loads(b64url_decode(payload))
        except ValueError:
            return _oauth_error(400, "invalid_grant", "Invalid JWT: malformed")
        account = self.service_accounts.get(str(claims.get("iss", "")))
        if account is None or not _verifies(account, f"{head}.{payload}", signature):
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        # "When making an access token request this value is always
        # https://oauth2.googleapis.com/token" (Google's OAuth 2.0 for service accounts),
        # wherever the request is sent.
        if claims.get("aud") != GOOGLE_TOKEN_URI:
            return _oauth_error(400, "invalid_grant", "Invalid JWT: audience is not the token URI")
        now, iat, exp = time.time(), claims.get("iat", 0), claims.get("exp", 0)
        if not (exp > now and exp - iat <= TOKEN_LIFETIME and iat <= now + 300):
            return _oauth_error(
                400,
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scopes = frozenset(str(claims.get("scope", "")).split())
        subject = claims.get("sub")
        if not subject:
            return self._issue(account.email, account.email, scopes)
        if not str(subject).lower().endswith("@" + self.domain):
            return _oauth_error(400, "invalid_grant", "Invalid email or User ID")
        allowed = self.delegation.get(account.client_id, set())
        if not scopes or not scopes <= allowed:
            return _oauth_error(
                401,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or "
                "client not authorized for any of the scopes requested.",
            )
        return self._issue(account.email, str(subject), scopes)

    def _issue(self, principal: str, acting_as: str, scopes: frozenset[str]) -> AuthReply:
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self.tokens[token] = Token(principal, acting_as, scopes, time.time() + TOKEN_LIFETIME)
        body = {
            "access_token": token,
            "expires_in": TOKEN_LIFETIME - 1,
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
        }
        return AuthReply(200, body)

    def _sign(self, email: str, verb: str, headers: dict[str, str], body: bytes) -> AuthReply:
        value = headers.get("authorization", "")
        with self.lock:
            token = self.tokens.get(value[7:]) if value.lower().startswith("bearer ") else None
            if token is None or token.expires <= time.time():
                raise ApiError(401, "Request had invalid authentication credentials.", "authError")
            if not token.scopes & {CLOUD_PLATFORM, IAM_SCOPE}:
                raise ApiError(
                    403,
                    "Request had insufficient authentication scopes.",
                    "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                )
            account = self.service_accounts.get(email)
            if account is None or token.principal not in account.token_creators:
                raise ApiError(
                    403,
                    f"Permission 'iam.serviceAccounts.{verb}' denied on resource (or it may "
                    "not exist).",
                    "IAM_PERMISSION_DENIED",
                )
            self.signatures += 1
        request = json.loads(body or b"{}")
        if verb == "signJwt":
            claims = base64.urlsafe_b64encode(str(request["payload"]).encode()).rstrip(b"=")
            head = base64.urlsafe_b64encode(
                json.dumps({"alg": "RS256", "typ": "JWT", "kid": account.key_id}).encode()
            ).rstrip(b"=")
            signing_input = head + b"." + claims
            signature = base64.urlsafe_b64encode(_sign(account, signing_input)).rstrip(b"=")
            jwt = (signing_input + b"." + signature).decode()
            return AuthReply(200, {"keyId": account.key_id, "signedJwt": jwt})
        signed = _sign(account, base64.b64decode(request.get("payload", "")))
        return AuthReply(
            200, {"keyId": account.key_id, "signedBlob": base64.b64encode(signed).decode()}
        )


def _sign(account: ServiceAccount, data: bytes) -> bytes:
    return account.key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _verifies(account: ServiceAccount, signing_input: str, signature: str) -> bool:
    try:
        account.key.public_key().verify(
            b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except Exception:
        return False
    return True


def _oauth_error(status: int, error: str, description: str) -> AuthReply:
    return AuthReply(status, {"error": error, "error_description": description})


def public_pem(account: ServiceAccount) -> bytes:
    """The account's public key (PEM), as Google publishes it for its keys."""
    return account.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


SERVICE_ACCOUNT = "handover-app@agency-project.iam.gserviceaccount.com"


def keyless_delegation(
    fake: Any,
    adc_path: Any,
    *,
    token_creator: bool = True,
    scopes: Any = None,
    account: str = SERVICE_ACCOUNT,
) -> str:
    """Set the fake up as docs/deploy.md sets Google up, and write the runtime's ADC file.

    The service account gets "Service Account Token Creator" on itself (unless
    token_creator is False), its client id is allowed `scopes` (default: every scope the
    service asks) in the Admin console, and every API call then needs a token. Returns the
    ADC file's path, for GOOGLE_APPLICATION_CREDENTIALS.
    """
    from integrations.google.auth import SCOPES

    client_id = fake.auth.add_service_account(
        account, token_creators={account} if token_creator else set()
    )
    fake.auth.authorise(client_id, set(SCOPES) if scopes is None else set(scopes))
    fake.auth.required = True
    adc_path.write_text(json.dumps(fake.auth.adc_file(account)))
    return str(adc_path)
