"""Pages anyone may open: the start page and the language switch."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.access import public
from portal.extensions import db
from portal.i18n import COOKIE
from portal.public.forms import AccessCodeForm, AccessRequestForm
from portal.services import accounts, addresses, messages, record_access, reporting
from portal.services.errors import ValidationFailed
from portal.web import actor, errors_onto_form, public_url, qr_data_uri, safe_next

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


# --- the person's own view of who read their record (services/record_access.py) ------------------------

def _access_reasons() -> dict:
    """The words for a reason, by the kind of entry (a full export's reasons are its own list)."""
    from portal.services import exports, register_search

    return {"record": register_search.REVEAL_REASONS, "export": exports.EXPORT_REASONS,
            "id": {record_access.CHECKING_A_REPORT: _l("Checking a report that names you")}}


def _access_page(template: str, status: int = 200, **context):
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"  # nothing of it in the browser's history or cache
    return response


@bp.route("/my-record", methods=["GET", "POST"])
@public
def my_record():
    """Step 1: the document and the phone; a code goes to the phone on the record if it is the one given (the same
    answer whatever happens)."""
    form = AccessRequestForm()
    if not messages.available():
        return _access_page("public/my_record.html", 503, form=None)
    if not form.validate_on_submit():
        return _access_page("public/my_record.html", 400 if form.errors else 200, form=form)
    limits = record_access.Limits.from_config(current_app.config)
    try:
        requested = record_access.request_code(
            db.session, form.id_type.data, form.id_number.data, form.phone.data, ip=request.remote_addr,
            limits=limits, actor=actor(), message_text=lambda code: _l(
                "Your code to see who read your record on the residents' register: %(code)s. It is valid for "
                "%(minutes)d minutes. Nobody from the police will ask you for it.",
                code=code, minutes=record_access.CODE_MINUTES))
    except ValidationFailed as failure:
        errors_onto_form(form, failure)
        return _access_page("public/my_record.html", 400, form=form)
    except record_access.TooManyRequests:
        db.session.commit()  # the refusal is audited
        form.form_errors.append(_l("Too many codes were asked from this network in the last hour. Try again in an "
                                   "hour."))
        return _access_page("public/my_record.html", 429, form=form)
    except messages.NotAvailable:
        db.session.rollback()
        form.form_errors.append(_l("No text message could be sent just now. Try again in a few minutes."))
        return _access_page("public/my_record.html", 503, form=form)
    db.session.commit()  # the challenge first: a code is sent only for one that was kept
    messages.send_soon(db.session, requested.message)  # the outbox's row, or the gateway once this answer has gone
    db.session.commit()
    session["access_challenge"] = requested.token
    session.pop("access_view", None)
    return redirect(url_for("public.my_record_code"))


def _code_page(form, status: int):
    return _access_page("public/my_record_code.html", status, form=form, code_minutes=record_access.CODE_MINUTES,
                        limits=record_access.Limits.from_config(current_app.config))


@bp.route("/my-record/code", methods=["GET", "POST"])
@public
def my_record_code():
    """Step 2: the code from the text message."""
    if "access_challenge" not in session:
        return redirect(url_for("public.my_record"))
    form = AccessCodeForm()
    if not form.validate_on_submit():
        return _code_page(form, 400 if form.errors else 200)
    try:
        record_access.check_code(db.session, session.get("access_challenge"), form.code.data,
                                 view_minutes=current_app.config["ACCESS_VIEW_MINUTES"], actor=actor())
    except record_access.WrongCode:
        db.session.commit()  # the attempt is counted and audited
        form.code.errors = [_l("This code is wrong, or it has expired. Check the message, or ask for a new code.")]
        return _code_page(form, 400)
    db.session.commit()
    session["access_view"] = session.pop("access_challenge")  # the used challenge's row holds the view
    return redirect(url_for("public.my_record_list"))


@bp.route("/my-record/list")
@public
def my_record_list():
    """Step 3: who read the record, for ACCESS_VIEW_MINUTES after the right code."""
    view = session.get("access_view")
    person_id = record_access.viewer(db.session, view)
    if person_id is None:
        session.pop("access_view", None)
        flash(_l("To see who read your record, ask for a new code."), "info")
        return redirect(url_for("public.my_record"))
    entries = record_access.entries(db.session, person_id, actor=actor())
    db.session.commit()
    return _access_page("public/my_record_list.html", entries=entries, kinds=record_access.KINDS,
                        reasons=_access_reasons(), form=FlaskForm())


@bp.route("/my-record/end", methods=["POST"])
@public
def my_record_end():
    if FlaskForm().validate_on_submit():
        view = session.pop("access_view", None)
        record_access.end_view(db.session, view)
        db.session.commit()
        session.pop("access_challenge", None)
    return redirect(url_for("public.index"))
