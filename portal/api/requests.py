"""Reading API requests: JSON bodies, query flags, uploaded files, and the Idempotency-Key of every POST."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request
from sqlalchemy.exc import IntegrityError

from portal.api import auth, problems, schemas
from portal.api.problems import ApiProblem
from portal.db import writing
from portal.extensions import db
from portal.services import idempotency
from portal.services.errors import FieldError, ValidationFailed


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/")
                                               and mimetype.endswith("+json"))


_MALFORMED = object()


def _decoded_json():
    """The body parsed as JSON, once per request (the Idempotency-Key fingerprint reads it too), or
    _MALFORMED."""
    if "api_json" not in g:
        try:
            g.api_json = json.loads(request.get_data(cache=True) or b"")
        except (ValueError, UnicodeDecodeError, RecursionError):
            g.api_json = _MALFORMED
    return g.api_json


def json_body(model: type[schemas.Request]) -> schemas.Request:
    """The request's JSON object parsed by its model (portal/api/schemas.py): 415, 400 or 422 otherwise."""
    if not _is_json(request.mimetype or ""):
        raise ApiProblem("unsupported_media_type")
    data = _decoded_json()
    if data is _MALFORMED:
        raise ApiProblem("malformed_json")
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("type", schemas.MESSAGES["type"], None)])
    return schemas.parse(model, data)


def uploaded_file(field: str = "file") -> tuple[bytes, str]:
    """The bytes and file name of a multipart upload: 415 for another content type, 422 without the file."""
    if request.mimetype != "multipart/form-data":
        raise ApiProblem("unsupported_media_type")
    sent = request.files.get(field)
    if sent is None:
        raise ValidationFailed([FieldError("required", schemas.MESSAGES["required"], field)])
    return sent.read(), sent.filename or ""


def enum_arg(name: str, allowed: list[str], default: str | None = None) -> str | None:
    value = request.args.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise ValidationFailed([FieldError("invalid_choice", schemas.MESSAGES["invalid_choice"], name)])
    return value


def int_arg(name: str, minimum: int, maximum: int, default: int) -> int:
    """An integer query parameter from minimum to maximum: 422 for anything else."""
    value = request.args.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and minimum <= int(value) <= maximum):
        raise ValidationFailed([FieldError("invalid_number", schemas.MESSAGES["invalid_number"], name)])
    return int(value)


def flag_arg(name: str, default: bool) -> bool:
    return enum_arg(name, ["true", "false"], "true" if default else "false") == "true"


def _canonical_request() -> str:
    """What makes two requests the same request for an Idempotency-Key: method, path, query and the body's
    meaning (JSON with its keys sorted; an upload's fields, file name and content, whatever the boundary)."""
    mimetype = request.mimetype or ""
    if mimetype == "multipart/form-data":
        parts = [f"{k}={v}" for k, values in sorted(request.form.lists()) for v in values]
        for name, sent in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = sent.read()
            sent.seek(0)
            parts.append(f"{name}:{sent.filename}:{hashlib.sha256(content).hexdigest()}")
        body = "\n".join(parts).encode()
    else:
        body = request.get_data(cache=True)
        data = _decoded_json() if _is_json(mimetype) else _MALFORMED
        if data is not _MALFORMED:
            try:
                body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
                    "utf-8", "surrogatepass")  # a lone surrogate is refused by the view, and that answer kept
            except RecursionError:  # nested deeper than dumps goes: the bytes as sent, then
                pass
    return idempotency.fingerprint(request.method, request.path, request.query_string, mimetype, body)


def _replayed(replay: idempotency.Replay):
    response = current_app.response_class(
        replay.body, status=replay.status_code,
        mimetype=problems.PROBLEM_JSON if replay.status_code >= 400 else "application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: Callable) -> Callable:
    """One transaction and one commit per API write, holding the work and, with an Idempotency-Key, the
    response every retry with that key gets unchanged. Only a request that was carried out (2xx) stores
    its response; a refused one (4xx) or a failed one (5xx) leaves the key free.

    The steps: claim the key (or replay the first answer), run the view, store its answer with the work,
    commit. The view receives `form_key` (None without a key), which it hands to the service; services
    only add and flush, and the commit is made here, once the response is known."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = idempotency.check_key(request.headers.get(idempotency.HEADER))
        held = None
        if key is not None:
            try:
                outcome = idempotency.claim(db.session, auth.current_token_id(), key, _canonical_request())
            except Exception:  # the key is held by a running request, or was used for another one
                db.session.rollback()
                raise
            if isinstance(outcome, idempotency.Replay):
                db.session.rollback()
                return _replayed(outcome)
            held = outcome
        try:
            response = current_app.make_response(view(*args, form_key=held and held.form_key, **kwargs))
        except Exception as err:  # answered here, so that the answer can be stored for the retries
            db.session.rollback()  # nothing of a refused request is kept
            response = problems.handle(err)
        if response.status_code >= 400:
            # Refused (bad input, a state that stands in the way) or our failure: nothing was done and
            # nothing is stored, so the key stays free for the corrected retry.
            db.session.rollback()
            return response
        first = _commit(held, response)
        return _replayed(first) if first is not None else response

    return wrapper


def _commit(held: idempotency.Claim | None, response) -> idempotency.Replay | None:
    """Store the response with the work and commit both; None, or the first request's answer when another
    request with the key stored one first (this one's work is then rolled back)."""
    try:
        with writing():
            if held is not None:
                idempotency.store(db.session, held, response.status_code, response.get_data(as_text=True))
            db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
        first = held and idempotency.stored(db.session, held.token_id, held.key)
        db.session.rollback()
        if first is None:
            raise
    return idempotency.replay(first, held.request_hash)
