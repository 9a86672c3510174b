"""Choosing the language: the user's saved choice, then the visitor's cookie, then Accept-Language."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.services import review

LANGUAGE_NAMES = {"zh_Hans_CN": "中文", "en": "English"}
HTML_LANG = {"zh_Hans_CN": "zh-Hans-CN", "en": "en"}
COOKIE = "lang"
LEVEL_NAMES = {"door_plate": _l("Door plate"), "building": _l("Building"), "room": _l("Room")}
ROLE_NAMES = {"landlord": _l("Landlord"), "employer": _l("Employer"), "officer": _l("Officer"),
              "admin": _l("Administrator"), "auditor": _l("Auditor"), "clerk": _l("Address clerk")}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI and background jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    try:
        user_locale = current_user.locale if current_user and current_user.is_authenticated else None
    except Exception:  # no request user (CLI, early errors): fall through to the request's wishes
        user_locale = None
    for choice in (user_locale, session.get("lang"), request.cookies.get(COOKIE)):
        if choice in languages:
            return choice
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best and best.startswith("en"):
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    # Names and labels are globals, so that macros imported without context can use them too.
    app.jinja_env.globals.update(level_names=LEVEL_NAMES, role_names=ROLE_NAMES,
                                 status_label=review.status_label, kind_label=review.kind_label)

    @app.context_processor
    def language_context():
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "current_locale": locale,
            "html_lang": HTML_LANG.get(locale, "zh-Hans-CN"),
            "language_names": LANGUAGE_NAMES,
        }
