"""Error pages: translated, with security headers, never a stack trace; expired forms keep their values."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.db import is_lock_wait
from portal.extensions import db

log = logging.getLogger("portal")

# Fields never echoed back into a page, even hidden.
SECRET_FIELDS = ("password", "csrf_token", "code", "totp")


def kept_fields() -> list[tuple[str, str]]:
    return [(k, v) for k, values in request.form.lists() for v in values
            if not any(s in k.lower() for s in SECRET_FIELDS)]


def resubmit_page(status: int, title, message):
    return render_template("errors/resubmit.html", title=title, message=message, fields=kept_fields(),
                           action=request.full_path.rstrip("?"), status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_expired(_err):
        return resubmit_page(400, _l("Your form expired"),
                             _l("For your safety, forms expire after a while. We kept what you typed, apart from "
                                "passwords and codes: check it and send it again."))

    @app.errorhandler(OperationalError)
    def database_busy(err):
        db.session.rollback()
        if is_lock_wait(err):
            return resubmit_page(503, _l("The service is busy"),
                                 _l("Too many people are saving at this moment. Nothing was saved yet; we kept "
                                    "what you typed: send it again."))
        log.exception("database error")
        return render_template("errors/error.html", code=500, title=_l("Something went wrong"),
                               message=_l("Something went wrong on our side. Nothing was lost; try again.")), 500

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if err.code is None or err.code < 400:
            return err
        title, message = MESSAGES.get(err.code, MESSAGES[400])
        headers = {"Retry-After": "60"} if err.code == 429 else {}
        return render_template("errors/error.html", code=err.code, title=title, message=message), err.code, headers

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        title, message = MESSAGES[500]
        return render_template("errors/error.html", code=500, title=title, message=message), 500


NOT_FOUND = (_l("Page not found"),
             _l("If you typed the address, check it is right. If you followed a link, it may be out of date."))
MESSAGES = {
    400: (_l("Something is wrong with the request"),
          _l("The page could not understand what was sent. Go back and try again.")),
    403: (_l("You cannot do this"), _l("Your account does not allow this.")),
    404: NOT_FOUND,
    405: NOT_FOUND,
    413: (_l("The file is too large"),
          _l("The file you sent is larger than we accept. Make it smaller, or split it, and send it again.")),
    429: (_l("Too many attempts"),
          _l("You have tried too many times in a short while. Wait a few minutes, then try again.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side. Nothing was lost; try again in a moment.")),
    503: (_l("The service is busy"), _l("The service is busy. Try again in a moment.")),
}
