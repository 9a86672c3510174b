"""The JSON API v1: thin views over the same services as the web pages, with idempotent POSTs."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

from portal.access import public
from portal.api import auth, openapi, problems, schemas
from portal.api.auth import (
    api_actor,
    api_token_required,
    api_user,
    employer_token_required,
    landlord_token_required,
)
from portal.api.problems import ApiProblem
from portal.api.requests import enum_arg, flag_arg, idempotent, int_arg, json_body, uploaded_file
from portal.api.serialize import address_json, house_json, import_json, submission_json, unit_json
from portal.extensions import csrf, db
from portal.services import addresses, paging, reporting, review, staff_import, units
from portal.services.errors import FieldError, ValidationFailed

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies under /api/, so no other site can make a browser send the caller's credentials
problems.init_blueprint(bp)
auth.init_blueprint(bp)

ID = "int(min=1, max=2147483647)"  # a larger id would overflow the database's integer: not found, never a 500


def created(payload: dict):
    return jsonify(payload), 201


def _deadline() -> int:
    return current_app.config["REPORT_DEADLINE_DAYS"]


@bp.route("/openapi.json")
@public
def openapi_document():
    return jsonify(openapi.document())


@bp.route("/addresses")
@api_token_required
def find_addresses():
    q = request.args.get("q", "")
    if not q.strip():
        raise ValidationFailed([FieldError("required", schemas.MESSAGES["required"], "q")])
    offset = paging.parse_offset(request.args.get("cursor"))
    size = int_arg("limit", 1, addresses.MAX_PAGE_SIZE, addresses.PAGE_SIZE)
    found = addresses.by_code(db.session, q) if offset == 0 else None  # a code scanned from a door plate
    if found is not None:
        items, total, more, next_offset = [found], 1, False, None
    else:
        page = addresses.search_page(db.session, q, offset=offset, size=size)
        items, total, more, next_offset = page.items, page.total, page.more, page.next_offset
    response = jsonify([address_json(a) for a in items])
    response.headers["X-Total-Count"] = str(total)
    if more:
        response.headers["X-Total-Count-Capped"] = "true"
    if next_offset is not None:
        link = url_for("api.find_addresses", q=q, cursor=paging.encode_offset(next_offset), limit=size,
                       _external=True)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response


# --- landlords: houses, move-ins and move-outs ------------------------------------------------------

@bp.route("/houses")
@landlord_token_required
def houses():
    return jsonify([house_json(h, reporting.occupants_of(db.session, h))
                    for h in reporting.houses_of(db.session, api_user())])


@bp.route("/houses", methods=["POST"])
@landlord_token_required
@idempotent
def register_house(form_key):
    data = json_body("HouseRequest")
    filed = reporting.register_house(db.session, api_user(), address_code=data["address_code"],
                                     use=data["use"], max_occupants=data["max_occupants"],
                                     certificate_no=data.get("certificate_no"), actor=api_actor(),
                                     form_key=form_key)
    sub = filed.submission
    return created({"id": sub.house_id, "submission_id": sub.id, "status": str(sub.status),
                    **submission_json(sub, fields=("flags",))})


@bp.route(f"/houses/<{ID}:house_id>/move-ins", methods=["POST"])
@landlord_token_required
@idempotent
def move_in(house_id: int, form_key):
    try:
        data = json_body("MoveInRequest")
    except (ApiProblem, ValidationFailed):
        reporting.reportable_house(db.session, api_user(), house_id)  # another owner's house: 404 first
        raise
    # More people than a report may hold is refused by the service; it need not check thousands of them.
    people = data["occupants"][: reporting.MAX_PEOPLE_PER_REPORT + 1]
    filed = reporting.report_move_in(db.session, api_user(), house_id, occupants=people,
                                     move_in_date=data["move_in_date"],
                                     lease_end_date=data.get("lease_end_date"), actor=api_actor(),
                                     deadline_days=_deadline(), form_key=form_key)
    sub = filed.submission
    tenancy_ids = reporting.tenancy_ids_of(db.session, filed)
    summary = submission_json(sub, fields=("receipt", "status", "late", "flags"))
    return created({"submission_id": sub.id, **summary, "tenancy_ids": tenancy_ids})


@bp.route(f"/tenancies/<{ID}:tenancy_id>/move-out", methods=["POST"])
@landlord_token_required
@idempotent
def move_out(tenancy_id: int, form_key):
    reporting.tenancy_of(db.session, api_user(), tenancy_id)
    data = json_body("MoveOutRequest")
    filed = reporting.report_move_out(db.session, api_user(), tenancy_id, move_out_date=data["move_out_date"],
                                      actor=api_actor(), deadline_days=_deadline(), form_key=form_key)
    sub = filed.submission
    return created({"submission_id": sub.id, "receipt": sub.receipt, "status": str(sub.status)})


# --- employers: units and staff lists ---------------------------------------------------------------

@bp.route("/units")
@employer_token_required
def units_list():
    return jsonify([unit_json(u) for u in units.units_of(db.session, api_user())])


@bp.route("/units", methods=["POST"])
@employer_token_required
@idempotent
def register_unit(form_key):
    data = json_body("UnitRequest")
    fields = ("uscc", "name", "unit_type", "industry", "special_trade", "address_code", "legal_rep_name",
              "legal_rep_id_number", "contact_name", "contact_phone")
    filed = units.register_unit(db.session, api_user(), **{f: data.get(f) for f in fields}, actor=api_actor(),
                                form_key=form_key)
    sub = filed.submission
    return created({"id": sub.unit_id, "submission_id": sub.id, "status": str(sub.status)})


@bp.route(f"/units/<{ID}:unit_id>/staff-imports", methods=["POST"])
@employer_token_required
@idempotent
def staff_imports(unit_id: int, form_key):
    unit = units.unit_of(db.session, api_user(), unit_id)
    dry_run, full_list = flag_arg("dry_run", False), flag_arg("full_list", True)
    data, filename = uploaded_file("file")
    limits = {"max_rows": current_app.config["MAX_IMPORT_ROWS"],
              "max_bytes": int(current_app.config.get("MAX_CONTENT_LENGTH") or staff_import.MAX_BYTES)}
    try:
        pv = staff_import.preview(db.session, unit, data, filename, full_list=full_list, **limits)
    except staff_import.FileRejected as rejected:
        raise ValidationFailed([FieldError(rejected.code, rejected.message, "file")]) from None
    if dry_run:
        return jsonify(import_json(pv))
    done = staff_import.commit(db.session, unit, api_user(), pv, api_actor())
    if not getattr(done, "created", True):  # the unit's latest import had this content: nothing changed
        return jsonify(import_json(pv))
    return jsonify(import_json(pv, done=done)), 201


# --- everyone's reports -----------------------------------------------------------------------------

def _decision(sub):
    """The police's latest decision on a report, if any."""
    if sub.decided_at is None:
        return None
    decided = [d for d in review.history(db.session, sub.id) if d.to_status in review.OFFICER_TARGETS]
    return decided[-1] if decided else None


@bp.route("/submissions")
@api_token_required
def submissions():
    status = enum_arg("status", schemas.STATUSES)
    kind = enum_arg("kind", schemas.KINDS)
    cursor = paging.Cursor.parse(request.args.get("cursor"))
    items, next_cursor = paging.submissions_page(db.session, api_user(), status=status, kind=kind,
                                                 after=cursor, size=paging.PAGE_SIZE)
    return jsonify({"items": [submission_json(s, decision=_decision(s)) for s in items],
                    "next_cursor": next_cursor.encode() if next_cursor else None})


@bp.route(f"/submissions/<{ID}:submission_id>")
@api_token_required
def submission(submission_id: int):
    sub = reporting.submission_of(db.session, api_user(), submission_id)
    return jsonify(submission_json(sub, decision=_decision(sub)))

