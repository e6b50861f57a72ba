"""Error answers: JSON under /api/, a plain page elsewhere; never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
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


def error_response(status: int, message: str, **extra: object) -> tuple[Response, int]:
    """Return a JSON error body with a message."""
    return jsonify({"error": message, **extra}), status


def register(app: Flask) -> None:
    """Install the error handlers."""

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
            return error_response(status, message)
        return render_template("error.html", status=status, message=message), status
