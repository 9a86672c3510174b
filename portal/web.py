"""Small helpers shared by the blueprints: who is acting, safe redirects, service errors onto forms."""
from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from portal.services.audit import Actor
from portal.services.errors import ValidationFailed


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
