"""The portal: create_app() is the one place that wires everything together."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import load_config
from portal.extensions import babel, csrf, db, limiter, login_manager
from portal.files import private_folder

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None, *, instance_path: Path | None = None) -> Flask:
    from portal import logfilter

    logfilter.install()  # first: whatever logs from here on is masked
    app = Flask(
        __name__,
        instance_path=str(instance_path or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    from portal.web import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route: an id no column holds is a 404
    private_folder(Path(app.instance_path))  # keys, the SQLite database, uploads: this user's only (0700)
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    if app.config["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"])

    from portal import fieldcrypt, i18n, security, sessions, templating

    fieldcrypt.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    sessions.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """The pages and the API, then the error handlers."""
    from portal.admin import blueprint as admin_blueprint
    from portal.api.views import bp as api_bp
    from portal.api.views_account import bp as account_bp
    from portal.auth.views import bp as auth_bp
    from portal.clerk.views import bp as clerk_bp
    from portal.employer.views import bp as employer_bp
    from portal.errors import init_app as init_errors
    from portal.landlord.views import bp as landlord_bp
    from portal.officer.register_views import bp as register_bp
    from portal.officer.views import bp as officer_bp
    from portal.public.views import bp as public_bp

    admin_bp = admin_blueprint()
    for bp in (public_bp, auth_bp, landlord_bp, employer_bp, officer_bp, register_bp, clerk_bp, admin_bp, api_bp,
               account_bp):
        app.register_blueprint(bp)
    init_errors(app)


def _register_commands(app: Flask) -> None:
    from portal.cli import register as register_cli
    from portal.cli_audit import register as register_audit_cli
    from portal.cli_doorplates import register as register_doorplates_cli
    from portal.cli_keys import register as register_keys_cli
    from portal.cli_outbox import register as register_outbox_cli
    from portal.cli_quality import register as register_quality_cli
    from portal.cli_tokens import register as register_token_cli

    register_cli(app)
    register_token_cli(app)
    register_doorplates_cli(app)
    register_quality_cli(app)
    register_audit_cli(app)
    register_keys_cli(app)
    register_outbox_cli(app)

