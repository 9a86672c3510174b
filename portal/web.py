"""Small helpers shared by the blueprints: who is acting, safe redirects, service errors onto forms."""
from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from portal.services.audit import Actor
from portal.services.errors import ValidationFailed

# The largest id of a row: every id column is an INTEGER (PostgreSQL's int4; SQLite takes 64 bits but no more).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: an id a column can hold, or the route does not match (404), never a query that the
    database refuses (a 500 on SQLite beyond 2**63, on PostgreSQL beyond 2**31)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def id_value(raw: object) -> int | None:
    """An id typed in a request value: ASCII digits naming a possible row (1 to MAX_ID), or None."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def id_arg(name: str) -> int | None:
    """The query argument `name` as an id (id_value), or None."""
    return id_value(request.args.get(name))


def actor() -> Actor:
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user=user, ip=request.remote_addr, request_id=g.get("request_id"))


def safe_next(target: str | None, default: str) -> str:
    """Only same-host relative paths: //evil, /\\evil, javascript: and absolute URLs fall back."""
    if not target:
        return default
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


def errors_onto_form(form, failure: ValidationFailed) -> None:
    """Put each service error on the form field it belongs to (or the form's top-level errors)."""
    for err in failure.errors:
        field = getattr(form, err.field, None) if err.field else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [err.message]
        else:
            form.form_errors.append(err.message)


def public_url(endpoint: str, **values) -> str:
    """An absolute link to a page, for use outside the portal (a QR code, a message): it starts with the
    configured PORTAL_BASE_URL, whatever Host header the request that made it carried."""
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def qr_data_uri(link: str, scale: int = 4) -> str:
    """A QR code as an inline SVG image (the CSP allows data: images; nothing is fetched)."""
    return segno.make(link, error="m").svg_data_uri(scale=scale, border=2)


def render_receipt(template: str, sub):
    """The printable receipt of a submission, with a QR code of its public check page."""
    link = public_url("public.receipt", number=sub.receipt)
    return render_template(template, sub=sub, qr=qr_data_uri(link), link=link)


def withdraw_and_return(sub, endpoint: str):
    """The reporter withdraws a submission that is still waiting; any later state is explained."""
    from flask_babel import lazy_gettext as _l

    from portal.extensions import db
    from portal.services import reporting, review

    try:
        reporting.withdraw(db.session, current_user, sub.id, actor())
    except (ValidationFailed, review.DecidedAlready):
        db.session.commit()  # nothing changed but, for a conflict, its audit row (review.transition)
        flash(_l("This report can no longer be withdrawn: the police have decided on it."), "error")
    else:
        db.session.commit()
        flash(_l("Your report has been withdrawn."), "success")
    return redirect(url_for(endpoint, submission_id=sub.id))
