"""Every API error as application/problem+json (RFC 9457), in the language of Accept-Language."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable

from flask import Blueprint, current_app, g, request
from flask import Response as FlaskResponse
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.api import schemas
from portal.db import is_lock_wait
from portal.extensions import db
from portal.i18n import HTML_LANG
from portal.services import idempotency
from portal.services.errors import Conflict, FieldError, NotFound, StateConflict, ValidationFailed

log = logging.getLogger("portal")

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"
TYPE_PREFIX = "urn:portal:problem:"

# kind -> (status, title, detail). Titles never change between occurrences of a kind, only by language.
KINDS: dict[str, tuple[int, object, object]] = {
    "malformed_json": (400, _l("The request body is not valid JSON"),
                       _l("Send one JSON object encoded in UTF-8.")),
    "bad_request": (400, _l("The request is not valid"),
                    _l("Check the request against the API description.")),
    "unauthorized": (401, _l("A valid API token is needed"),
                     _l("Send the header Authorization: Bearer followed by a token that has not been "
                        "revoked.")),
    "not_found": (404, _l("Not found"),
                  _l("There is nothing at this address, or it belongs to someone else.")),
    "method_not_allowed": (405, _l("This method is not allowed here"),
                           _l("The Allow header lists the methods this address accepts.")),
    "conflict": (409, _l("The request conflicts with what is recorded now"),
                 _l("Nothing was saved. The listed errors say what stands in the way.")),
    "in_progress": (409, _l("A request with this Idempotency-Key is still running"),
                    _l("Wait a moment, then send the same request again to get its response.")),
    "too_large": (413, _l("The request is too large"), _l("Send a smaller body or file.")),
    "unsupported_media_type": (415, _l("This content type is not accepted here"),
                               _l("Send the body as application/json, or a file as multipart/form-data.")),
    "validation_failed": (422, _l("The request has errors"),
                          _l("Nothing was saved. Correct the listed errors and send the request again.")),
    "idempotency_key_reused": (422, _l("This Idempotency-Key was used for a different request"),
                               _l("Use a new key for a new request. Nothing was saved.")),
    "too_many_requests": (429, _l("Too many requests"),
                          _l("This token has sent too many requests. Wait as the Retry-After header says.")),
    "server_error": (500, _l("Something went wrong"),
                     _l("Something went wrong on our side. Nothing was lost; try again in a moment.")),
    "service_busy": (503, _l("The service is busy"), _l("The service is busy. Try again in a moment.")),
}
BY_STATUS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
             409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "validation_failed",
             429: "too_many_requests", 500: "server_error", 503: "service_busy"}
_FORM_FIELD = re.compile(r"[a-z_]+(?:-[0-9]+-[a-z_]+)+")


class ApiProblem(Exception):
    """Raised by API views to answer with a problem."""

    def __init__(self, kind: str, *, errors: Iterable[dict] = (), detail: object = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(kind)
        self.kind, self.errors, self.detail, self.headers = kind, list(errors), detail, headers or {}


def api_field(name: str | None) -> str | None:
    """Service field names as a request path: "occupants-0-id_number" -> "occupants.0.id_number"."""
    if name and _FORM_FIELD.fullmatch(name):
        return name.replace("-", ".")
    return name


def field_errors(errors: Iterable[FieldError]) -> list[dict]:
    return [{"field": api_field(e.field), "code": e.code, "message": str(e.message)} for e in errors]


def body(kind: str, *, errors: Iterable[dict] = (), detail: object = None, status: int | None = None) -> dict:
    """The problem as its model (schemas.Problem) writes it."""
    default_status, title, default_detail = KINDS[kind]
    instance = {"instance": f"urn:portal:request:{g.request_id}"} if g.get("request_id") else {}
    return schemas.Problem(type=TYPE_PREFIX + kind, title=str(title), status=status or default_status,
                           detail=str(detail if detail is not None else default_detail),
                           errors=[schemas.FieldError(**e) for e in errors], **instance).body()


def respond(kind: str, *, errors: Iterable[dict] = (), detail: object = None,
            headers: dict[str, str] | None = None, status: int | None = None) -> FlaskResponse:
    payload = body(kind, errors=errors, detail=detail, status=status)
    response = current_app.response_class(json.dumps(payload, ensure_ascii=False), status=payload["status"],
                                          mimetype=PROBLEM_JSON)
    response.headers["Content-Language"] = HTML_LANG.get(str(get_locale()), "zh-Hans-CN")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle(err: Exception) -> FlaskResponse:
    """The one translation of any exception raised while answering an API request."""
    if isinstance(err, ApiProblem):
        return respond(err.kind, errors=err.errors, detail=err.detail, headers=err.headers)
    if isinstance(err, idempotency.MalformedKey):
        return respond("bad_request", errors=field_errors([err.error]), detail=err.error.message)
    if isinstance(err, idempotency.KeyReused):
        return respond("idempotency_key_reused", errors=field_errors([err.error]))
    if isinstance(err, idempotency.InProgress):
        return respond("in_progress", headers={"Retry-After": "1"})
    if isinstance(err, StateConflict):
        return respond("conflict", errors=field_errors(err.errors))
    if isinstance(err, ValidationFailed):
        return respond("validation_failed", errors=field_errors(err.errors))
    if isinstance(err, FieldError):
        return respond("validation_failed", errors=field_errors([err]))
    if isinstance(err, NotFound):
        return respond("not_found")
    if isinstance(err, Conflict):
        return respond("conflict")
    if isinstance(err, HTTPException):
        return _http(err)
    db.session.rollback()
    if isinstance(err, OperationalError) and is_lock_wait(err):
        return respond("service_busy", headers={"Retry-After": "1"})
    log.exception("unhandled error in the API")
    return respond("server_error")


def _http(err: HTTPException) -> FlaskResponse:
    code = err.code or 500
    headers = {}
    if code == 405 and getattr(err, "valid_methods", None):
        headers["Allow"] = ", ".join(err.valid_methods)
    if code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    kind = BY_STATUS.get(code)
    if kind is None:  # any other 4xx keeps its status, described as a bad request
        return respond("bad_request" if code < 500 else "server_error", status=code if code < 500 else 500)
    return respond(kind, headers=headers)


def is_api_path(path: str) -> bool:
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


def _routing_error(err: HTTPException):
    """404 and 405 raised before any view is chosen: a problem under /api/, the usual page elsewhere."""
    if is_api_path(request.path):
        return _http(err)
    handlers = current_app.error_handler_spec[None][None]
    for cls in type(err).__mro__:
        if cls in handlers:
            return handlers[cls](err)
    return err


def init_blueprint(bp: Blueprint) -> None:
    bp.register_error_handler(Exception, handle)
    # Unknown /api/ paths and wrong methods never reach the blueprint: answer them app-wide, by path, and
    # hand every other path to the app's own handler so that the HTML error pages stay as they are.
    for code in (404, 405):
        bp.app_errorhandler(code)(_routing_error)
