"""The officer's pages."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from portal.access import officer_required
from portal.extensions import db
from portal.forms import AddressSearchForm
from portal.services import addresses, jurisdiction

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.route("/")
@officer_required
def home():
    return render_template("officer/home.html", where=jurisdiction.describe(current_user))


@bp.route("/addresses")
@officer_required
def find_address():
    form = AddressSearchForm(request.args)
    results = []
    if form.q.data and form.validate():
        results = addresses.search(db.session, form.q.data,
                                   beat_ids=jurisdiction.beat_ids_for(db.session, current_user))
    return render_template("officer/find_address.html", form=form, results=results)
