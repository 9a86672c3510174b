"""The officer's pages: the verification queue, items, decisions, address search."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import officer_required
from portal.extensions import db
from portal.forms import AddressSearchForm, choices
from portal.officer.forms import ConfirmCleanForm, DecisionForm, QueueFilterForm, RevealForm
from portal.services import addresses, flags, jurisdiction, queue, review, units
from portal.services.errors import NotFound, ValidationFailed
from portal.web import actor, errors_onto_form

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.context_processor
def unit_names():
    return {"unit_type_names": units.UNIT_TYPE_NAMES, "special_trade_names": units.SPECIAL_TRADE_NAMES,
            "unit_status_names": units.UNIT_STATUS_NAMES}


def _item_or_404(submission_id: int):
    try:
        return queue.item(db.session, current_user, submission_id)
    except NotFound:
        abort(404)


@bp.route("/")
@officer_required
def home():
    return redirect(url_for("officer.queue_view"))


@bp.route("/queue")
@officer_required
def queue_view():
    form = QueueFilterForm(request.args)
    beats = jurisdiction.beats_for(db.session, current_user)
    form.beat.choices = choices([("", _l("All beats"))] + [(str(b.id), b.name) for b in beats])
    filters = queue.Filters()
    if form.validate():
        filters = queue.Filters(kind=form.kind.data or None,
                                beat_id=int(form.beat.data) if form.beat.data else None,
                                flagged_only=form.flagged.data, late_only=form.late.data)
    filters.staff_import_id = request.args.get("upload", type=int)  # the rows of one staff-list upload
    page = queue.queue_page(db.session, current_user, filters, request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("officer/queue.html", form=form, page=page, args=args,
                           where=jurisdiction.describe(current_user),
                           total=queue.open_count(db.session, current_user), flag_label=flags.label,
                           upload_id=filters.staff_import_id)


def _render_item(sub, form=None, revealed=None, status=200):
    return render_template(
        "officer/item.html", sub=sub, form=form or DecisionForm(version=sub.version), reveal_form=RevealForm(),
        history=queue.house_history(db.session, sub), decisions=review.history(db.session, sub.id),
        elsewhere=queue.other_tenancies(db.session, sub), revealed=revealed or {}, flag_label=flags.label,
        reasons=review.REJECT_REASONS, unit=queue.unit_of_item(db.session, sub),
        other_jobs=queue.other_employments(db.session, sub),
        in_register=queue.register_entries(db.session, sub)), status


@bp.route("/items/<int:submission_id>")
@officer_required
def item(submission_id: int):
    try:
        sub = queue.view_item(db.session, current_user, submission_id, actor())
    except NotFound:
        abort(404)
    return _render_item(sub)


@bp.route("/items/<int:submission_id>/decide", methods=["POST"])
@officer_required
def decide(submission_id: int):
    sub = _item_or_404(submission_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_item(sub, form, status=400)
    try:
        review.transition(db.session, sub, form.action.data, current_user, actor(),
                          expected_version=int(form.version.data), reason_code=form.reason_code.data or None,
                          reason_text=form.reason_text.data)
    except review.DecidedAlready as conflict:
        flash(_l("%(who)s decided this item first (%(status)s, %(when)s). Nothing was changed.",
                 who=conflict.by or "—", status=review.status_label(conflict.status),
                 when=conflict.at.strftime("%Y-%m-%d %H:%M UTC") if conflict.at else "—"), "error")
        return redirect(url_for("officer.item", submission_id=sub.id))
    except ValidationFailed as failure:
        errors_onto_form(form, failure)
        return _render_item(sub, form, status=400)
    except (ValueError, PermissionError):
        flash(_l("This decision is not possible for this item any more."), "error")
        return redirect(url_for("officer.item", submission_id=sub.id))
    flash(_l("Decision saved."), "success")
    return redirect(url_for("officer.queue_view"))


@bp.route("/items/<int:submission_id>/reveal", methods=["POST"])
@officer_required
def reveal(submission_id: int):
    sub = _item_or_404(submission_id)
    form = RevealForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        number = queue.reveal_id(db.session, current_user, sub, form.person.data, actor(),
                                 per_hour=current_app.config["REVEALS_PER_HOUR"])
    except NotFound:
        abort(404)
    except queue.TooManyReveals:
        flash(_l("You have seen %(n)d full ID numbers in the last hour, the most an hour allows. The masked "
                 "number is shown; ask your station's administrator if you need more.",
                 n=current_app.config["REVEALS_PER_HOUR"]), "error")
        return _render_item(sub, status=429)
    return _render_item(sub, revealed={form.person.data: number})


@bp.route("/addresses")
@officer_required
def find_address():
    form = AddressSearchForm(request.args)
    results = None
    if form.q.data and form.validate():
        results = addresses.search_page(db.session, form.q.data, offset=addresses.page_offset(request.args),
                                        beat_ids=jurisdiction.beat_ids_for(db.session, current_user))
    return render_template("officer/find_address.html", form=form, page=results)


# --- staff-list uploads: one upload's rows together ----------------------------------------------

@bp.route("/uploads/<int:staff_import_id>")
@officer_required
def upload(staff_import_id: int):
    try:
        group = queue.upload_group(db.session, current_user, staff_import_id)
    except NotFound:
        abort(404)
    return render_template("officer/upload.html", group=group, form=ConfirmCleanForm(),
                           flag_label=flags.label)


@bp.route("/uploads/<int:staff_import_id>/confirm-clean", methods=["POST"])
@officer_required
def confirm_clean(staff_import_id: int):
    if not ConfirmCleanForm().validate_on_submit():
        abort(400)
    try:
        done = queue.confirm_clean(db.session, current_user, staff_import_id, actor())
    except NotFound:
        abort(404)
    flash(_l("%(n)d rows confirmed.", n=done.confirmed), "success")
    if done.conflicts:
        flash(_l("%(n)d rows were decided by someone else in the meantime and were left as they decided.",
                 n=done.conflicts), "info")
    if done.flagged_left:
        flash(_l("%(n)d rows with flags are left for you to decide one by one.", n=done.flagged_left), "info")
    return redirect(url_for("officer.upload", staff_import_id=staff_import_id))
