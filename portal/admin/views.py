"""Administrators manage accounts; auditors read the audit log. Separate duties, separate views."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from portal.access import admin_required, auditor_required
from portal.extensions import db
from portal.services import admin
from portal.services.errors import NotFound
from portal.services.identity import mask_phone
from portal.services.throttle import Throttle
from portal.web import actor

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@admin_required
def home():
    after = request.args.get("after", 0, type=int)
    users = admin.list_accounts(db.session, after_id=after)
    attacked = admin.accounts_under_attack(db.session, Throttle.from_config(current_app.config))
    return render_template("admin/home.html", users=users, attacked=attacked, form=FlaskForm(),
                           next_after=users[-1].id if len(users) == admin.PAGE else None)


@bp.route("/accounts/<int:user_id>/unlock", methods=["POST"])
@admin_required
def unlock(user_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        user = admin.unlock_account(db.session, user_id, actor())
    except NotFound:
        abort(404)
    flash(_l("The failed attempts of account %(phone)s are cleared: it may sign in at once.",
             phone=mask_phone(user.phone)), "success")
    return redirect(url_for("admin.home"))


@bp.route("/audit")
@auditor_required
def audit_log():
    before = request.args.get("before", None, type=int)
    events = admin.audit_log(db.session, before_id=before)
    return render_template("admin/audit.html", events=events,
                           next_before=events[-1].id if len(events) == admin.PAGE else None)
