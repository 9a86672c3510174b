"""Signing up, signing in (with the second factor for staff), signing out, changing the password."""
from __future__ import annotations

import time

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from portal.access import authenticated, public
from portal.auth.forms import ChangePasswordForm, CodeForm, LoginForm, SignUpForm
from portal.extensions import db, limiter
from portal.services import accounts
from portal.services import auth as auth_service
from portal.services.auth import Outcome
from portal.services.errors import ValidationFailed
from portal.services.throttle import Throttle
from portal.sessions import known_accounts, start_session
from portal.web import actor, errors_onto_form, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")
PENDING_SECONDS = 300
ROLE_HOME = {"landlord": "landlord.home", "employer": "employer.home", "officer": "officer.home",
             "admin": "admin.home", "auditor": "admin.audit_log", "clerk": "clerk.home"}
SIGN_UP_ROLES = ("landlord", "employer")


def home_url(user) -> str:
    return url_for(ROLE_HOME[str(user.role)])


def _limits() -> dict:
    return {"limits": Throttle.from_config(current_app.config), "known": known_accounts()}


# One answer for an unknown phone, a wrong password and an account or address that must wait: none of them
# tells an attacker which it was.
WRONG = _l("The phone number or password is not right. After several failed attempts, wait a few minutes "
           "before you try again.")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        outcome, user = auth_service.check_password(db.session, form.phone.data, form.password.data, actor(),
                                                    **_limits())
        db.session.commit()  # every outcome: a refusal keeps its failure count and audit row
        if outcome is Outcome.ok:
            start_session(user)
            return redirect(safe_next(form.next.data, home_url(user)))
        if outcome in (Outcome.needs_totp, Outcome.needs_enrolment):
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            session.update(pending_uid=user.id, pending_sv=user.session_version, pending_at=time.time(),
                           pending_next=safe_next(form.next.data, ""))
            return redirect(url_for("auth.enrol" if outcome is Outcome.needs_enrolment else "auth.two_factor"))
        form.form_errors.append(WRONG)
    return render_template("auth/login.html", form=form)


def _pending_user():
    """The staff member who passed the password step in this browser within the last five minutes."""
    uid, version, at = session.get("pending_uid"), session.get("pending_sv"), session.get("pending_at", 0)
    if uid is None or time.time() - at > PENDING_SECONDS:
        return None
    user = auth_service.user_by_id(db.session, uid)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _finish_second_factor(user):
    target = session.get("pending_next") or ""
    start_session(user)
    return redirect(safe_next(target, home_url(user)))


def _code_outcome_error(form, outcome):
    messages = {
        Outcome.throttled: _l("Too many wrong codes. Wait a few minutes, then enter the code your app shows."),
        Outcome.replayed: _l("This code has been used already. Wait for the next code and enter it."),
        Outcome.bad_credentials: _l("This code is not right. Enter the 6 digits your app shows now."),
    }
    form.code.errors = [messages[outcome]]


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@public
def two_factor():
    user = _pending_user()
    if user is None or not user.totp_confirmed:
        flash(_l("Sign in again to continue."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        outcome = auth_service.verify_totp(db.session, user, form.code.data, actor(), **_limits())
        db.session.commit()  # every outcome: a wrong or replayed code is counted and audited
        if outcome is Outcome.ok:
            return _finish_second_factor(user)
        _code_outcome_error(form, outcome)
    return render_template("auth/two_factor.html", form=form)


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@public
def enrol():
    user = _pending_user()
    if user is None or user.totp_confirmed:
        flash(_l("Sign in again to continue."), "info")
        return redirect(url_for("auth.login"))
    secret = auth_service.start_enrolment(db.session, user)
    db.session.commit()  # the secret to enrol is kept until a code confirms it
    form = CodeForm()
    if form.validate_on_submit():
        outcome = auth_service.verify_totp(db.session, user, form.code.data, actor(), enrolling=True, **_limits())
        db.session.commit()
        if outcome is Outcome.ok:
            return _finish_second_factor(user)
        _code_outcome_error(form, outcome)
    qr = segno.make(auth_service.provisioning_uri(user), error="m").svg_data_uri(scale=4, border=2)
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/enrol.html", form=form, qr=qr, secret=spaced)


@bp.route("/sign-up/<role>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@public
def sign_up(role: str):
    if role not in SIGN_UP_ROLES:
        return render_template("errors/error.html", code=404, title=_l("Page not found"), message=""), 404
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = SignUpForm(next=request.args.get("next", ""))
    if form.is_submitted() and not form.validate():
        # Every problem at once: the service's checks run even when the form found some (one per field).
        found = accounts.sign_up_errors(db.session, name=form.name.data, phone=form.phone.data,
                                        id_number=form.id_number.data, password=form.password.data)
        found = [e for e in found if not (e.field and getattr(form, e.field).errors)]
        if found:
            errors_onto_form(form, ValidationFailed(found))
    elif form.is_submitted():
        try:
            accounts.sign_up(db.session, role=role, name=form.name.data, phone=form.phone.data,
                             id_number=form.id_number.data, password=form.password.data, actor=actor())
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            db.session.commit()  # the account, or the refusal's audit row (the same answer either way)
            # The same answer whether or not the phone had an account already: a new account is not signed
            # in here, its owner signs in next, as the owner of an existing one would (and goes on to `next`).
            flash(_l("If this phone number could be registered, your account is ready: sign in with the phone "
                     "number and the password you chose. If the number has an account already, sign in with "
                     "its password."), "success")
            return redirect(url_for("auth.login", next=safe_next(form.next.data, "") or None))
    return render_template("auth/sign_up.html", form=form, role=role)


@bp.route("/change-password", methods=["GET", "POST"])
@authenticated
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(db.session, user, current=form.current_password.data,
                                     new=form.new_password.data, actor=actor(),
                                     limits=Throttle.from_config(current_app.config))
        except ValidationFailed as failure:
            db.session.commit()  # a wrong current password still counts (accounts.change_password)
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            start_session(user)  # the version changed: every other session of this user is now dead
            flash(_l("Your password has been changed."), "success")
            return redirect(home_url(user))
    return render_template("auth/change_password.html", form=form)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    if current_user.is_authenticated:
        auth_service.end_session(db.session, current_user._get_current_object(), actor())
        db.session.commit()
        logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_l("You have signed out."), "info")
    return redirect(url_for("auth.login"))
