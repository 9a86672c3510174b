"""The officer's register pages: places > buildings > rooms, houses, people, units, and search."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import officer_required
from portal.extensions import db
from portal.forms import choices
from portal.officer.forms import ExportForm, FullRecordForm, RegisterSearchForm
from portal.services import exports, jurisdiction, register, register_search, review, units
from portal.services.errors import NotFound, ValidationFailed
from portal.templating import HOUSE_STATUS_NAMES, USE_NAMES, local_today_stamp
from portal.web import actor, errors_onto_form

bp = Blueprint("register", __name__, url_prefix="/officer")


@bp.context_processor
def names():
    return {"unit_status_names": units.UNIT_STATUS_NAMES, "reasons": review.REJECT_REASONS,
            "where": jurisdiction.describe(current_user) if current_user.is_authenticated else ""}


def _after() -> str | None:
    return request.args.get("after") or None


def _paged(load):
    """Load a page (404 for what is outside the jurisdiction); a cursor that was not given out (tampered, or
    from an old link) gets the first page."""
    try:
        try:
            return load(_after())
        except register.BadCursor:
            flash(_l("That page link is not valid any more: here is the first page."), "error")
            return load(None)
    except NotFound:
        abort(404)


def _or_404(load, *args):
    try:
        return load(db.session, current_user, *args)
    except NotFound:
        abort(404)


@bp.route("/register")
@officer_required
def places():
    found = _paged(lambda after: register.places(db.session, current_user, after))
    return render_template("officer/register_places.html", page=found, first_page=not _after())


@bp.route("/register/places/<int:address_id>")
@officer_required
def place(address_id: int):
    anchor = _or_404(register.address, address_id)
    found = _paged(lambda after: register.buildings(db.session, current_user, anchor, after))
    return render_template("officer/register_place.html", anchor=anchor, page=found, first_page=not _after())


@bp.route("/register/buildings/<int:address_id>")
@officer_required
def building(address_id: int):
    anchor = _or_404(register.address, address_id)
    found = _paged(lambda after: register.rooms(db.session, current_user, anchor, after))
    return render_template("officer/register_building.html", anchor=anchor, page=found, first_page=not _after())


@bp.route("/register/houses/<int:house_id>")
@officer_required
def house(house_id: int):
    view = _paged(lambda after: register.house_view(db.session, current_user, house_id, after))
    return render_template("officer/register_house.html", view=view, first_page=not _after())


def _render_person(person_id: int, *, form=None, full=None, status=200):
    view = _paged(lambda after: register.person_view(db.session, current_user, person_id, after))
    form = form or FullRecordForm()
    form.reason.choices = choices(register_search.REVEAL_REASONS)
    return render_template("officer/register_person.html", view=view, form=form, full=full,
                           first_page=not _after()), status


@bp.route("/register/people/<int:person_id>")
@officer_required
def person(person_id: int):
    page = _render_person(person_id)
    register_search.viewed(db.session, current_user, person_id, actor())
    db.session.commit()
    return page


def _hold_asked(form) -> None:
    """Marked as part of an investigation: a request for a hold, which an auditor approves or refuses."""
    if form.investigation.data:
        flash(_l("An auditor is asked to hold this back from the own view of the people in it, as part of an "
                 "investigation. Until an auditor approves, they can see it."), "info")


@bp.route("/register/people/<int:person_id>/full", methods=["POST"])
@officer_required
def full_record(person_id: int):
    _or_404(register.person, person_id)
    form = FullRecordForm()
    form.reason.choices = choices(register_search.REVEAL_REASONS)
    if not form.validate_on_submit():
        return _render_person(person_id, form=form, status=400)
    limit = current_app.config["REVEALS_PER_HOUR"]
    try:
        found = register_search.full_record(db.session, current_user, person_id, form.reason.data, actor(),
                                            per_hour=limit, investigation=bool(form.investigation.data))
    except register_search.TooManyReveals:
        db.session.commit()  # the refusal is audited
        flash(_l("You have seen %(n)d full records or ID numbers in the last hour, the most an hour allows. "
                 "Ask your station's administrator if you need more.", n=limit), "error")
        return _render_person(person_id, status=429)
    except ValidationFailed as failure:
        errors_onto_form(form, failure)
        return _render_person(person_id, form=form, status=400)
    db.session.commit()
    _hold_asked(form)
    return _render_person(person_id, full=found)


@bp.route("/register/units/<int:unit_id>")
@officer_required
def unit(unit_id: int):
    view = _paged(lambda after: register.unit_view(db.session, current_user, unit_id, after))
    return render_template("officer/register_unit.html", view=view, first_page=not _after())


@bp.route("/search")
@officer_required
def search():
    form = RegisterSearchForm(request.args)
    results = None
    if "q" in request.args:
        try:
            results = register_search.search(db.session, current_user, form.q.data)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
            return render_template("officer/search.html", form=form, results=None), 400
    return render_template("officer/search.html", form=form, results=results)



# --- exports of the list the officer was looking at ---------------------------------------------------

def _source():
    """The list to export, as the request names it: 404 for no such list or one outside the jurisdiction."""
    try:
        return exports.in_scope(db.session, current_user, exports.source_from(request.values))
    except (KeyError, NotFound):
        abort(404)


def _export_form(source, form=None, status=200):
    form = form or ExportForm()
    form.reason.choices = choices(exports.EXPORT_REASONS)
    return render_template("officer/export.html", form=form, source=source, args=exports.source_args(source),
                           max_rows=exports.MAX_ROWS), status


@bp.route("/export")
@officer_required
def export_form():
    return _export_form(_source())


@bp.route("/export", methods=["POST"])
@officer_required
def export():
    source = _source()
    form = ExportForm()
    form.reason.choices = choices(exports.EXPORT_REASONS)
    if not form.validate_on_submit():
        return _export_form(source, form, 400)
    full = bool(form.full.data) and source.has_personal_numbers
    try:
        exports.check_request(form.format.data, full, form.reason.data)
        table = exports.table(db.session, current_user, source, full=full,
                              names={"use": USE_NAMES, "status": HOUSE_STATUS_NAMES})
        data = exports.write(table, form.format.data)
    except ValidationFailed as failure:
        errors_onto_form(form, failure)
        return _export_form(source, form, 400)
    except NotFound:
        abort(404)
    exports.record(db.session, current_user, actor(), source, table, form.format.data, full=full,
                   reason=form.reason.data if full else None, investigation=full and bool(form.investigation.data))
    db.session.commit()
    if full:
        _hold_asked(form)  # shown on the next page: the answer is the file
    fmt = form.format.data
    # Werkzeug adds the charset to a text/* mimetype itself: naming it here as well sent it twice.
    mime = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"{source.list}-{local_today_stamp()}{'-full' if full else ''}.{fmt}"
    return Response(data, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})
