"""Error answers: JSON under /api/, a plain page elsewhere; never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, abort, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be read.",
    401: "Sign in first (or send a bearer token).",
    403: "You may not do that here.",
    404: "Nothing here.",
    405: "That method is not allowed here.",
    413: "The request is too large.",
    415: "Send JSON (Content-Type: application/json).",
}


# The request part a JSON error names when the view did not name a field itself.
FIELDS = {
    400: "body",
    401: "Authorization",
    403: "Authorization",
    405: "method",
    413: "body",
    415: "Content-Type",
}


def _field(status: int) -> str:
    if g.get("error_field"):
        return str(g.error_field)
    if status == 404:
        return next(iter(request.view_args or {}), "path")
    return FIELDS.get(status, "request")


# The code of an error a view did not give one, by status.
CODES = {
    400: "bad_request",
    401: "sign_in_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "not_json",
    422: "invalid",
}


def error_response(status: int, message: str, **extra: object) -> tuple[Response, int]:
    """Return a JSON error body with a message; each error carries a code (by status unless
    the view gave one)."""
    errors = extra.get("errors")
    if isinstance(errors, list):
        default = str(g.get("error_code") or CODES.get(status, "error"))
        extra["errors"] = [
            {"field": e.get("field"), "code": e.get("code") or default, **e}
            if isinstance(e, dict)
            else e
            for e in errors
        ]
    return jsonify({"error": message, **extra}), status


def _nul_field() -> str | None:
    """Return the request part that holds a NUL character, if one does."""
    if "\x00" in request.path:
        return "path"
    for data in (request.args, request.form):
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return key
    return None


def register(app: Flask) -> None:
    """Install the error handlers."""

    @app.before_request
    def refuse_nul() -> None:
        # No field needs a NUL, and PostgreSQL refuses it in text: say 400, not 500.
        field = _nul_field()
        if field is not None:
            g.error_field = field
            abort(400, f"{field} holds a NUL character.")

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_template(
            "error.html",
            status=400,
            message=f"The form expired or was forged ({exc.description}). "
            "Go back, reload the page and submit again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        custom = exc.description != type(exc).description  # set by our own abort(..., text)
        message = exc.description if custom and exc.description else MESSAGES.get(status, "Error")
        if request.path.startswith(("/api/", "/tasks/", "/hooks/")):
            return error_response(
                status, message, errors=[{"field": _field(status), "message": message}]
            )
        return render_template("error.html", status=status, message=message), status
