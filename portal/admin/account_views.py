"""Administrators manage staff accounts: create, change role or station, disable and enable, reset a lost
authenticator, see and end sessions. The rules are the service's (services/staff_accounts.py)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.access import admin_required
from portal.admin import bp
from portal.admin.forms import AccountForm, EditAccountForm
from portal.extensions import db
from portal.i18n import ROLE_NAMES
from portal.services import jurisdiction, staff_accounts
from portal.services.errors import ValidationFailed
from portal.web import actor, errors_onto_form


def _choices(form) -> None:
    form.role.choices = [("", str(_l("Choose a role")))] + [(r.value, str(ROLE_NAMES[r.value]))
                                                            for r in staff_accounts.STAFF_ROLES]
    none = _l("None: every bureau") if jurisdiction.manages_everything(current_user) else _l("Choose one")
    form.where.choices = [("", str(none))] + staff_accounts.where_choices(db.session, current_user)


@bp.route("/accounts/new", methods=["GET", "POST"])
@admin_required
def new_account():
    form = AccountForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            user, initial = staff_accounts.create(db.session, current_user, role=form.role.data,
                                                  phone=form.phone.data, name=form.name.data,
                                                  where=form.where.data, actor=actor())
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            # Shown once, in the answer to the POST (not kept anywhere to show again): no redirect.
            return render_template("admin/account_created.html", user=user, initial=initial)
    return render_template("admin/account_new.html", form=form), 400 if form.errors else 200


def _account_page(user, edit: EditAccountForm | None = None):
    if edit is None:
        edit = EditAccountForm(role=user.role.value, where=staff_accounts.where_of(user))
    _choices(edit)
    hours = current_app.config["ABSOLUTE_SESSION_HOURS"]
    sessions = staff_accounts.open_sessions(db.session, current_user, user.id, absolute_hours=hours)
    idle = current_app.config["STAFF_IDLE_MINUTES" if user.role.is_staff else "REPORTER_IDLE_MINUTES"]
    return render_template("admin/account.html", user=user, edit=edit, form=FlaskForm(), sessions=sessions,
                           idle_minutes=idle, absolute_hours=hours,
                           is_staff=user.role in staff_accounts.STAFF_ROLES, is_self=user.id == current_user.id,
                           where=jurisdiction.describe(user)), 400 if edit.errors else 200


@bp.route("/accounts/<int:user_id>")
@admin_required
def account(user_id: int):
    return _account_page(staff_accounts.account(db.session, current_user, user_id))


@bp.route("/accounts/<int:user_id>/edit", methods=["POST"])
@admin_required
def edit_account(user_id: int):
    user = staff_accounts.account(db.session, current_user, user_id)
    form = EditAccountForm()
    if form.validate_on_submit():
        try:
            staff_accounts.change(db.session, current_user, user.id, role=form.role.data, where=form.where.data,
                                  actor=actor())
        except ValidationFailed as failure:
            db.session.commit()  # a refusal keeps its audit row
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            flash(_l("The account is changed; its sessions have ended."), "success")
            return redirect(url_for("admin.account", user_id=user.id))
    return _account_page(user, form)


def _act(user_id: int, act, done):
    """One of the account's buttons: do it, or say why not (the refusal is audited), then the account page."""
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            act()
        except ValidationFailed as failure:
            db.session.commit()
            for err in failure.errors:
                flash(err.message, "error")
        else:
            db.session.commit()
            flash(done, "success")
    else:
        flash(_l("This form expired. Press the button again."), "error")
    return redirect(url_for("admin.account", user_id=user_id))


@bp.route("/accounts/<int:user_id>/disable", methods=["POST"])
@admin_required
def disable_account(user_id: int):
    return _act(user_id, lambda: staff_accounts.set_active(db.session, current_user, user_id, False, actor()),
                _l("The account is disabled: it cannot sign in, and its sessions have ended."))


@bp.route("/accounts/<int:user_id>/enable", methods=["POST"])
@admin_required
def enable_account(user_id: int):
    return _act(user_id, lambda: staff_accounts.set_active(db.session, current_user, user_id, True, actor()),
                _l("The account is enabled again: it may sign in."))


@bp.route("/accounts/<int:user_id>/reset-authenticator", methods=["POST"])
@admin_required
def reset_authenticator(user_id: int):
    return _act(user_id, lambda: staff_accounts.reset_authenticator(db.session, current_user, user_id, actor()),
                _l("The authenticator is reset: at the next sign-in the account sets up a new one."))


@bp.route("/accounts/<int:user_id>/end-sessions", methods=["POST"])
@admin_required
def end_sessions(user_id: int):
    return _act(user_id, lambda: staff_accounts.end_sessions(db.session, current_user, user_id, actor()),
                _l("Every session of the account has ended."))
