"""Account settings: the owner's personal API tokens, created (shown once) and revoked here."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired

from portal.access import authenticated
from portal.extensions import db
from portal.services import tokens
from portal.services.errors import NotFound, ValidationFailed
from portal.web import actor, errors_onto_form

bp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(FlaskForm):
    name = StringField(_l("Name of the token"),
                       description=_l("Say which system or person uses it, for example 物业管理系统."),
                       validators=[InputRequired(tokens.NAME_REQUIRED)])


class RevokeForm(FlaskForm):
    pass


def _page(form: TokenForm, status: int = 200):
    user = current_user._get_current_object()
    return render_template("account/tokens.html", form=form, revoke_form=RevokeForm(),
                           tokens=tokens.tokens_of(db.session, user),
                           may_use_api=tokens.may_use_api(user),
                           max_tokens=current_app.config["API_MAX_TOKENS"]), status


@bp.route("/tokens")
@authenticated
def api_tokens():
    return _page(TokenForm())


@bp.route("/tokens", methods=["POST"])
@authenticated
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form)
    try:
        new = tokens.create(db.session, current_user._get_current_object(), form.name.data, actor(),
                            max_active=current_app.config["API_MAX_TOKENS"])
    except ValidationFailed as failure:
        errors_onto_form(form, failure)
        return _page(form)
    db.session.commit()
    # Shown in this response only: the secret is never stored, nor put in a cookie or a redirect.
    return render_template("account/token_created.html", token=new.token, secret=new.secret)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@authenticated
def revoke_token(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        token = tokens.revoke(db.session, current_user._get_current_object(), token_id, actor())
    except NotFound:
        abort(404)
    db.session.commit()
    flash(_l("The token “%(name)s” is revoked. Systems using it can no longer reach your data.",
             name=token.name), "success")
    return redirect(url_for("account.api_tokens"))
