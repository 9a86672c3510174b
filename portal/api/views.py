"""The JSON API v1: thin views over the same services as the web pages, with idempotent POSTs."""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, current_app, jsonify, request

from portal.api import auth, openapi, paging, problems, schemas
from portal.api.auth import api_actor, api_token_required, api_user
from portal.api.paging import Cursor
from portal.api.problems import ApiProblem
from portal.api.serialize import address_json, house_json, submission_json
from portal.access import public
from portal.extensions import csrf, db
from portal.services import addresses, idempotency, reporting, review
from portal.services.errors import FieldError, ValidationFailed

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies under /api/, so no cross-site request can carry the caller's credentials
problems.init_blueprint(bp)
auth.init_blueprint(bp)

ID = "int(min=1, max=2147483647)"  # larger ids would overflow the database's integer: not found, never a 500
JSON_TYPES = ("application/json",)


# --- reading requests -----------------------------------------------------------------------------

def json_body(schema_name: str) -> dict:
    """The request's JSON object, checked against its schema's structure: 415, 400 or 422 otherwise."""
    mimetype = request.mimetype or ""
    if mimetype not in JSON_TYPES and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        raise ApiProblem("unsupported_media_type")
    try:
        data = json.loads(request.get_data(cache=True) or b"")
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem("malformed_json") from None
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("type", schemas.MESSAGES["type"], None)])
    errors = schemas.check(schema_name, data)
    if errors:
        raise ValidationFailed(errors)
    return data


def _canonical_request() -> str:
    """What identifies a request for its Idempotency-Key: method, path, query and the body's meaning."""
    raw = request.get_data(cache=True)
    if (request.mimetype or "").endswith("json"):
        try:
            raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except (ValueError, UnicodeDecodeError):
            pass
    return idempotency.fingerprint(request.method, request.path, request.query_string, request.mimetype or "",
                                   raw)


def idempotent(view: Callable) -> Callable:
    """Honour Idempotency-Key: the first response to a key is stored, and every retry gets it back unchanged.

    The view receives `form_key`, which it passes to the service: None without a key."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = idempotency.check_key(request.headers.get(idempotency.HEADER))
        if key is None:
            return view(*args, form_key=None, **kwargs)
        token_id = auth.current_token_id()
        outcome = idempotency.begin(db.session, token_id, key, _canonical_request())
        if isinstance(outcome, idempotency.Replay):
            response = current_app.response_class(
                outcome.body, status=outcome.status_code,
                mimetype=problems.PROBLEM_JSON if outcome.status_code >= 400 else "application/json")
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = current_app.make_response(view(*args, form_key=outcome.form_key, **kwargs))
        except Exception as err:  # answer now, so that the answer can be stored for the retries
            response = problems.handle(err)
        if response.status_code >= 500:
            idempotency.abandon(db.session, outcome)  # our failure: a retry may run again
        else:
            idempotency.finish(db.session, outcome, response.status_code, response.get_data(as_text=True))
        return response

    return wrapper


def created(payload: dict):
    return jsonify(payload), 201


def _deadline() -> int:
    return current_app.config["REPORT_DEADLINE_DAYS"]


# --- the document ---------------------------------------------------------------------------------

@bp.route("/openapi.json")
@public
def openapi_document():
    return jsonify(openapi.document())


# --- addresses ------------------------------------------------------------------------------------

@bp.route("/addresses")
@api_token_required
def find_addresses():
    q = request.args.get("q", "")
    if not q.strip():
        raise ValidationFailed([FieldError("required", schemas.MESSAGES["required"], "q")])
    found = addresses.by_code(db.session, q)
    results = [found] if found is not None else []
    results += [a for a in addresses.search(db.session, q) if found is None or a.id != found.id]
    return jsonify([address_json(a) for a in results])


# --- houses, move-ins and move-outs ----------------------------------------------------------------

@bp.route("/houses")
@api_token_required
def houses():
    return jsonify([house_json(h, reporting.occupants_of(db.session, h))
                    for h in reporting.houses_of(db.session, api_user())])


@bp.route("/houses", methods=["POST"])
@api_token_required
@idempotent
def register_house(form_key):
    data = json_body("HouseRequest")
    filed = reporting.register_house(db.session, api_user(), address_code=data["address_code"], use=data["use"],
                                     max_occupants=data["max_occupants"],
                                     certificate_no=data.get("certificate_no"), actor=api_actor(),
                                     form_key=form_key)
    sub = filed.submission
    return created({"id": sub.house_id, "submission_id": sub.id, "status": str(sub.status)})


@bp.route(f"/houses/<{ID}:house_id>/move-ins", methods=["POST"])
@api_token_required
@idempotent
def move_in(house_id: int, form_key):
    reporting.house_of(db.session, api_user(), house_id)  # another owner's house: 404 before any validation
    data = json_body("MoveInRequest")
    # More people than a report may hold is refused by the service; it need not check thousands of them.
    people = data["occupants"][: reporting.MAX_PEOPLE_PER_REPORT + 1]
    filed = reporting.report_move_in(db.session, api_user(), house_id, occupants=people,
                                     move_in_date=data["move_in_date"], lease_end_date=data.get("lease_end_date"),
                                     actor=api_actor(), deadline_days=_deadline(), form_key=form_key)
    sub = filed.submission
    house = reporting.house_of(db.session, api_user(), sub.house_id)
    tenancy_ids = [t.id for t in reporting.occupants_of(db.session, house) if t.submission_id == sub.id]
    body = submission_json(sub, decision=None, fields=("receipt", "status", "late", "flags"))
    return created({"submission_id": sub.id, **body, "tenancy_ids": tenancy_ids})


@bp.route(f"/tenancies/<{ID}:tenancy_id>/move-out", methods=["POST"])
@api_token_required
@idempotent
def move_out(tenancy_id: int, form_key):
    reporting.tenancy_of(db.session, api_user(), tenancy_id)
    data = json_body("MoveOutRequest")
    filed = reporting.report_move_out(db.session, api_user(), tenancy_id, move_out_date=data["move_out_date"],
                                      actor=api_actor(), deadline_days=_deadline(), form_key=form_key)
    sub = filed.submission
    return created({"submission_id": sub.id, "receipt": sub.receipt, "status": str(sub.status)})


# --- submissions ----------------------------------------------------------------------------------

def _enum_arg(name: str, allowed: list[str]) -> str | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if value not in allowed:
        raise ValidationFailed([FieldError("invalid_choice", schemas.MESSAGES["invalid_choice"], name)])
    return value


@bp.route("/submissions")
@api_token_required
def submissions():
    status = _enum_arg("status", schemas.STATUSES)
    kind = _enum_arg("kind", schemas.KINDS)
    cursor = Cursor.parse(request.args.get("cursor"))
    items, next_cursor = paging.submissions_page(db.session, api_user(), status=status, kind=kind, after=cursor,
                                                 size=paging.PAGE_SIZE)
    return jsonify({"items": [submission_json(s, decision=_decision(s)) for s in items],
                    "next_cursor": next_cursor.encode() if next_cursor else None})


def _decision(sub):
    if sub.decided_at is None:
        return None
    decided = [d for d in review.history(db.session, sub.id) if d.to_status in review.OFFICER_TARGETS]
    return decided[-1] if decided else None


@bp.route(f"/submissions/<{ID}:submission_id>")
@api_token_required
def submission(submission_id: int):
    sub = reporting.submission_of(db.session, api_user(), submission_id)
    return jsonify(submission_json(sub, decision=_decision(sub)))


UNITS_AVAILABLE = False
