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
from functools import cache, wraps

from flask import Blueprint, Flask, current_app, g, request
from flask.sessions import SessionInterface
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.exc import OperationalError

from portal import ratelimit
from portal.api.problems import ApiProblem, is_api_path
from portal.db import write_intent, writing
from portal.extensions import db, limiter
from portal.models import Role
from portal.services import audit, tokens

DEFAULT_RATE_LIMIT = ratelimit.API_DEFAULT
log = logging.getLogger("portal")


@cache
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def _rate_limits() -> tuple[RateLimitItem, RateLimitItem]:
    config = current_app.config
    return (_parsed(config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT),
            _parsed(config.get("API_ACCOUNT_RATE_LIMIT") or ratelimit.API_ACCOUNT_DEFAULT))


@limiter.request_filter
def _not_flask_limiters() -> bool:
    """Flask-Limiter leaves /api/ alone (its per-request check would find no limit there): the API's
    limits are counted below, per token and per account."""
    return is_api_path(request.path)


def _limit_caller(token_id: int, user_id: int) -> None:
    """Count one request against the token's fixed window and against its owner's (all the owner's tokens
    together, so that more tokens do not buy more requests), in the app's rate-limit storage; refuse it with
    429 and Retry-After beyond either limit. The X-RateLimit-* headers tell the window nearer its end: the one
    with fewer requests left, or the one that refused.

    The limits library directly rather than a Flask-Limiter decorator: the decorator's per-request work
    (resolving and filtering limits, its own before_request) cost API move-ins a tenth of their rate, and
    these two limits need none of it (bench/README.md)."""
    if not limiter.enabled:
        return
    token_limit, account_limit = _rate_limits()
    strategy = FixedWindowRateLimiter(limiter.storage)
    shown = None
    try:
        for item, scope, key in ((token_limit, "api", str(token_id)), (account_limit, "api-account", str(user_id))):
            allowed = strategy.hit(item, scope, key)
            reset, remaining = strategy.get_window_stats(item, scope, key)
            if shown is None or not allowed or remaining < shown[2]:
                shown = (item, reset, remaining)
            if not allowed:
                break
    except StorageError:  # the shared storage is down: serve, uncounted, rather than fail every request
        log.warning("rate-limit storage unavailable: API request of token %s not counted", token_id,
                    exc_info=True)
        return
    item, reset, remaining = shown
    g.api_rate_headers = {"X-RateLimit-Limit": str(item.amount), "X-RateLimit-Remaining": str(remaining),
                          "X-RateLimit-Reset": str(math.ceil(reset))}
    if not allowed:
        wait = max(1, math.ceil(reset - time.time()))
        raise ApiProblem("too_many_requests", headers={"Retry-After": str(wait)})


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _authenticate(raw: str | None):
    """The token lookup, in a short read transaction of its own that this layer ends (on SQLite a POST's
    transaction holds the database's one write lock from its first statement; the lookup and then the rate
    limit run outside it, so the other worker can write meanwhile), then the token's last use, at most once
    a minute, in a short write of its own. The request's work begins a transaction of its own after."""
    if not tokens.well_formed(raw):
        return None
    intent = write_intent.set(False)
    try:
        token = tokens.authenticate(db.session, raw)
        db.session.commit()  # nothing written: ends the read
    finally:
        write_intent.reset(intent)
    if token is not None and tokens.touch_due(token):
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
    def wrapper(*args, **kwargs):
        raw = _bearer()
        token = _authenticate(raw)
        if token is None:
            header = 'Bearer realm="api"' + (', error="invalid_token"' if raw else "")
            raise ApiProblem("unauthorized", headers={"WWW-Authenticate": header})
        g.api_token, g.api_user = token, token.user
        _limit_caller(token.id, token.user_id)
        if token.user.role not in roles:
            raise ApiProblem("not_found")
        return view(*args, **kwargs)

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
    def rate_headers(response):
        response.headers.update(g.get("api_rate_headers") or {})
        return response
