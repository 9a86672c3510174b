"""Administrators shape the jurisdiction tree: bureaus, stations and beats, and move places between beats."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import admin_required
from portal.admin import bp
from portal.admin.forms import JurisdictionForm, MoveBeatForm, MoveForm, RenameForm
from portal.extensions import db
from portal.services import jurisdiction
from portal.services.errors import ValidationFailed
from portal.web import actor, errors_onto_form, id_value

KIND_NAMES = {"bureau": _l("bureau"), "station": _l("police station"), "beat": _l("beat")}


@bp.route("/jurisdictions")
@admin_required
def jurisdictions():
    return render_template("admin/jurisdictions.html", bureaus=jurisdiction.bureaus(db.session, current_user),
                           can_create_bureau=jurisdiction.manages_everything(current_user))


def _create_page(kind: str, parent, create, endpoint: str):
    """The form of a new bureau, station or beat; once created, its own page."""
    form = JurisdictionForm()
    if form.validate_on_submit():
        try:
            made = create(code=form.code.data, name=form.name.data, actor=actor())
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            flash(_l("%(name)s (%(code)s) is created.", name=made.name, code=made.code), "success")
            return redirect(url_for(endpoint, **{f"{kind}_id": made.id}))
    return render_template("admin/jurisdiction_new.html", form=form, kind=kind, kind_name=KIND_NAMES[kind],
                           parent=parent), 400 if form.errors else 200


def _rename(obj, form: RenameForm) -> bool:
    """Rename when the form was sent and is right; False shows the page again (with the errors, if any)."""
    if not form.validate_on_submit():
        return False
    try:
        jurisdiction.rename(db.session, obj, form.name.data, actor())
    except ValidationFailed as failure:
        errors_onto_form(form, failure)
        return False
    db.session.commit()
    flash(_l("The name is now %(name)s.", name=obj.name), "success")
    return True


@bp.route("/bureaus/new", methods=["GET", "POST"])
@admin_required
def new_bureau():
    if not jurisdiction.manages_everything(current_user):
        abort(404)

    def create(**values):
        return jurisdiction.create_bureau(db.session, current_user, **values)

    return _create_page("bureau", None, create, "admin.bureau")


@bp.route("/bureaus/<int:bureau_id>", methods=["GET", "POST"])
@admin_required
def bureau(bureau_id: int):
    found = jurisdiction.bureau(db.session, current_user, bureau_id)
    form = RenameForm(name=found.name)
    if _rename(found, form):
        return redirect(url_for("admin.bureau", bureau_id=found.id))
    return render_template("admin/bureau.html", bureau=found, form=form), 400 if form.errors else 200


@bp.route("/bureaus/<int:bureau_id>/stations/new", methods=["GET", "POST"])
@admin_required
def new_station(bureau_id: int):
    parent = jurisdiction.bureau(db.session, current_user, bureau_id)

    def create(**values):
        return jurisdiction.create_station(db.session, current_user, parent.id, **values)

    return _create_page("station", parent, create, "admin.station")


@bp.route("/stations/<int:station_id>", methods=["GET", "POST"])
@admin_required
def station(station_id: int):
    found = jurisdiction.station(db.session, current_user, station_id)
    form = RenameForm(name=found.name)
    if _rename(found, form):
        return redirect(url_for("admin.station", station_id=found.id))
    return render_template("admin/station.html", station=found, form=form), 400 if form.errors else 200


@bp.route("/stations/<int:station_id>/beats/new", methods=["GET", "POST"])
@admin_required
def new_beat(station_id: int):
    parent = jurisdiction.station(db.session, current_user, station_id)

    def create(**values):
        return jurisdiction.create_beat(db.session, current_user, parent.id, **values)

    return _create_page("beat", parent, create, "admin.beat")


@bp.route("/beats/<int:beat_id>", methods=["GET", "POST"])
@admin_required
def beat(beat_id: int):
    found = jurisdiction.beat(db.session, current_user, beat_id)
    form = RenameForm(name=found.name)
    if _rename(found, form):
        return redirect(url_for("admin.beat", beat_id=found.id))
    return _beat_page(found, form, MoveBeatForm(formdata=None))


def _beat_page(found, form: RenameForm, move_form: MoveBeatForm):
    move_form.to_station.choices = [("", str(_l("Choose a police station")))] + [
        (str(s.id), f"{b.name} · {s.name}") for b in jurisdiction.bureaus(db.session, current_user)
        for s in b.stations if s.id != found.station_id]
    after = request.args.get("after", 0, type=int)
    status = 400 if form.errors or move_form.errors else 200
    return render_template("admin/beat.html", beat=found, form=form, move_form=move_form,
                           places=jurisdiction.places(db.session, found, after_id=after)), status


def _small_int(value: str | None) -> int | None:
    return id_value(value)  # ASCII digits only: "²".isdigit() is True, and int("²") raises


@bp.route("/beats/<int:beat_id>/station", methods=["POST"])
@admin_required
def move_beat(beat_id: int):
    found = jurisdiction.beat(db.session, current_user, beat_id)
    move_form = MoveBeatForm()
    if move_form.validate_on_submit():
        try:
            items = jurisdiction.move_beat(db.session, current_user, found, _small_int(move_form.to_station.data),
                                           actor())
        except ValidationFailed as failure:
            errors_onto_form(move_form, failure)
        else:
            db.session.commit()
            flash(_l("The beat is now under %(station)s, with its officers and %(items)d open reports.",
                     station=found.station.name, items=items), "success")
            return redirect(url_for("admin.beat", beat_id=found.id))
    return _beat_page(found, RenameForm(formdata=None, name=found.name), move_form)


def _beat_choices(here_id: int) -> list[tuple[str, str]]:
    return [("", str(_l("Choose a beat")))] + [
        (str(b.id), f"{b.station.bureau.name} · {b.station.name} · {b.name}")
        for b in jurisdiction.all_beats(db.session, current_user) if b.id != here_id]


@bp.route("/beats/<int:beat_id>/move", methods=["GET", "POST"])
@admin_required
def move_place(beat_id: int):
    """Move a community (?community=NAME) or a building (?building=ADDRESS_ID) of this beat to another."""
    what = jurisdiction.place(db.session, current_user, beat_id, community=request.args.get("community") or None,
                              building_id=request.args.get("building", None, type=int))
    form = MoveForm()
    form.to_beat.choices = _beat_choices(what.beat.id)
    if form.validate_on_submit():
        try:
            moved = jurisdiction.move(db.session, current_user, what, _small_int(form.to_beat.data), actor())
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            flash(_l("Moved to %(beat)s: %(addresses)d addresses, %(houses)d houses, %(units)d units and "
                     "%(items)d open reports.", beat=moved.to_beat, addresses=moved.addresses,
                     houses=moved.houses, units=moved.units, items=moved.items), "success")
            return redirect(url_for("admin.beat", beat_id=beat_id))
    return render_template("admin/move.html", form=form, what=what), 400 if form.errors else 200
