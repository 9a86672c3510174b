"""The JSON API v1: thin views over the same services as the web pages, with idempotent POSTs. Each view
declares its operation for the OpenAPI document (portal/api/openapi.py), beside the code that answers it."""
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
from portal.api.openapi import EMPLOYER_ONLY, LANDLORD_ONLY, SUBMISSION_LINK, TRUE_FALSE, link, operation, query
from portal.api.problems import ApiProblem
from portal.api.requests import enum_arg, flag_arg, idempotent, int_arg, json_body, uploaded_file
from portal.api.serialize import address_json, flags_json, house_json, import_json, submission_json, unit_json
from portal.extensions import csrf, db
from portal.services import addresses, paging, reporting, review, staff_import, units
from portal.services.errors import FieldError, ValidationFailed

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies under /api/, so no other site can make a browser send the caller's credentials
problems.init_blueprint(bp)
auth.init_blueprint(bp)

ID = openapi.ID  # a larger id would overflow the database's integer: not found, never a 500


def answer(body: schemas.Response, status: int = 200):
    return jsonify(body.body()), status


def _deadline() -> int:
    return current_app.config["REPORT_DEADLINE_DAYS"]


@bp.route("/openapi.json")
@public
@operation(id="openapi_document", summary="This document", ok=(200, None, "The OpenAPI 3.1 document."))
def openapi_document():
    return jsonify(openapi.document(current_app))


ADDRESS_SEARCH = (
    "Free text such as `银海花园 13栋 4单元 402`, `13-4-402` or `十三栋四单元402室`, the pinyin of a road or "
    "community (`yhhy`, `yinhaihuayuan`), or an address code from a door plate's QR code. Register houses at a "
    "room or building, not at a door plate. The answer is a list of addresses, best first, "
    f"`limit` ({addresses.PAGE_SIZE} by default) at a time; follow the `Link` header's `rel=\"next\"` for the "
    f"next page. Matches are counted up to {addresses.COUNT_CAP}: beyond that `X-Total-Count` is "
    f"{addresses.COUNT_CAP}, `X-Total-Count-Capped` is `true` and the pages end there: add a word to the query.")
PAGE_HEADERS = {
    "X-Total-Count": {"description": f"How many addresses match, counted up to {addresses.COUNT_CAP}.",
                      "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-Total-Count-Capped": {"description": f"Present (true) when more than {addresses.COUNT_CAP} addresses "
                                            "match.", "schema": {"type": "string", "enum": ["true"]}},
    "Link": {"description": 'The next page, as `<URL>; rel="next"` (RFC 8288); absent on the last page.',
             "schema": {"type": "string"}},
}


@bp.route("/addresses")
@api_token_required
@operation(id="addresses_search", summary="Find standard addresses", errors=(422,), description=ADDRESS_SEARCH,
           parameters=(query("q", {"type": "string", "minLength": 1, "pattern": "\\S"}, required=True),
                       query("cursor", {"type": "string"},
                             "From the `Link: <...>; rel=\"next\"` header of the previous page."),
                       query("limit", {"type": "integer", "minimum": 1, "maximum": addresses.MAX_PAGE_SIZE,
                                       "default": addresses.PAGE_SIZE}, "Addresses per page.")),
           ok=(200, [schemas.Address], "One page of matching addresses, best first."), ok_headers=PAGE_HEADERS)
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
    response = jsonify([address_json(a).body() for a in items])
    response.headers["X-Total-Count"] = str(total)
    if more:
        response.headers["X-Total-Count-Capped"] = "true"
    if next_offset is not None:
        link_to = url_for("api.find_addresses", q=q, cursor=paging.encode_offset(next_offset), limit=size,
                          _external=True)
        response.headers["Link"] = f'<{link_to}>; rel="next"'
    return response


# --- landlords: houses, move-ins and move-outs ------------------------------------------------------

@bp.route("/houses")
@landlord_token_required
@operation(id="houses_list", summary="Your houses and who lives in them", errors=(404,), description=LANDLORD_ONLY,
           ok=(200, [schemas.House], "Your houses."))
def houses():
    return jsonify([house_json(h, reporting.occupants_of(db.session, h)).body()
                    for h in reporting.houses_of(db.session, api_user())])


@bp.route("/houses", methods=["POST"])
@landlord_token_required
@idempotent
@operation(id="houses_register", summary="Register a house (实有房屋)", errors=(404,), description=LANDLORD_ONLY,
           body=schemas.HouseRequest,
           ok=(201, schemas.HouseCreated, "The house and its registration report."),
           links={**SUBMISSION_LINK, "ReportMoveIn": link("houses_move_in", "Report tenants moving in.",
                                                          house_id="$response.body#/id")})
def register_house(form_key):
    data = json_body(schemas.HouseRequest)
    filed = reporting.register_house(db.session, api_user(), address_code=data.address_code, use=data.use,
                                     max_occupants=data.max_occupants, certificate_no=data.certificate_no,
                                     actor=api_actor(), form_key=form_key)
    sub = filed.submission
    return answer(schemas.HouseCreated(id=sub.house_id, submission_id=sub.id, status=str(sub.status),
                                       flags=flags_json(sub)), 201)


@bp.route(f"/houses/<{ID}:house_id>/move-ins", methods=["POST"])
@landlord_token_required
@idempotent
@operation(id="houses_move_in", summary="Report people moving in", errors=(404,),
           description="Report within the deadline (3 days by default); a late report is accepted and marked "
                       "late. Flags never block a report: they tell the officer where to look. " + LANDLORD_ONLY,
           body=schemas.MoveInRequest, ok=(201, schemas.MoveInCreated, "The move-in report."),
           links={**SUBMISSION_LINK, "ReportMoveOut": link("tenancies_move_out",
                                                           "Report that the first person moved out.",
                                                           tenancy_id="$response.body#/tenancy_ids/0")})
def move_in(house_id: int, form_key):
    try:
        data = json_body(schemas.MoveInRequest)
    except (ApiProblem, ValidationFailed):
        reporting.reportable_house(db.session, api_user(), house_id)  # another owner's house: 404 first
        raise
    filed = reporting.report_move_in(db.session, api_user(), house_id,
                                     occupants=[o.model_dump() for o in data.occupants],
                                     move_in_date=data.move_in_date, lease_end_date=data.lease_end_date,
                                     actor=api_actor(), deadline_days=_deadline(), form_key=form_key)
    sub = filed.submission
    return answer(schemas.MoveInCreated(submission_id=sub.id, receipt=sub.receipt, status=str(sub.status),
                                        late=bool(sub.late), flags=flags_json(sub),
                                        tenancy_ids=reporting.tenancy_ids_of(db.session, filed)), 201)


@bp.route(f"/tenancies/<{ID}:tenancy_id>/move-out", methods=["POST"])
@landlord_token_required
@idempotent
@operation(id="tenancies_move_out", summary="Report that a person moved out", errors=(404,),
           description=LANDLORD_ONLY, path_ids={"tenancy_id": "tenancy (see GET /houses)"},
           body=schemas.MoveOutRequest, ok=(201, schemas.MoveOutCreated, "The move-out report."),
           links=SUBMISSION_LINK)
def move_out(tenancy_id: int, form_key):
    reporting.tenancy_of(db.session, api_user(), tenancy_id)
    data = json_body(schemas.MoveOutRequest)
    filed = reporting.report_move_out(db.session, api_user(), tenancy_id, move_out_date=data.move_out_date,
                                      actor=api_actor(), deadline_days=_deadline(), form_key=form_key)
    sub = filed.submission
    return answer(schemas.MoveOutCreated(submission_id=sub.id, receipt=sub.receipt, status=str(sub.status)), 201)


# --- employers: units and staff lists ---------------------------------------------------------------

@bp.route("/units")
@employer_token_required
@operation(id="units_list", summary="Your units", errors=(404,), description=EMPLOYER_ONLY,
           ok=(200, [schemas.Unit], "Your units."))
def units_list():
    return jsonify([unit_json(u).body() for u in units.units_of(db.session, api_user())])


@bp.route("/units", methods=["POST"])
@employer_token_required
@idempotent
@operation(id="units_register", summary="Register a unit (实有单位)", errors=(404,), description=EMPLOYER_ONLY,
           body=schemas.UnitRequest, ok=(201, schemas.UnitCreated, "The unit and its registration report."),
           links={**SUBMISSION_LINK, "UploadStaffList": link("units_staff_import", "Upload the unit's staff list.",
                                                             unit_id="$response.body#/id")})
def register_unit(form_key):
    data = json_body(schemas.UnitRequest)
    filed = units.register_unit(db.session, api_user(), **data.model_dump(), actor=api_actor(), form_key=form_key)
    sub = filed.submission
    return answer(schemas.UnitCreated(id=sub.unit_id, submission_id=sub.id, status=str(sub.status),
                                      flags=flags_json(sub)), 201)


@bp.route(f"/units/<{ID}:unit_id>/staff-imports", methods=["POST"])
@employer_token_required
@idempotent
@operation(id="units_staff_import", summary="Upload a staff list (CSV or XLSX)", errors=(404,),
           description=openapi.STAFF_IMPORT + openapi.staff_columns_text(), body=openapi.UPLOAD,
           parameters=(query("dry_run", {**TRUE_FALSE, "default": "false"}),
                       query("full_list", {**TRUE_FALSE, "default": "true"}),
                       query("confirm_departures", {**TRUE_FALSE, "default": "false"},
                             "A complete list that would report more than 3 people, or more than a fifth of the "
                             "roster, as having left is refused (422, `departures_unconfirmed`) unless this is "
                             "true: a dry run's answer says so in `departures_need_confirmation`.")),
           ok=(201, schemas.StaffImportResult, "The list was imported: what it held and what the import filed."),
           also={200: (schemas.StaffImportResult,
                       "Nothing was written: a dry run, or the unit's latest import had the same content. The "
                       "counts say what the list holds and what it would change.")})
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
        return answer(import_json(pv))
    # Many departures are refused (422, field confirm_departures) unless confirmed, as on the preview page.
    done = staff_import.commit(db.session, unit, api_user(), pv, api_actor(),
                               departures_confirmed=flag_arg("confirm_departures", False))
    if not getattr(done, "created", True):  # the unit's latest import had this content: nothing changed
        return answer(import_json(pv))
    return answer(import_json(pv, done=done), 201)


# --- everyone's reports -----------------------------------------------------------------------------

def _decision(sub):
    """The police's latest decision on a report, if any."""
    if sub.decided_at is None:
        return None
    decided = [d for d in review.history(db.session, sub.id) if d.to_status in review.OFFICER_TARGETS]
    return decided[-1] if decided else None


@bp.route("/submissions")
@api_token_required
@operation(id="submissions_list", summary="Your reports, newest first", errors=(422,),
           parameters=(query("status", {"type": "string", "enum": schemas.STATUSES}),
                       query("kind", {"type": "string", "enum": schemas.KINDS}),
                       query("cursor", {"type": "string"}, "`next_cursor` of the previous page.")),
           ok=(200, schemas.SubmissionPage, f"One page of reports, {paging.PAGE_SIZE} at most."))
def submissions():
    status = enum_arg("status", schemas.STATUSES)
    kind = enum_arg("kind", schemas.KINDS)
    cursor = paging.Cursor.parse(request.args.get("cursor"))
    items, next_cursor = paging.submissions_page(db.session, api_user(), status=status, kind=kind,
                                                 after=cursor, size=paging.PAGE_SIZE)
    return answer(schemas.SubmissionPage(items=[submission_json(s, decision=_decision(s)) for s in items],
                                         next_cursor=next_cursor.encode() if next_cursor else None))


@bp.route(f"/submissions/<{ID}:submission_id>")
@api_token_required
@operation(id="submissions_get", summary="One report and the police's decision", errors=(404,),
           path_ids={"submission_id": "report"}, ok=(200, schemas.Submission, "The report."))
def submission(submission_id: int):
    sub = reporting.submission_of(db.session, api_user(), submission_id)
    return answer(submission_json(sub, decision=_decision(sub)))
