"""Bearer-token access for the API: one decorator that authenticates, rate-limits per token and per account,
and tags views.

API requests carry no session: neither a session cookie nor CSRF applies under /api/, and nothing under
/api/ ever sets a cookie.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, current_app, g, request
from flask.sessions import SessionInterface
from flask_limiter import RateLimitExceeded
from limits.errors import StorageError
from sqlalchemy.exc import OperationalError

from portal.api.problems import ApiProblem, is_api_path
from portal.db import write_intent, writing
from portal.extensions import db, limiter
from portal.models import Role
from portal.services import audit, tokens

log = logging.getLogger("portal")


# Two limits on every request with a valid token, counted by Flask-Limiter in the app's rate-limit storage:
# the token's own, and its account's (all the account's tokens together, so that more tokens do not buy more
# requests). Shared limits, so that each counts the caller's requests to every endpoint together.
_per_token = limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api-token",
                                  key_func=lambda: str(g.api_token.id))
_per_account = limiter.shared_limit(lambda: current_app.config["API_ACCOUNT_RATE_LIMIT"], scope="api-account",
                                    key_func=lambda: str(g.api_token.user_id))


def _limit_caller(view: Callable) -> Callable:
    """The view behind both limits: Flask-Limiter counts the request against each when the view is called
    (after the token is known) and refuses it with RateLimitExceeded, a 429, beyond either."""
    return _per_account(_per_token(view))


def retry_after() -> int:
    """Seconds until the window that refused this request ends."""
    refused = limiter.current_limit
    return max(1, math.ceil(refused.window.reset_time - time.time())) if refused is not None else 60


def rate_headers() -> dict[str, str]:
    """X-RateLimit-* of the window nearer its end: the one that refused the request, else the one with fewer
    requests left (the token's when they are even). Nothing when the requests were not counted."""
    counted = limiter.current_limits
    if not counted:
        return {}
    breached = [c for c in counted if c.breached]
    shown = breached[0] if breached else min(counted, key=lambda c: c.remaining)
    return {"X-RateLimit-Limit": str(shown.limit.amount), "X-RateLimit-Remaining": str(shown.remaining),
            "X-RateLimit-Reset": str(math.ceil(shown.window.reset_time))}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _authenticate(raw: str | None):
    """The token lookup, then the token's last use, at most once a minute, in a short write of its own.

    On PostgreSQL the lookup is the first statement of the request's own transaction, which the request's
    work continues. On SQLite a POST's transaction holds the database's one write lock from its first
    statement: there the lookup (and then the rate limit) runs in a short read transaction of its own that
    this layer ends, so that the other worker can write meanwhile, and the work begins a transaction after."""
    if not tokens.well_formed(raw):
        return None
    if db.is_sqlite:
        intent = write_intent.set(False)
        try:
            token = tokens.authenticate(db.session, raw)
            db.session.commit()  # nothing written: ends the read
        finally:
            write_intent.reset(intent)
    else:
        token = tokens.authenticate(db.session, raw)
    if token is not None and tokens.touch_due(token):
        db.session.commit()  # nothing written: the touch is a transaction of its own, kept if the request fails
        try:
            with writing():
                tokens.touch(db.session, token)
                db.session.commit()
        except OperationalError:  # a busy database must not fail the request for a bookkeeping write
            db.session.rollback()
    return token


def api_token_required(view: Callable | None = None, *, roles: tuple[Role, ...] = tokens.API_ROLES):
    """The caller is the owner of a live token and acts exactly as in the owner's web session: a view for
    other roles is a 404, as the web pages of another role are. Tags the view "api"."""
    if view is None:
        return lambda v: api_token_required(v, roles=roles)

    @wraps(view)
    def for_roles(*args, **kwargs):
        if g.api_user.role not in roles:
            raise ApiProblem("not_found")
        return view(*args, **kwargs)

    limited = _limit_caller(for_roles)

    @wraps(view)
    def wrapper(*args, **kwargs):
        raw = _bearer()
        token = _authenticate(raw)
        if token is None:
            header = 'Bearer realm="api"' + (', error="invalid_token"' if raw else "")
            raise ApiProblem("unauthorized", headers={"WWW-Authenticate": header})
        g.api_token, g.api_user = token, token.user
        try:
            return limited(*args, **kwargs)
        except RateLimitExceeded:
            raise ApiProblem("too_many_requests", headers={"Retry-After": str(retry_after())}) from None

    wrapper.access = "api"
    return wrapper


landlord_token_required = api_token_required(roles=(Role.landlord,))
employer_token_required = api_token_required(roles=(Role.employer,))


def api_user():
    return g.api_user


def current_token_id() -> int:
    return g.api_token.id


def api_actor() -> audit.Actor:
    return audit.Actor(user=g.api_user, ip=request.remote_addr, request_id=g.get("request_id"))


class _NoSessionUnderApi(SessionInterface):
    """The app's own session handling everywhere but under /api/, where every request gets a null session:
    a browser's session cookie neither authenticates an API call nor is refreshed by one."""

    def __init__(self, inner: SessionInterface) -> None:
        self.inner = inner

    def open_session(self, app, request):
        if is_api_path(request.path):
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app, session, response) -> None:
        return self.inner.save_session(app, session, response)

    def make_null_session(self, app):
        return self.inner.make_null_session(app)

    def is_null_session(self, obj) -> bool:
        return self.inner.is_null_session(obj)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def init_blueprint(bp: Blueprint) -> None:
    def install(state) -> None:
        app: Flask = state.app
        if not isinstance(app.session_interface, _NoSessionUnderApi):
            app.session_interface = _NoSessionUnderApi(app.session_interface)

    bp.record_once(install)

    @bp.after_request
    def add_rate_headers(response):
        if "api_token" in g and limiter.enabled:
            try:
                headers = rate_headers()
            except StorageError:  # the storage failed after counting: the answer goes without the headers
                headers = {}
            if not headers:
                log.warning("rate-limit storage unavailable: API request of token %s not counted", g.api_token.id)
            response.headers.update(headers)
        return response
