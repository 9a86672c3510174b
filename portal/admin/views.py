"""Administrators manage accounts; auditors read the audit log. Separate duties, separate views."""
from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.access import admin_required, auditor_required
from portal.admin import bp
from portal.admin.forms import AuditFilterForm
from portal.extensions import db
from portal.services import admin, record_access
from portal.services.errors import NotFound
from portal.services.identity import mask_phone
from portal.services.throttle import Throttle
from portal.web import actor


@bp.route("/")
@admin_required
def home():
    after = request.args.get("after", 0, type=int)
    users = admin.list_accounts(db.session, after_id=after, admin=current_user)
    attacked = admin.accounts_under_attack(db.session, Throttle.from_config(current_app.config), current_user)
    return render_template("admin/home.html", users=users, attacked=attacked, form=FlaskForm(),
                           next_after=users[-1].id if len(users) == admin.PAGE else None)


@bp.route("/accounts/<int:user_id>/unlock", methods=["POST"])
@admin_required
def unlock(user_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        user = admin.unlock_account(db.session, current_user, user_id, actor())
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_l("The failed attempts of account %(phone)s are cleared: it may sign in at once.",
             phone=mask_phone(user.phone)), "success")
    return redirect(url_for("admin.home"))


def _audit_filter() -> tuple[AuditFilterForm, admin.AuditFilter | None]:
    """The filter in the query string; None when a field does not validate (a date that is not one): the page
    says so at the field, and never shows or exports more than was asked for."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        return form, None
    return form, admin.AuditFilter(**{name: field.data or None for name, field in form._fields.items()})


def _audit_page(form, events, status=200, next_before=None):
    query = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template("admin/audit.html", events=events, form=form, query=query,
                           action_label=admin.action_label, outcome_label=admin.outcome_label,
                           next_before=next_before), status


@bp.route("/audit")
@auditor_required
def audit_log():
    form, f = _audit_filter()
    if f is None:
        return _audit_page(form, [], 400)
    before = request.args.get("before", None, type=int)
    events = admin.audit_log(db.session, f, before_id=before)
    return _audit_page(form, events, next_before=events[-1].id if len(events) == admin.PAGE else None)


@bp.route("/audit/export.csv")
@auditor_required
def audit_export():
    form, f = _audit_filter()
    if f is None:
        return _audit_page(form, [], 400)
    data = admin.export_audit_log(db.session, f, actor())
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype="text/csv", as_attachment=True,
                     download_name=f"audit-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv")


@bp.route("/holds")
@auditor_required
def holds():
    """The investigations' holds on people's own view of who read their record (services/record_access.py)."""
    return render_template("admin/holds.html", holds=record_access.holds(db.session), form=FlaskForm(),
                           requests=record_access.hold_requests(db.session),
                           action_label=admin.action_label, days=current_app.config["ACCESS_HOLD_DAYS"],
                           hold_stamp=record_access.hold_stamp)


def _decide_hold(decide, done):
    """Approve or refuse an officer's request for a hold (four eyes), then the holds page again."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        decide()
    except record_access.NoRequest:
        flash(_l("This request was decided already, or there is none: nothing was changed."), "info")
        return redirect(url_for("admin.holds"))
    except record_access.OwnAct:
        db.session.commit()  # the refusal is audited
        flash(_l("This is a request about an act of your own: another auditor decides it."), "error")
        return redirect(url_for("admin.holds"))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("admin.holds"))


@bp.route("/holds/<int:event_id>/approve", methods=["POST"])
@auditor_required
def approve_hold(event_id: int):
    days = current_app.config["ACCESS_HOLD_DAYS"]
    return _decide_hold(lambda: record_access.approve_hold(db.session, current_user, event_id, days=days,
                                                           actor=actor()),
                        _l("The hold is approved: the entries are hidden from the people for %(days)d days.",
                           days=days))


@bp.route("/holds/<int:event_id>/refuse", methods=["POST"])
@auditor_required
def refuse_hold(event_id: int):
    return _decide_hold(lambda: record_access.refuse_hold(db.session, current_user, event_id, actor=actor()),
                        _l("The hold is refused: the people see the entries."))


@bp.route("/holds/<int:event_id>/extend", methods=["POST"])
@auditor_required
def extend_hold(event_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        until = record_access.extend_hold(db.session, current_user, event_id,
                                          days=current_app.config["ACCESS_HOLD_DAYS"], actor=actor(),
                                          expected=request.form.get("until") or "")
    except record_access.NoHold:
        flash(_l("This hold has ended already: it cannot be extended."), "error")
        return redirect(url_for("admin.holds"))
    except record_access.ExtendedAlready as already:
        flash(_l("This hold was extended already, to %(day)s: nothing was changed.",
                 day=already.until.date().isoformat()), "info")
        return redirect(url_for("admin.holds"))
    db.session.commit()
    flash(_l("The hold is extended to %(day)s.", day=until.date().isoformat()), "success")
    return redirect(url_for("admin.holds"))


@bp.route("/holds/<int:event_id>/end", methods=["POST"])
@auditor_required
def end_hold(event_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        record_access.end_hold(db.session, current_user, event_id, actor=actor())
    except record_access.NoHold:
        flash(_l("This hold has ended already: nothing was changed."), "info")
        return redirect(url_for("admin.holds"))
    db.session.commit()
    flash(_l("The hold is ended: the people see the entries from now on."), "success")
    return redirect(url_for("admin.holds"))
