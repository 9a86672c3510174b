"""Small helpers shared by the blueprints: who is acting, safe redirects, service errors onto forms."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, request
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
