"""Pages anyone may open: the start page and the language switch."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal.access import public
from portal.extensions import db
from portal.i18n import COOKIE
from portal.services import accounts, addresses, reporting
from portal.web import public_url, qr_data_uri, safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        from portal.auth.views import home_url

        return redirect(home_url(current_user))
    return render_template("public/index.html")


@bp.route("/privacy")
@public
def privacy():
    """The privacy notice (PIPL art. 17): what is collected, why, who sees it, how long, how it is protected."""
    return render_template("public/privacy.html")


@bp.route("/language", methods=["POST"])
@public
def set_language():
    lang = request.form.get("lang", "")
    target = safe_next(request.form.get("next"), url_for("public.index"))
    response = redirect(target)
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
        if current_user.is_authenticated:
            accounts.set_locale(db.session, current_user._get_current_object(), lang)
            db.session.commit()
    return response


@bp.route("/a/<code>")
@public
def door_plate(code: str):
    """The page behind the QR code on a door plate: the address in standard form, and what to do here."""
    address = addresses.by_code(db.session, code)
    if address is None:
        abort(404)
    if address.code != code:  # typed in lower case or with dashes: one canonical URL per door
        return redirect(url_for("public.door_plate", code=address.code), 301)
    # A retired address takes no new report: its page says so, and names the address that replaced it.
    retired = addresses.not_reportable(address)
    if retired is not None:
        return render_template("public/door_plate_retired.html", address=address, message=retired.message)
    # A landlord goes on to register the house here (or to their house, if it is registered already):
    # straight away when signed in, after signing in or up otherwise. A door plate alone holds no house.
    register = url_for("landlord.new_house", address=address.code) if address.level != "door_plate" else None
    if register and current_user.is_authenticated and current_user.role == "landlord":
        return redirect(register)
    link = public_url("public.door_plate", code=address.code)
    return render_template("public/door_plate.html", address=address, qr=qr_data_uri(link), link=link,
                           after_sign_in=register or request.path)


@bp.route("/r/<number>")
@public
def receipt(number: str):
    """The page behind a receipt's QR code: no names, no ID numbers."""
    found = reporting.public_receipt(db.session, number)
    if found is None:
        abort(404)
    return render_template("public/receipt.html", r=found)
