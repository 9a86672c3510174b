"""The employer's pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from portal.access import employer_required

bp = Blueprint("employer", __name__, url_prefix="/employer")


@bp.route("/")
@employer_required
def home():
    return render_template("employer/home.html")
