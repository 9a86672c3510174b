"""The employer's pages: units, single hires and departures, staff-list uploads, receipts."""
from __future__ import annotations

import io
import secrets
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.access import employer_required
from portal.db import reading
from portal.employer.forms import (
    UNIT_FIELDS,
    ActionForm,
    CommitForm,
    DepartureForm,
    HireForm,
    SubmitForm,
    UnitForm,
    UploadForm,
)
from portal.errors import MESSAGES as ERROR_MESSAGES
from portal.extensions import db
from portal.forms import AddressSearchForm, choices
from portal.services import (
    addresses,
    attention,
    declarations,
    drafts,
    flags,
    identity,
    reporting,
    review,
    staff_import,
    units,
)
from portal.services.errors import NotFound, ValidationFailed
from portal.templating import localtime
from portal.web import actor, errors_onto_form, render_receipt, withdraw_and_return

bp = Blueprint("employer", __name__, url_prefix="/employer")
SHOWN_ERRORS = 1000  # on the preview page; the error CSV has every one
SHOWN_ROWS = 500  # hires, departures and roster entries listed on one page
DRAFT_KINDS = ("unit", units.UPLOAD_DRAFT)  # an employer's unfinished reports: a unit, a staff list to check


@bp.context_processor
def unit_names():
    return {"unit_type_names": units.UNIT_TYPE_NAMES, "special_trade_names": units.SPECIAL_TRADE_NAMES,
            "unit_status_names": units.UNIT_STATUS_NAMES, "column_labels": staff_import.COLUMN_LABELS,
            "few_departures": staff_import.FEW_DEPARTURES}


def _or_404(fn, *args, **kwargs):
    try:
        return fn(db.session, current_user, *args, **kwargs)
    except NotFound:
        abort(404)


def _uploads() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _limits() -> dict:
    """The size limit is the request limit; the row limit is its own setting."""
    return {"max_rows": current_app.config["MAX_IMPORT_ROWS"],
            "max_bytes": int(current_app.config.get("MAX_CONTENT_LENGTH") or staff_import.MAX_BYTES)}


# --- home, address search -------------------------------------------------------------------------

@bp.route("/")
@employer_required
def home():
    return render_template("employer/home.html", rows=units.summaries(db.session, current_user),
                           needs=attention.for_reporter(db.session, current_user), reasons=review.REJECT_REASONS,
                           unfinished=drafts.unfinished(db.session, current_user, DRAFT_KINDS))


@bp.route("/addresses")
@employer_required
def find_address():
    form = AddressSearchForm(request.args)
    results = None
    if form.q.data and form.validate():
        results = addresses.search_page(db.session, form.q.data, offset=addresses.page_offset(request.args))
    return render_template("employer/find_address.html", form=form, page=results)


# --- registering a unit: address -> details -> check -> receipt -----------------------------------

@bp.route("/units/new")
@employer_required
def new_unit():
    address = addresses.by_code(db.session, request.args.get("address", ""))
    if address is None:
        flash(_l("There is no standard address with this code."), "error")
        return redirect(url_for("employer.find_address"))
    # The same address chosen again before anything was typed: that draft (one with details typed is listed
    # on the home page; another unit may work at the same address).
    draft = drafts.find(db.session, current_user, "unit", address_code=address.code, name=None) \
        or drafts.start(db.session, current_user, "unit", {"address_code": address.code, "address": address.text})
    db.session.commit()
    return redirect(_resume_url(draft))


def _draft(key: str, kind: str):
    try:
        return drafts.get(db.session, current_user, key, kind, lock=request.method == "POST")
    except NotFound:
        return None


def _sent_already(key: str):
    """The back button or a second click after sending: show the receipt of what was sent. Anything else
    is a 404: another employer's draft is no different from one that does not exist."""
    filed = reporting.filed_with_key(db.session, current_user, key)
    if filed is not None:
        return redirect(url_for("employer.receipt", submission_id=filed.id))
    abort(404)


def _resume_url(draft) -> str:
    if draft.kind == units.UPLOAD_DRAFT:
        return url_for("employer.preview", key=draft.key)
    step = drafts.next_step(draft)
    return url_for("employer.unit_check" if step == "check" else "employer.unit_details", key=draft.key)


def _own_draft(key: str):
    draft = _or_404(drafts.get, key)
    if draft.kind not in DRAFT_KINDS:
        abort(404)
    return draft


@bp.route("/drafts/<key>")
@employer_required
def resume(key: str):
    """An unfinished report, from the home page: on at the first page not yet answered."""
    return redirect(_resume_url(_own_draft(key)))


@bp.route("/drafts/<key>/discard", methods=["GET", "POST"])
@employer_required
def discard_draft(key: str):
    """GET: discard this unfinished report? (a page of its own); POST from that page: discard it."""
    draft = _own_draft(key)
    form = ActionForm()
    if request.method == "GET":
        return render_template("employer/discard_draft.html", draft=draft, action_form=form,
                               resume_url=_resume_url(draft))
    if not form.validate_on_submit():
        abort(400)
    if draft.kind == units.UPLOAD_DRAFT:
        units.drop_upload(db.session, current_user, key, _uploads())
    else:
        _or_404(drafts.discard_own, key, DRAFT_KINDS)
    db.session.commit()
    flash(_l("The unfinished report was discarded. Nothing was sent."), "info")
    return redirect(url_for("employer.home"))


def _unit_values(data: dict) -> dict:
    return {f: data.get(f) or "" for f in UNIT_FIELDS}


@bp.route("/drafts/<key>/unit", methods=["GET", "POST"])
@employer_required
def unit_details(key: str):
    draft = _draft(key, "unit")
    if draft is None:
        return _sent_already(key)
    form = UnitForm(data=draft.data)
    if form.validate_on_submit():
        typed = {f: (getattr(form, f).data or "").strip() for f in UNIT_FIELDS}
        try:
            units.check_unit(db.session, current_user, address_code=draft.data["address_code"], **typed)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            drafts.save(db.session, draft, **typed)
            db.session.commit()
            return redirect(url_for("employer.unit_check", key=key))
    return render_template("employer/unit_details.html", form=form, draft=draft)


@bp.route("/drafts/<key>/unit-check", methods=["GET", "POST"])
@employer_required
def unit_check(key: str):
    draft = _draft(key, "unit")
    if draft is None:
        return _sent_already(key)
    form = SubmitForm(form_key=key)
    if form.validate_on_submit():
        try:
            filed = units.register_unit(db.session, current_user, address_code=draft.data.get("address_code"),
                                        actor=actor(), form_key=key, **_unit_values(draft.data))
        except ValidationFailed:
            # Something changed since the details page (the same code registered in another tab):
            # back to the page that shows each problem at its field.
            flash(_l("Check the details: something is not right any more."), "error")
            return redirect(url_for("employer.unit_details", key=key))
        drafts.discard(db.session, key)
        db.session.commit()  # the registration and its draft's end together
        return redirect(url_for("employer.receipt", submission_id=filed.submission.id))
    claimed = units.uscc_claimed_by_another(db.session, current_user, draft.data.get("uscc"))
    return render_template("employer/unit_check.html", form=form, draft=draft, claimed=claimed)


# --- a unit: roster, uploads, reports -----------------------------------------------------------

@bp.route("/units/<int:unit_id>")
@employer_required
def unit(unit_id: int):
    u = _or_404(units.unit_of, unit_id)
    staff = units.roster(db.session, u)
    return render_template("employer/unit.html", unit=u, staff=staff[:SHOWN_ROWS], staff_count=len(staff),
                           leaving=units.pending_departures(db.session, u),
                           imports=units.imports_of(db.session, u),
                           submissions=units.submissions_of_unit(db.session, u, limit=50))


def _one_time_key(form) -> None:
    if request.method == "GET":
        form.form_key.data = secrets.token_urlsafe(32)


HIRE_FIELDS = tuple(declarations.Hire.model_fields)  # the hire form, as the service takes it


def _hire_fields(form) -> dict:
    return {name: getattr(form, name).data for name in HIRE_FIELDS}


@bp.route("/units/<int:unit_id>/hire", methods=["GET", "POST"])
@employer_required
def hire(unit_id: int):
    u = _or_404(units.unit_of, unit_id)
    form = HireForm()
    _one_time_key(form)
    if form.validate_on_submit():
        try:
            filed = units.report_hire(db.session, current_user, u.id, **_hire_fields(form), actor=actor(),
                                      form_key=form.form_key.data or None)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            return redirect(url_for("employer.receipt", submission_id=filed.submission.id))
    return render_template("employer/hire.html", form=form, unit=u)


@bp.route("/units/<int:unit_id>/departure", methods=["GET", "POST"])
@employer_required
def departure(unit_id: int):
    u = _or_404(units.unit_of, unit_id)
    staff = units.roster(db.session, u)
    chosen = request.args.get("employment", "")
    if chosen:  # from the roster: only that person
        staff = [e for e in staff if str(e.id) == chosen] or staff
    form = DepartureForm(employment=chosen if len(staff) == 1 else None)
    form.employment.choices = choices([
        (str(e.id), f"{e.declared_name} · {identity.mask_id(e.person.id_number)}") for e in staff[:SHOWN_ROWS]])
    _one_time_key(form)
    if form.validate_on_submit():
        try:
            filed = units.report_departure(db.session, current_user, u.id,
                                           employment_id=form.employment.data or "",
                                           departure_date=form.departure_date.data, actor=actor(),
                                           form_key=form.form_key.data or None)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            return redirect(url_for("employer.receipt", submission_id=filed.submission.id))
    return render_template("employer/departure.html", form=form, unit=u, staff=staff)


# --- staff-list upload: upload -> preview -> commit -> result -----------------------------------

@bp.route("/staff-template.csv")
@employer_required
def template_csv():
    return send_file(io.BytesIO(staff_import.template_csv()), mimetype="text/csv", as_attachment=True,
                     download_name="staff-list.csv")


@bp.route("/staff-template.xlsx")
@employer_required
def template_xlsx():
    return send_file(io.BytesIO(staff_import.template_xlsx()), as_attachment=True,
                     download_name="staff-list.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/units/<int:unit_id>/upload", methods=["GET", "POST"])
@employer_required
def upload(unit_id: int):
    u = _or_404(units.unit_of, unit_id)
    form = UploadForm()
    if form.validate_on_submit():
        sent = form.file.data
        data = sent.read()
        db.session.commit()  # what the request read so far: checking the file keeps no other writer waiting
        try:
            with reading(db.session):
                staff_import.preview(db.session, u, data, sent.filename or "", full_list=form.full_list.data,
                                     **_limits())
        except staff_import.FileRejected as rejected:
            form.file.errors = [*form.file.errors, rejected.message]
        else:
            try:
                kept = units.keep_upload(db.session, current_user, u.id, data, sent.filename or "",
                                         full_list=form.full_list.data, directory=_uploads(), actor=actor())
            except ValidationFailed as failure:
                errors_onto_form(form, failure)
            else:
                db.session.commit()
                return redirect(url_for("employer.preview", key=kept.draft_key))
    return render_template("employer/upload.html", form=form, unit=u)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(err):
    """A file over MAX_CONTENT_LENGTH: the upload page again, with the reason at the file field."""
    # The request is refused before the view's access check has run: decide here who sees the form.
    unit_id = (request.view_args or {}).get("unit_id")
    u = None
    if request.endpoint == "employer.upload" and unit_id is not None and current_user.is_authenticated \
            and str(current_user.role) == "employer":
        try:
            u = units.unit_of(db.session, current_user, unit_id)
        except NotFound:
            u = None
    if u is None:  # the portal's own 413 page
        title, message = ERROR_MESSAGES[413]
        return render_template("errors/error.html", code=413, title=title, message=message), 413
    form = UploadForm(formdata=None)
    limit = max(1, (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024))
    form.file.errors = [_l("The file is larger than %(mb)d MB. Split the list into smaller files.", mb=limit)]
    return render_template("employer/upload.html", form=form, unit=u), 413


def _kept(key: str):
    try:
        return units.kept_upload(db.session, current_user, key, _uploads())
    except NotFound:
        db.session.commit()  # a draft whose file is gone was discarded
        return None


def _preview_of(kept):
    """The same preview the upload showed, against the roster as it is now."""
    try:
        return staff_import.preview(db.session, kept.unit, kept.data, kept.filename, full_list=kept.full_list,
                                    **_limits())
    except staff_import.FileRejected:  # the limits changed since: start again
        units.drop_upload(db.session, current_user, kept.draft_key, _uploads())
        db.session.commit()
        abort(404)


def _gone():
    flash(_l("This staff list has been sent already, or it was discarded or has expired. Your imports are "
             "listed on the unit's page."), "info")
    return redirect(url_for("employer.home"))


@bp.route("/uploads/<key>")
@employer_required
def preview(key: str):
    kept = _kept(key)
    if kept is None:
        return _gone()
    return _render_preview(kept, _preview_of(kept), CommitForm(form_key=key))


def _render_preview(kept, pv, commit_form):
    return render_template("employer/preview.html", kept=kept, unit=kept.unit, pv=pv, shown=SHOWN_ROWS,
                           shown_errors=SHOWN_ERRORS, commit_form=commit_form, discard_form=ActionForm())


@bp.route("/uploads/<key>/errors.csv")
@employer_required
def error_csv(key: str):
    kept = _kept(key)
    if kept is None:
        abort(404)
    pv = _preview_of(kept)
    data = units.error_report(db.session, current_user, pv, kept.unit, actor())
    db.session.commit()
    return send_file(io.BytesIO(data), mimetype="text/csv", as_attachment=True,
                     download_name="staff-list-errors.csv")


@bp.route("/uploads/<key>/commit", methods=["POST"])
@employer_required
def commit(key: str):
    # The file is read and checked before the write transaction, which then only writes (and compares the
    # roster again): SQLite's write lock is not held while thousands of rows are parsed (bench/README.md).
    db.session.commit()  # what the access check read
    with reading(db.session):
        kept = _kept(key)
        if kept is None:
            return _gone()
        form = CommitForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            units.ensure_active(kept.unit)
        except ValidationFailed as failure:
            flash(failure.errors[0].message, "error")
            return redirect(url_for("employer.preview", key=key))
        pv = _preview_of(kept)
    try:
        done = staff_import.commit(db.session, kept.unit, current_user, pv, actor(),
                                   departures_confirmed=form.confirm_departures.data)
    except ValidationFailed as failure:  # many departures, not confirmed: the preview again, the reason at the box
        errors_onto_form(form, failure)
        return _render_preview(kept, _preview_of(kept), form)
    units.drop_upload(db.session, current_user, key, _uploads())
    db.session.commit()  # the import and the upload's end together
    if not getattr(done, "created", True):
        flash(_l("This staff list was imported already on %(when)s. Nothing new was sent.",
                 when=localtime(done.created_at)), "info")
    return redirect(url_for("employer.staff_import_result", unit_id=kept.unit.id, import_id=done.id))


@bp.route("/uploads/<key>/discard", methods=["POST"])
@employer_required
def discard(key: str):
    kept = _kept(key)
    if kept is None:
        return _gone()
    if not ActionForm().validate_on_submit():
        abort(400)
    units.drop_upload(db.session, current_user, key, _uploads())
    db.session.commit()
    flash(_l("The file was discarded. Nothing was sent."), "info")
    return redirect(url_for("employer.unit", unit_id=kept.unit.id))


@bp.route("/units/<int:unit_id>/imports/<int:import_id>")
@employer_required
def staff_import_result(unit_id: int, import_id: int):
    done = _or_404(units.import_of, import_id)
    if done.unit_id != unit_id:
        abort(404)
    return render_template("employer/import.html", done=done, unit=done.unit,
                           submissions=units.submissions_of_unit(db.session, done.unit,
                                                                 staff_import_id=done.id, limit=SHOWN_ROWS))


# --- submissions: status, receipt, withdraw -------------------------------------------------------

@bp.route("/submissions/<int:submission_id>")
@employer_required
def submission(submission_id: int):
    sub = _or_404(reporting.submission_of, submission_id)
    return render_template("employer/submission.html", sub=sub, decisions=review.history(db.session, sub.id),
                           decision=attention.last_decision(db.session, sub),
                           action_form=ActionForm(), reasons=review.REJECT_REASONS, flag_label=flags.label,
                           can_correct=sub.kind.value in ("hire",) and review.allowed(sub.status, "superseded"),
                           can_withdraw=review.allowed(sub.status, "withdrawn"))


@bp.route("/submissions/<int:submission_id>/correct", methods=["GET", "POST"])
@employer_required
def correct_hire(submission_id: int):
    """A rejected (or waiting) hire, corrected on the hire form filled in with what was sent."""
    sub = _or_404(reporting.submission_of, submission_id)
    if sub.kind.value != "hire" or sub.unit_id is None:
        abort(404)
    if not review.allowed(sub.status, "superseded"):
        flash(_l("Only a report that is waiting or was rejected can be corrected."), "error")
        return redirect(url_for("employer.submission", submission_id=sub.id))
    u = _or_404(units.unit_of, sub.unit_id)
    p = sub.payload
    form = HireForm(data={f: p.get(f) or "" for f in HIRE_FIELDS})
    _one_time_key(form)
    if form.validate_on_submit():
        try:
            filed = units.correct_hire(db.session, current_user, sub.id, **_hire_fields(form), actor=actor(),
                                       form_key=form.form_key.data or None)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        except review.DecidedAlready:
            db.session.commit()  # nothing changed but the conflict's audit row (review.transition)
            flash(_l("The police decided on this report while you were correcting it, so your correction was "
                     "not sent. Check the decision below."), "error")
            return redirect(url_for("employer.submission", submission_id=sub.id))
        else:
            db.session.commit()
            return redirect(url_for("employer.receipt", submission_id=filed.submission.id))
    return render_template("employer/hire.html", form=form, unit=u, corrects=sub)


@bp.route("/submissions/<int:submission_id>/receipt")
@employer_required
def receipt(submission_id: int):
    return render_receipt("employer/receipt.html", _or_404(reporting.submission_of, submission_id))


@bp.route("/submissions/<int:submission_id>/withdraw", methods=["GET", "POST"])
@employer_required
def withdraw(submission_id: int):
    """GET: are you sure? (a page of its own, no script); POST from that page: withdraw."""
    sub = _or_404(reporting.submission_of, submission_id)
    if request.method == "GET":
        return render_template("employer/withdraw.html", sub=sub, action_form=ActionForm(),
                               can_withdraw=review.allowed(sub.status, "withdrawn"))
    if not ActionForm().validate_on_submit():
        abort(400)
    return withdraw_and_return(sub, "employer.submission")
