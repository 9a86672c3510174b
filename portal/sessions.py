"""Server-checked sessions: revocable by version, idle and absolute timeouts, forced password change."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from portal.extensions import db, login_manager
from portal.services import auth as auth_service
from portal.web import actor

if TYPE_CHECKING:
    from portal.models import User

# A browser remembers, in a signed cookie, the accounts that signed in in it: their attempts from it skip the
# delays that failures elsewhere caused (services/throttle.py), so an attacker cannot keep the owner out.
DEVICE_SALT = "known-device"
DEVICE_ACCOUNTS = 5  # a shared computer: the last few accounts

# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_EXEMPT = {"auth.change_password", "auth.logout", "public.set_language", "static"}


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Sign in to see this page.")
    login_manager.session_protection = None  # the server-side session version does this job

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        try:
            uid, version = (int(p) for p in token.split(":"))
        except ValueError:
            return None
        return auth_service.signed_in_user(db.session, uid, version)

    app.after_request(remember_device)

    @app.before_request
    def check_timeouts():
        if request.path.startswith("/api/") or not current_user.is_authenticated:  # the API has no session
            return None
        now = time.time()
        idle_minutes = app.config["STAFF_IDLE_MINUTES" if current_user.role.is_staff else "REPORTER_IDLE_MINUTES"]
        started = session.get("auth_at", 0)
        seen = session.get("seen_at", started)
        if now - seen > idle_minutes * 60 or now - started > app.config["ABSOLUTE_SESSION_HOURS"] * 3600:
            # Only this browser's session ends: its times are in its own signed cookie, so a copy of it stays
            # dead without bumping the session version, which would end the user's other, active sessions.
            auth_service.record_timeout(db.session, current_user._get_current_object(), actor())
            db.session.commit()
            logout_user()
            session.clear()
            flash(_l("You were signed out because you were inactive for a while. Sign in again."), "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        session["seen_at"] = now
        if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_EXEMPT:
            return redirect(url_for("auth.change_password"))
        return None


def start_session(user: User) -> None:
    """Begin a fresh session: nothing from before sign-in survives (session fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user, remember=False)
    session.permanent = True
    session["auth_at"] = session["seen_at"] = time.time()
    g.remember_device_for = user.id


def _device_cookie() -> str:
    return "__Host-device" if current_app.config["SESSION_COOKIE_SECURE"] else "device"


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def known_accounts() -> frozenset[int]:
    """The accounts that signed in successfully in this browser within LOGIN_DEVICE_DAYS."""
    raw = request.cookies.get(_device_cookie())
    if not raw:
        return frozenset()
    try:
        ids = _devices().loads(raw, max_age=current_app.config["LOGIN_DEVICE_DAYS"] * 86400)
    except BadData:
        return frozenset()
    return frozenset(i for i in ids if type(i) is int) if isinstance(ids, list) else frozenset()


def remember_device(response):
    uid = g.pop("remember_device_for", None)
    if uid is not None:
        ids = [uid, *sorted(known_accounts() - {uid})][:DEVICE_ACCOUNTS]
        response.set_cookie(_device_cookie(), _devices().dumps(ids),
                            max_age=current_app.config["LOGIN_DEVICE_DAYS"] * 86400, path="/",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
    return response
