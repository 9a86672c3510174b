"""Per-request safety: request ids, deny-by-default access tags, write intent, security headers."""
from __future__ import annotations

import secrets

from flask import Flask, abort, g, request
from flask_login import current_user

from portal.db import write_intent

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
API = "/api/"
API_CSP = "default-src 'none'; frame-ancestors 'none'"  # JSON is never a page: nothing may load or frame it


def _holds_nul() -> bool:
    """A NUL character in the path or the query (werkzeug decodes both; bad UTF-8 becomes U+FFFD, so no lone
    surrogate can arrive this way). Form fields are checked where they are read, each with its message."""
    return "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True))


def _refuse_nul_in_api() -> None:
    """The API's answers: no such resource for a NUL in the path, a 422 naming each query parameter with one
    (as a JSON member with one is named)."""
    from portal.api.schemas import MESSAGES
    from portal.services.errors import FieldError, ValidationFailed

    if "\x00" in request.path:
        abort(404)
    names = sorted({k for k, v in request.args.items(multi=True) if "\x00" in k or "\x00" in v})
    raise ValidationFailed([FieldError("invalid_text", MESSAGES["invalid_text"], name.replace("\x00", "\\x00"))
                            for name in names])


def init_app(app: Flask) -> None:
    def begin_request():
        g.request_id = secrets.token_hex(8)
        if not request.path.startswith(API):
            g.csp_nonce = secrets.token_urlsafe(16)  # the API answers JSON: no script runs from it
        g.write_token = write_intent.set(request.method in WRITE_METHODS)
        if _holds_nul():  # never meant, and PostgreSQL cannot compare text with it
            if request.path.startswith(API):
                _refuse_nul_in_api()
            abort(400)
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and request.endpoint != "static" and not getattr(view, "access", None):
            abort(404)  # deny by default: a view nobody tagged is reachable by nobody

    # First of all before_request functions: the session check that runs before any view loads the user, and
    # on SQLite that read must already be in the write transaction (BEGIN IMMEDIATE). A read transaction
    # begun before another request's commit can never write: SQLite refuses it at once, without waiting.
    app.before_request_funcs.setdefault(None, []).insert(0, begin_request)

    @app.teardown_request
    def end_request(_exc):
        token = g.pop("write_token", None)
        if token is not None:
            write_intent.reset(token)

    @app.after_request
    def headers(response):
        _security_headers(response.headers, hsts=app.config["SESSION_COOKIE_SECURE"])
        return response


def _security_headers(h, *, hsts: bool) -> None:
    """The headers of every answer: its content policy, no sniffing or framing, and no caching of private pages."""
    if request.path.startswith(API):
        h["Content-Security-Policy"] = API_CSP
    else:
        h["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            f"script-src 'self' 'nonce-{g.get('csp_nonce', '')}'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'; frame-ancestors 'none'"
        )
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "strict-origin-when-cross-origin"
    h["X-Frame-Options"] = "DENY"
    h["Permissions-Policy"] = "camera=(self), geolocation=(), microphone=()"
    if hsts:
        h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if g.get("request_id"):
        h["X-Request-Id"] = g.request_id
    if request.path.startswith(("/auth/", API)) or current_user and current_user.is_authenticated:
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
