"""The landlord's pages."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from portal.access import landlord_required
from portal.extensions import db
from portal.forms import AddressSearchForm
from portal.services import addresses

bp = Blueprint("landlord", __name__, url_prefix="/landlord")


@bp.route("/")
@landlord_required
def home():
    return render_template("landlord/home.html")


@bp.route("/addresses")
@landlord_required
def find_address():
    form = AddressSearchForm(request.args)
    results = addresses.search(db.session, form.q.data) if form.q.data and form.validate() else []
    return render_template("landlord/find_address.html", form=form, results=results)
