"""One access decision per view. Each decorator tags the view (`view.access`) so a test can walk
the route table, and the app denies any endpoint that carries no tag."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from portal.models import Role


def public(view: Callable) -> Callable:
    view.access = "public"
    return view


def authenticated(view: Callable) -> Callable:
    """Any signed-in user, whatever the role."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    wrapper.access = "authenticated"
    return wrapper


def role_required(*roles: Role) -> Callable[[Callable], Callable]:
    """Signed-in users of these roles; any other signed-in user gets a 404, never a 403 that leaks."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        wrapper.access = "role:" + ",".join(sorted(str(r) for r in roles))
        return wrapper

    return decorator


landlord_required = role_required(Role.landlord)
employer_required = role_required(Role.employer)
officer_required = role_required(Role.officer)
admin_required = role_required(Role.admin)
auditor_required = role_required(Role.auditor)
clerk_required = role_required(Role.clerk)
