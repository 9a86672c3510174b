"""The admin blueprint: administrators' accounts and jurisdictions, the auditor's log. Its views live in
three modules that share this one blueprint."""
from flask import Blueprint, current_app
from werkzeug.exceptions import NotFound as PageNotFound

from portal.services.errors import NotFound

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.errorhandler(NotFound)
def not_found(_err):
    """An object outside the administrator's scope is a 404, as one that does not exist."""
    return current_app.handle_http_exception(PageNotFound())


def blueprint() -> Blueprint:
    """The blueprint with every admin route on it (importing the view modules adds them)."""
    from portal.admin import account_views, jurisdiction_views, views  # noqa: F401

    return bp
