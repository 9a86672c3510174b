"""The landlord's pages: houses, move-in and move-out journeys, receipts, corrections."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import landlord_required
from portal.extensions import db
from portal.forms import AddressSearchForm
from portal.landlord.forms import (
    ActionForm,
    AnotherForm,
    HouseCapacityForm,
    HouseUseForm,
    MoveInDatesForm,
    MoveOutForm,
    PersonForm,
    SubmitForm,
)
from portal.services import addresses, attention, declarations, drafts, flags, occupants, paging, reporting, review
from portal.services.errors import NotFound, ValidationFailed
from portal.web import actor, errors_onto_form, render_receipt, withdraw_and_return

bp = Blueprint("landlord", __name__, url_prefix="/landlord")
DRAFT_KINDS = ("move_in", "house")  # a landlord's unfinished reports, listed and resumable
PERSON_FIELDS = tuple(name for name, _about in declarations.fields(declarations.Occupant))


def _as_typed(stored: dict) -> dict:
    """A stored occupant as the person form holds them again: with a resident ID card, the fields for a
    passport or permit left empty (the sex and birth date stored were read from the number, not typed)."""
    resident = (stored.get("id_type") or "resident_id") == "resident_id"
    foreign = {name for name, about in declarations.fields(declarations.Occupant) if about.group}
    return {f: "" if resident and f in foreign else (stored.get(f) or "") for f in PERSON_FIELDS}


def _or_404(fn, *args, **kwargs):
    try:
        return fn(db.session, current_user, *args, **kwargs)
    except NotFound:
        abort(404)


def _deadline() -> int:
    return current_app.config["REPORT_DEADLINE_DAYS"]


# --- home, houses, search --------------------------------------------------------------------

@bp.route("/")
@landlord_required
def home():
    houses = reporting.houses_of(db.session, current_user)
    rows = [(h, reporting.occupants_of(db.session, h)) for h in houses]
    return render_template("landlord/home.html", rows=rows, today=reporting.local_today(),
                           needs=attention.for_reporter(db.session, current_user), action_form=ActionForm(),
                           reasons=review.REJECT_REASONS,
                           registrations=attention.registrations(db.session, houses),
                           unfinished=drafts.unfinished(db.session, current_user, DRAFT_KINDS))


@bp.route("/addresses")
@landlord_required
def find_address():
    form = AddressSearchForm(request.args)
    results = None
    if form.q.data and form.validate():
        results = addresses.search_page(db.session, form.q.data, offset=addresses.page_offset(request.args))
    return render_template("landlord/find_address.html", form=form, page=results)


@bp.route("/houses/<int:house_id>")
@landlord_required
def house(house_id: int):
    h = _or_404(reporting.house_of, house_id)
    registration = attention.registrations(db.session, [h]).get(h.id)
    return render_template("landlord/house.html", house=h, occupants=reporting.occupants_of(db.session, h),
                           registration=registration, reasons=review.REJECT_REASONS,
                           registration_decision=attention.last_decision(db.session, registration)
                           if registration else None,
                           moving_out=reporting.moving_out_of(db.session, h),
                           submissions=reporting.submissions_of(db.session, current_user, house_id=h.id),
                           today=reporting.local_today(),
                           unfinished=drafts.unfinished(db.session, current_user, ("move_in",), house_id=h.id))


# --- registering a house: use -> capacity -> check -> receipt ------------------------------------

@bp.route("/houses/new")
@landlord_required
def new_house():
    code = request.args.get("address", "")
    try:
        address = reporting.registrable_address(db.session, code)
    except ValidationFailed as failure:
        flash(failure.errors[0].message, "error")
        return redirect(url_for("landlord.find_address"))
    registered = reporting.standing_house_at(db.session, current_user, address)
    if registered is not None:  # scanned the plate of a house of theirs: its page, to report tenants
        flash(_l("You have registered a house at this address already."), "info")
        return redirect(url_for("landlord.house", house_id=registered.id))
    # The same address chosen again (the plate scanned twice, the search done again): the draft begun then.
    draft = drafts.find(db.session, current_user, "house", address_code=address.code, corrects=None) \
        or drafts.start(db.session, current_user, "house", {"address_code": address.code, "address": address.text})
    db.session.commit()
    return redirect(_resume_url(draft))


def _draft(key: str, kind: str):
    """The landlord's draft, or None: then `_sent_already` shows what it became, or a 404 (another
    landlord's draft is no different from one that does not exist)."""
    try:
        return drafts.get(db.session, current_user, key, kind, lock=request.method == "POST")
    except NotFound:
        return None


RESUME = {("move_in", "person"): "landlord.person", ("move_in", "another"): "landlord.another",
          ("move_in", "check"): "landlord.check_move_in", ("house", "use"): "landlord.house_use",
          ("house", "capacity"): "landlord.house_capacity", ("house", "check"): "landlord.house_check"}


def _resume_url(draft) -> str:
    step = drafts.next_step(draft)
    extra = {"n": len(draft.data.get("people", []))} if step == "person" else {}
    return url_for(RESUME[(draft.kind, step)], key=draft.key, **extra)


@bp.route("/drafts/<key>")
@landlord_required
def resume(key: str):
    """An unfinished report, from the home or house page: on at the first page not yet answered."""
    draft = _or_404(drafts.get, key)
    if draft.kind not in DRAFT_KINDS:
        abort(404)
    return redirect(_resume_url(draft))


@bp.route("/drafts/<key>/discard", methods=["GET", "POST"])
@landlord_required
def discard_draft(key: str):
    """GET: discard this unfinished report? (a page of its own); POST from that page: discard it."""
    draft = _or_404(drafts.get, key)
    if draft.kind not in DRAFT_KINDS:
        abort(404)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        _or_404(drafts.discard_own, key, DRAFT_KINDS)
        db.session.commit()
        flash(_l("The unfinished report was discarded. Nothing was sent."), "info")
        house_id = draft.data.get("house_id")
        return redirect(url_for("landlord.house", house_id=house_id) if house_id else url_for("landlord.home"))
    return render_template("landlord/discard_draft.html", draft=draft, action_form=form,
                           resume_url=_resume_url(draft))


@bp.route("/drafts/<key>/use", methods=["GET", "POST"])
@landlord_required
def house_use(key: str):
    draft = _draft(key, "house")
    if draft is None:
        return _sent_already(key)
    form = HouseUseForm(data=draft.data)
    if form.validate_on_submit():
        drafts.save(db.session, draft, use=form.use.data)
        db.session.commit()
        return redirect(url_for("landlord.house_capacity", key=key))
    return render_template("landlord/house_use.html", form=form, draft=draft)


@bp.route("/drafts/<key>/capacity", methods=["GET", "POST"])
@landlord_required
def house_capacity(key: str):
    draft = _draft(key, "house")
    if draft is None:
        return _sent_already(key)
    form = HouseCapacityForm(data=draft.data)
    if form.validate_on_submit():
        try:
            reporting.check_house_details(draft.data.get("use"), form.max_occupants.data, form.certificate_no.data)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            drafts.save(db.session, draft, max_occupants=form.max_occupants.data.strip(),
                        certificate_no=form.certificate_no.data)
            db.session.commit()
            return redirect(url_for("landlord.house_check", key=key))
    return render_template("landlord/house_capacity.html", form=form, draft=draft)


@bp.route("/drafts/<key>/house-check", methods=["GET", "POST"])
@landlord_required
def house_check(key: str):
    draft = _draft(key, "house")
    if draft is None:
        return _sent_already(key)
    form = SubmitForm(form_key=key)
    if form.validate_on_submit():
        d = draft.data
        try:
            if d.get("corrects"):
                filed = reporting.correct_house(db.session, current_user, d["corrects"], use=d.get("use"),
                                                max_occupants=d.get("max_occupants"),
                                                certificate_no=d.get("certificate_no"), actor=actor(), form_key=key)
            else:
                filed = reporting.register_house(db.session, current_user, address_code=d["address_code"],
                                                 use=d.get("use"), max_occupants=d.get("max_occupants"),
                                                 certificate_no=d.get("certificate_no"), actor=actor(),
                                                 form_key=key)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        except review.DecidedAlready:
            db.session.commit()  # nothing changed but the conflict's audit row (review.transition)
            return _decided_meanwhile(d["corrects"])
        else:
            drafts.discard(db.session, key)
            db.session.commit()  # the report and its draft's end together
            return redirect(url_for("landlord.receipt", submission_id=filed.submission.id))
    claimed = not draft.data.get("corrects") and reporting.claimed_by_another(db.session, current_user,
                                                                             draft.data.get("address_code", ""))
    return render_template("landlord/house_check.html", form=form, draft=draft, claimed=claimed)


def _decided_meanwhile(submission_id: int):
    """The police decided the report while its correction was being written: nothing was changed."""
    flash(_l("The police decided on this report while you were correcting it, so your correction was not "
             "sent. Check the decision below."), "error")
    return redirect(url_for("landlord.submission", submission_id=submission_id))


def _sent_already(key: str):
    """The back button or a second click after sending: show the receipt of what was sent."""
    filed = reporting.filed_with_key(db.session, current_user, key)
    if filed is not None:
        return redirect(url_for("landlord.receipt", submission_id=filed.id))
    abort(404)


# --- move-in: person (repeat) -> another? -> dates -> check -> receipt ----------------------------

@bp.route("/houses/<int:house_id>/move-in")
@landlord_required
def move_in(house_id: int):
    """A new move-in report; when one for this house is unfinished, it is offered first (`?new=1`: the
    landlord chose to start another). A draft begun with nothing in it yet is used again."""
    h = _or_404(reporting.house_of, house_id)
    waiting = [d for d in drafts.unfinished(db.session, current_user, ("move_in",), house_id=h.id)
               if not d.data.get("corrects")]
    if waiting and not request.args.get("new"):
        return render_template("landlord/move_in_draft.html", house=h, unfinished=waiting)
    draft = drafts.find(db.session, current_user, "move_in", house_id=h.id, people=[], corrects=None) \
        or drafts.start(db.session, current_user, "move_in", {"house_id": h.id, "address": h.address.text,
                                                              "people": []})
    db.session.commit()
    return redirect(url_for("landlord.person", key=draft.key, n=0))


@bp.route("/drafts/<key>/person/<int:n>", methods=["GET", "POST"])
@landlord_required
def person(key: str, n: int):
    draft = _draft(key, "move_in")
    if draft is None:
        return _sent_already(key)
    people = list(draft.data.get("people", []))
    if n > len(people) or n >= reporting.MAX_PEOPLE_PER_REPORT:
        return redirect(url_for("landlord.person", key=key, n=len(people)))
    form = PersonForm(data=people[n] if n < len(people) else None)
    if form.is_submitted():
        # Every problem at once: the service's checks run even when a required field is empty.
        valid = form.validate()
        raw = {f: (getattr(form, f).data or "").strip() for f in PERSON_FIELDS}
        errors = occupants.check_report_person(raw, people, index=n, today=reporting.local_today())
        errors = [e for e in errors if not getattr(form, e.field).errors]  # one message per field
        if errors:
            errors_onto_form(form, ValidationFailed(errors))
        elif valid:
            people[n:n + 1] = [raw]
            drafts.save(db.session, draft, people=people)
            db.session.commit()
            return redirect(url_for("landlord.check_move_in", key=key) if request.args.get("change")
                            else url_for("landlord.another", key=key))
    return render_template("landlord/person.html", form=form, draft=draft, n=n)


@bp.route("/drafts/<key>/person/<int:n>/remove", methods=["POST"])
@landlord_required
def remove_person(key: str, n: int):
    draft = _draft(key, "move_in")
    if draft is None:
        return _sent_already(key)
    if ActionForm().validate_on_submit():
        people = list(draft.data.get("people", []))
        if 0 <= n < len(people):
            del people[n]
            drafts.save(db.session, draft, people=people)
            db.session.commit()
    return redirect(url_for("landlord.check_move_in", key=key))


@bp.route("/drafts/<key>/another", methods=["GET", "POST"])
@landlord_required
def another(key: str):
    draft = _draft(key, "move_in")
    if draft is None:
        return _sent_already(key)
    form = AnotherForm()
    if form.validate_on_submit():
        if form.another.data == "yes":
            return redirect(url_for("landlord.person", key=key, n=len(draft.data.get("people", []))))
        return redirect(url_for("landlord.move_in_dates", key=key))
    return render_template("landlord/another.html", form=form, draft=draft)


@bp.route("/drafts/<key>/dates", methods=["GET", "POST"])
@landlord_required
def move_in_dates(key: str):
    draft = _draft(key, "move_in")
    if draft is None:
        return _sent_already(key)
    form = MoveInDatesForm(data=draft.data)
    if form.validate_on_submit():
        try:
            reporting.check_move_in_dates(form.move_in_date.data, form.lease_end_date.data,
                                          today=reporting.local_today())
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            drafts.save(db.session, draft, move_in_date=form.move_in_date.data.strip(),
                        lease_end_date=(form.lease_end_date.data or "").strip())
            db.session.commit()
            return redirect(url_for("landlord.check_move_in", key=key))
    return render_template("landlord/dates.html", form=form, draft=draft)


@bp.route("/drafts/<key>/check", methods=["GET", "POST"])
@landlord_required
def check_move_in(key: str):
    draft = _draft(key, "move_in")
    if draft is None:
        return _sent_already(key)
    form = SubmitForm(form_key=key)
    d = draft.data
    if form.validate_on_submit():
        args = {"occupants": d.get("people", []), "move_in_date": d.get("move_in_date"),
                "lease_end_date": d.get("lease_end_date") or None, "actor": actor(),
                "deadline_days": _deadline(), "form_key": key}
        try:
            if d.get("corrects"):
                filed = reporting.correct_move_in(db.session, current_user, d["corrects"], **args)
            else:
                filed = reporting.report_move_in(db.session, current_user, d["house_id"], **args)
        except NotFound:
            abort(404)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        except review.DecidedAlready:
            db.session.commit()  # nothing changed but the conflict's audit row (review.transition)
            return _decided_meanwhile(d["corrects"])
        else:
            drafts.discard(db.session, key)
            db.session.commit()  # the report and its draft's end together
            return redirect(url_for("landlord.receipt", submission_id=filed.submission.id))
    return render_template("landlord/check_move_in.html", form=form, draft=draft, remove_form=ActionForm(),
                           people=occupants.checked_people(d.get("people", []), today=reporting.local_today()))


# --- move-out: one page, then the receipt ---------------------------------------------------------

@bp.route("/tenancies/<int:tenancy_id>/move-out", methods=["GET", "POST"])
@landlord_required
def move_out(tenancy_id: int):
    tenancy = _or_404(reporting.tenancy_of, tenancy_id)
    form = MoveOutForm()
    if request.method == "GET":
        form.form_key.data = secrets.token_urlsafe(32)
    if form.validate_on_submit():
        try:
            filed = reporting.report_move_out(db.session, current_user, tenancy.id,
                                              move_out_date=form.move_out_date.data, actor=actor(),
                                              deadline_days=_deadline(), form_key=form.form_key.data or None)
        except ValidationFailed as failure:
            errors_onto_form(form, failure)
        else:
            db.session.commit()
            return redirect(url_for("landlord.receipt", submission_id=filed.submission.id))
    return render_template("landlord/move_out.html", form=form, tenancy=tenancy)


# --- submissions: status, receipt, correct, withdraw ---------------------------------------------

@bp.route("/submissions")
@landlord_required
def submissions():
    try:
        after = paging.Cursor.parse(request.args.get("after"))
    except ValidationFailed:
        after = None  # a mangled link starts again at the newest report
    items, next_cursor = paging.submissions_page(db.session, current_user, after=after, size=50)
    return render_template("landlord/submissions.html", submissions=items,
                           next_cursor=next_cursor.encode() if next_cursor else None)


@bp.route("/submissions/<int:submission_id>")
@landlord_required
def submission(submission_id: int):
    sub = _or_404(reporting.submission_of, submission_id)
    return render_template("landlord/submission.html", sub=sub, decisions=review.history(db.session, sub.id),
                           decision=attention.last_decision(db.session, sub),
                           chain=reporting.chain(db.session, sub), action_form=ActionForm(),
                           reasons=review.REJECT_REASONS, flag_label=flags.label,
                           can_correct=sub.kind.value in ("move_in", "house_registration")
                           and review.allowed(sub.status, "superseded"),
                           can_withdraw=review.allowed(sub.status, "withdrawn"))


@bp.route("/submissions/<int:submission_id>/receipt")
@landlord_required
def receipt(submission_id: int):
    return render_receipt("landlord/receipt.html", _or_404(reporting.submission_of, submission_id))


@bp.route("/submissions/<int:submission_id>/withdraw", methods=["GET", "POST"])
@landlord_required
def withdraw(submission_id: int):
    """GET: are you sure? (a page of its own, no script); POST from that page: withdraw."""
    sub = _or_404(reporting.submission_of, submission_id)
    if request.method == "GET":
        return render_template("landlord/withdraw.html", sub=sub, action_form=ActionForm(),
                               can_withdraw=review.allowed(sub.status, "withdrawn"))
    if not ActionForm().validate_on_submit():
        abort(400)
    return withdraw_and_return(sub, "landlord.submission")


@bp.route("/submissions/<int:submission_id>/correct", methods=["POST"])
@landlord_required
def correct(submission_id: int):
    sub = _or_404(reporting.submission_of, submission_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not review.allowed(sub.status, "superseded"):
        flash(_l("Only a report that is waiting or was rejected can be corrected."), "error")
        return redirect(url_for("landlord.submission", submission_id=sub.id))
    p = sub.payload
    begun = drafts.find(db.session, current_user, "move_in" if sub.kind.value == "move_in" else "house",
                        corrects=sub.id)
    if begun is not None:  # a correction of this report begun earlier: carry on with it
        return redirect(_resume_url(begun))
    if sub.kind.value == "move_in":
        people = [_as_typed(o) for o in p["occupants"]]
        draft = drafts.start(db.session, current_user, "move_in", {
            "house_id": sub.house_id, "address": p.get("address"), "people": people, "corrects": sub.id,
            "move_in_date": p.get("move_in_date"), "lease_end_date": p.get("lease_end_date") or ""})
        db.session.commit()
        return redirect(url_for("landlord.check_move_in", key=draft.key))
    if sub.kind.value == "house_registration":
        draft = drafts.start(db.session, current_user, "house", {
            "address_code": p.get("address_code"), "address": p.get("address"), "use": p.get("use"),
            "max_occupants": str(p.get("max_occupants")), "certificate_no": p.get("certificate_no") or "",
            "corrects": sub.id})
        db.session.commit()
        return redirect(url_for("landlord.house_check", key=draft.key))
    abort(404)
