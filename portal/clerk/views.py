"""The address clerk's pages: the bureau's address tree, adding, correcting, retiring and merging addresses,
each address's history, the duplicate finder and the web import. Views parse and render; the rules are in
services/address_upkeep.py and services/address_merge.py."""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import clerk_required
from portal.clerk.forms import (
    KIND_NAMES,
    BeatPlatesForm,
    ConfirmImportForm,
    FindForm,
    ImportForm,
    MergeForm,
    MergeWithForm,
    NewAddressForm,
    PairForm,
    PrintPlatesForm,
    RetireForm,
)
from portal.extensions import db
from portal.forms import choices
from portal.services import address_merge, address_upkeep, doorplates
from portal.services.errors import NotFound, ValidationFailed
from portal.services.register import BadCursor
from portal.web import actor, errors_onto_form, id_arg, id_value

bp = Blueprint("clerk", __name__, url_prefix="/clerk")

STATUS_NAMES = {"active": _l("In use"), "retired": _l("Retired"), "merged": _l("Merged into another address")}
ACTION_NAMES = {"address.create": _l("Added"), "address.edit": _l("Corrected"), "address.retire": _l("Retired"),
                "address.merge": _l("Merged into another address"),
                "address.merge_survivor": _l("Another address merged into this one"),
                "address.not_duplicate": _l("Marked as not the same as another address")}
FIELD_NAMES = {"division_code": _l("Division code"), "division_name": _l("Division name"),
               "township": _l("Township or street"), "road": _l("Road or lane"), "door_no": _l("Door number"),
               "community": _l("Community or group"), "building": _l("Building"), "unit": _l("Unit"),
               "room": _l("Room"), "beat_id": _l("Beat"), "status": _l("Status"),
               "replaced_by": _l("Replaced by")}
IMPORT_FOLDER = "address-imports"


@bp.context_processor
def names():
    bureau = address_upkeep.clerk_bureau(db.session, current_user) if current_user.is_authenticated else None
    return {"status_names": STATUS_NAMES, "kind_names": KIND_NAMES, "kind_of": address_upkeep.kind_of,
            "bureau": bureau}


def _paged(load):
    """A page of the tree; 404 outside the bureau; a cursor not given out here gets the first page."""
    after = request.args.get("after") or None
    try:
        try:
            return load(after)
        except BadCursor:
            flash(_l("That page link is not valid any more: here is the first page."), "error")
            return load(None)
    except NotFound:
        abort(404)


def _address(address_id: int):
    try:
        return address_upkeep.address(db.session, current_user, address_id)
    except NotFound:
        abort(404)


@bp.route("/")
@clerk_required
def home():
    page = _paged(lambda after: address_upkeep.roads(db.session, current_user, after))
    return render_template("clerk/home.html", page=page, first_page="after" not in request.args,
                           find=FindForm(request.args))


@bp.route("/find")
@clerk_required
def find():
    form = FindForm(request.args)
    found = address_upkeep.address_by_code(db.session, current_user, form.code.data or "") if form.validate() \
        else None
    if found is None:
        if not form.errors:
            form.code.errors = [_l("There is no address of your bureau with this code.")]
        page = address_upkeep.roads(db.session, current_user)
        return render_template("clerk/home.html", page=page, first_page=True, find=form), 404
    return redirect(url_for("clerk.address", address_id=found.id))


@bp.route("/roads/<int:address_id>")
@clerk_required
def road(address_id: int):
    anchor = _address(address_id)
    page = _paged(lambda after: address_upkeep.doors(db.session, current_user, anchor, after))
    return render_template("clerk/road.html", anchor=anchor, page=page, first_page="after" not in request.args)


@bp.route("/doors/<int:address_id>")
@clerk_required
def door(address_id: int):
    anchor = _address(address_id)
    page = _paged(lambda after: address_upkeep.buildings(db.session, current_user, anchor, after))
    return render_template("clerk/door.html", anchor=anchor, page=page, first_page="after" not in request.args)


@bp.route("/buildings/<int:address_id>")
@clerk_required
def building(address_id: int):
    anchor = _address(address_id)
    if not anchor.building:
        abort(404)
    page = _paged(lambda after: address_upkeep.units(db.session, current_user, anchor, after))
    return render_template("clerk/building.html", anchor=anchor, page=page, first_page="after" not in request.args,
                           print_form=PrintPlatesForm())


@bp.route("/buildings/<int:address_id>/doorplates.pdf", methods=["GET", "POST"])
@clerk_required
def building_plates(address_id: int):
    """An A4 PDF of the QR door plates of every room of the building, as `flask doorplates --building` writes."""
    anchor = _address(address_id)
    if not anchor.building:
        abort(404)
    back = redirect(url_for("clerk.building", address_id=anchor.id))
    if request.method == "GET" or not PrintPlatesForm().validate_on_submit():
        return back  # the button on the building page posts here
    too_many = _l("This building has more rooms in use than one print run may hold (%(limit)s plates): ask an "
                  "administrator to print them with flask doorplates, or to raise MAX_DOOR_PLATES.",
                  limit=format(current_app.config["MAX_DOOR_PLATES"], ","))
    beat_ids = [b.id for b in address_upkeep.beats_of(db.session, current_user)]  # the clerk's bureau only
    return _plates_pdf(lambda base_url, limit: doorplates.plates_of_building(db.session, anchor, base_url=base_url,
                                                                             limit=limit, beat_ids=beat_ids),
                       back, too_many, object_type="address", object_id=anchor.id, name=anchor.code)


@bp.route("/doorplates", methods=["GET", "POST"])
@clerk_required
def beat_plates():
    """The door plates of a whole beat of the bureau, as `flask doorplates --beat` writes them."""
    beats = address_upkeep.beats_of(db.session, current_user)
    form = BeatPlatesForm()
    form.beat.choices = choices([(b.code, f"{b.name} ({b.code})") for b in beats])
    if not form.validate_on_submit():
        return render_template("clerk/doorplates.html", form=form), 400 if form.errors else 200
    too_many = _l("This beat has more rooms in use than one print run may hold (%(limit)s plates): print its "
                  "buildings one at a time from their pages, or ask an administrator to raise MAX_DOOR_PLATES.",
                  limit=format(current_app.config["MAX_DOOR_PLATES"], ","))
    return _plates_pdf(lambda base_url, limit: doorplates.plates_for_beat(db.session, form.beat.data,
                                                                          base_url=base_url, limit=limit),
                       redirect(url_for("clerk.beat_plates")), too_many, object_type="beat",
                       object_id=form.beat.data, name=form.beat.data)


def _plates_pdf(load, back, too_many, *, object_type: str, object_id, name: str):
    """The PDF of the plates `load(base_url, limit)` gives, audited; `back` with the reason when there are none
    or too many (`too_many`: the words for the latter on this page)."""
    config = current_app.config
    try:
        plates = load(config["PORTAL_BASE_URL"], config["MAX_DOOR_PLATES"])
        data = doorplates.render_pdf(plates, config["DOORPLATE_FONT"])
    except ValidationFailed as failure:
        db.session.rollback()
        for error in failure.errors:
            flash(too_many if error.code == "too_many" else error.message, "error")
        return back
    doorplates.record_print(db.session, actor(), plates, object_type=object_type, object_id=object_id)
    db.session.commit()
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="doorplates-{name}.pdf"'})


@bp.route("/units/<int:address_id>")
@clerk_required
def unit(address_id: int):
    anchor = _address(address_id)
    if not anchor.building:
        abort(404)
    page = _paged(lambda after: address_upkeep.rooms(db.session, current_user, anchor, after))
    return render_template("clerk/unit.html", anchor=anchor, page=page, first_page="after" not in request.args)


@bp.route("/addresses/<int:address_id>")
@clerk_required
def address(address_id: int):
    try:
        found = address_upkeep.view(db.session, current_user, address_id)
    except NotFound:
        abort(404)
    return render_template("clerk/address.html", v=found, a=found.address, merge_with=MergeWithForm(),
                           form=None)


def _beat_choices(form: NewAddressForm) -> None:
    form.beat_id.choices = choices([("", _l("Choose a beat")),
                                    *((str(b.id), f"{b.station.name} · {b.name}")
                                      for b in address_upkeep.beats_of(db.session, current_user))])


# What a new address of each kind takes from the address it was asked from (its place in the tree).
_FROM_PARENT = {"door_plate": ("division_code", "division_name", "township", "road"),
                "building": ("division_code", "division_name", "township", "road", "door_no", "community"),
                "unit": ("division_code", "division_name", "township", "road", "door_no", "community", "building"),
                "room": ("division_code", "division_name", "township", "road", "door_no", "community", "building",
                         "unit")}


def _prefill(form: NewAddressForm) -> None:
    """A new address next to the one it was asked from: the components of its place in the tree."""
    parent_id = id_arg("from")
    if parent_id is None or request.method != "GET":
        return
    parent = _address(parent_id)
    values = address_upkeep.components(parent)
    for name in _FROM_PARENT.get(form.kind.data or "", ()):
        form[name].data = values[name]
    form.beat_id.data = str(parent.beat_id)


@bp.route("/addresses/new", methods=["GET", "POST"])
@clerk_required
def new_address():
    form = NewAddressForm(kind=request.args.get("kind", ""))
    _beat_choices(form)
    _prefill(form)
    if form.validate_on_submit():
        try:
            created = address_upkeep.add(db.session, current_user, form.kind.data, form.beat_id.data,
                                         form.components(), actor())
        except ValidationFailed as failure:
            db.session.rollback()
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            flash(_l("The address %(address)s is added, with the code %(code)s.", address=created.text,
                     code=created.code), "success")
            return redirect(url_for("clerk.address", address_id=created.id))
    return render_template("clerk/new.html", form=form), 400 if form.errors else 200


@bp.route("/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@clerk_required
def edit(address_id: int):
    a = _address(address_id)
    form = NewAddressForm(data=address_upkeep.components(a)) if request.method == "GET" else NewAddressForm()
    del form.kind, form.beat_id  # what kind of address it is, and its beat, stay
    if form.validate_on_submit():
        try:
            address_upkeep.edit(db.session, current_user, a.id, form.components(), actor())
        except ValidationFailed as failure:
            db.session.rollback()
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            flash(_l("The address is corrected; its code stays %(code)s.", code=a.code), "success")
            return redirect(url_for("clerk.address", address_id=a.id))
    return render_template("clerk/edit.html", form=form, a=a), 400 if form.errors else 200


@bp.route("/addresses/<int:address_id>/retire", methods=["GET", "POST"])
@clerk_required
def retire(address_id: int):
    a = _address(address_id)
    form = RetireForm()
    if form.validate_on_submit():
        try:
            address_upkeep.retire(db.session, current_user, a.id, form.replacement.data, actor())
        except ValidationFailed as failure:
            db.session.rollback()
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            flash(_l("The address %(address)s is retired: new reports on it are refused.", address=a.text),
                  "success")
            return redirect(url_for("clerk.address", address_id=a.id))
    return render_template("clerk/retire.html", form=form, a=a), 400 if form.errors else 200


@bp.route("/addresses/<int:address_id>/history")
@clerk_required
def history(address_id: int):
    found = _paged(lambda after: address_upkeep.history(db.session, current_user, address_id, after))
    a, page = found
    return render_template("clerk/history.html", a=a, page=page, first_page="after" not in request.args,
                           action_names=ACTION_NAMES, field_names=FIELD_NAMES)


def _pair(first: object, second: object):
    first_id, second_id = id_value(first), id_value(second)
    if first_id is None or second_id is None:
        abort(404)
    return _address(first_id), _address(second_id)


@bp.route("/merge", methods=["GET", "POST"])
@clerk_required
def merge():
    form = MergeForm(first=request.args.get("first", ""), second=request.args.get("second", ""))
    if request.method == "GET" and request.args.get("code") is not None:
        other = address_upkeep.address_by_code(db.session, current_user, request.args.get("code", ""))
        if other is None:
            flash(_l("There is no address of your bureau with this code."), "error")
            return redirect(url_for("clerk.address", address_id=id_arg("first") or 0))
        form.second.data = str(other.id)
    first, second = _pair(form.first.data, form.second.data)
    form.survivor.choices = choices([(str(first.id), first.text), (str(second.id), second.text)])
    if form.validate_on_submit():
        other = second if form.survivor.data == str(first.id) else first
        try:
            merged = address_merge.merge(db.session, current_user, int(form.survivor.data), other.id, actor())
        except ValidationFailed as failure:
            db.session.rollback()
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            flash(_l("%(other)s is merged into %(survivor)s: its code %(code)s leads there now.",
                     other=merged.other.text, survivor=merged.survivor.text, code=merged.other.code), "success")
            return redirect(url_for("clerk.address", address_id=merged.survivor.id))
    return render_template("clerk/merge.html", form=form, first=first, second=second), 400 if form.errors else 200


@bp.route("/duplicates")
@clerk_required
def duplicates():
    pairs = address_merge.candidates(db.session, current_user)
    return render_template("clerk/duplicates.html", pairs=pairs, form=PairForm())


@bp.route("/duplicates/not-the-same", methods=["POST"])
@clerk_required
def not_the_same():
    form = PairForm()
    if not form.validate_on_submit():
        abort(400)
    first, second = _pair(form.first.data, form.second.data)
    try:
        address_merge.dismiss(db.session, current_user, first.id, second.id, actor())
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_l("Remembered: %(first)s and %(second)s are not the same place.", first=first.text, second=second.text),
          "success")
    return redirect(url_for("clerk.duplicates"))


def _import_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / IMPORT_FOLDER


@bp.route("/import", methods=["GET", "POST"])
@clerk_required
def import_file():
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("clerk/import.html", form=form), 400 if form.errors else 200
    data = form.file.data.read()
    try:
        rows, problems = address_upkeep.preview_import(db.session, current_user, data)
    except NotFound:  # a clerk given no bureau
        abort(404)
    db.session.rollback()  # a preview writes nothing
    address_upkeep.forget_file(_import_folder(), session.pop("address_import", None))
    token = None
    if not problems and any(r.change in ("new", "changed") for r in rows):
        token = address_upkeep.keep_file(_import_folder(), data)
        session["address_import"] = token
    counts = {c: sum(1 for r in rows if r.change == c) for c in ("new", "changed", "unchanged", "error")}
    return render_template("clerk/preview.html", rows=rows, problems=problems, counts=counts,
                           confirm=ConfirmImportForm(token=token) if token else None)


@bp.route("/import/confirm", methods=["POST"])
@clerk_required
def import_confirm():
    form = ConfirmImportForm()
    token = session.get("address_import")
    data = address_upkeep.kept_file(_import_folder(), token) if form.validate_on_submit() and \
        form.token.data == token else None
    if data is None:
        flash(_l("That preview is not there any more: send the file again."), "error")
        return redirect(url_for("clerk.import_file"))
    try:
        report = address_upkeep.run_import(db.session, current_user, data, actor())
    except NotFound:
        abort(404)
    db.session.commit()
    address_upkeep.forget_file(_import_folder(), session.pop("address_import", None))
    flash(_l("Imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged, %(errors)d rows with "
             "errors skipped.", created=report.created, updated=report.updated, unchanged=report.unchanged,
             errors=len({e.row for e in report.errors})), "success" if report.ok else "error")
    return redirect(url_for("clerk.home"))
