"""A loopback Google sign-in (OpenID Connect): discovery, keys (JWKS) and the token endpoint.

ID tokens are signed with an RSA key made for the run; `forged_key` is another key with
the same key id, for tokens whose signature must not verify. `sign_in` walks a Flask test
client through `/login` -> Google -> `/auth/callback` with the claims a test chooses.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "handover-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-oauth-client-secret"  # noqa: S105 - a test value
KID = "test-key-1"


class FakeGoogleSignIn:
    """Google's OpenID endpoints on 127.0.0.1, with codes that map to chosen ID tokens."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"})
        self.forged_key = RSAKey.generate_key(2048, parameters={"kid": KID})
        self._codes: dict[str, str] = {}
        self.token_requests: list[dict[str, list[str]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.issuer = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def start(self) -> FakeGoogleSignIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.url}/o/oauth2/v2/auth",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/oauth2/v3/certs",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def id_token(
        self,
        *,
        nonce: str | None,
        email: str = "ada@agency.example",
        hd: str | None = "agency.example",
        aud: str = CLIENT_ID,
        iss: str | None = None,
        expires_in: int = 3600,
        email_verified: bool = True,
        key: RSAKey | None = None,
        **extra: Any,
    ) -> str:
        """Return a signed ID token with these claims (None leaves a claim out)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": iss or self.issuer,
            "aud": aud,
            "azp": aud,
            "sub": hashlib.sha256(email.encode()).hexdigest()[:20],
            "email": email,
            "email_verified": email_verified,
            "iat": now - 5,
            "exp": now + expires_in,
            "nonce": nonce,
            "hd": hd,
            **extra,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode({"alg": "RS256", "kid": KID}, claims, key or self.key)

    def issue(self, id_token: str) -> str:
        """Return an authorization code that the token endpoint trades for this ID token."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = id_token
        return code

    def redeem(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        code = (form.get("code") or [""])[0]
        id_token = self._codes.pop(code, None)  # a code works once
        if id_token is None:
            return 400, {"error": "invalid_grant", "error_description": "Bad code."}
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 3599,
            "scope": "openid email profile",
            "id_token": id_token,
        }


def _handler(fake: FakeGoogleSignIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path == "/.well-known/openid-configuration":
                self._send(200, fake.discovery())
            elif path == "/oauth2/v3/certs":
                self._send(200, fake.jwks())
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            if urlsplit(self.path).path != "/token":
                self._send(404, {"error": "not_found"})
                return
            self._send(*fake.redeem(form))

    return Handler


def start_login(client: Any, next_path: str = "") -> dict[str, str]:
    """GET /login on a Flask test client; return the authorization request's parameters."""
    answer = client.get("/login" + (f"?next={next_path}" if next_path else ""))
    assert answer.status_code == 302, answer.status_code
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def sign_in(client: Any, fake: FakeGoogleSignIn, **claims: Any) -> Any:
    """Walk the client through Google's sign-in with an ID token of these claims."""
    params = start_login(client)
    token = claims.pop("token", None) or fake.id_token(nonce=params["nonce"], **claims)
    code = fake.issue(token)
    return client.get(f"/auth/callback?code={code}&state={params['state']}")
