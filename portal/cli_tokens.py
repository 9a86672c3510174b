"""flask tokens create: a personal API token for a landlord or employer, printed once."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.cli import writing
from portal.extensions import db
from portal.models import User
from portal.services import audit, tokens
from portal.services.errors import ValidationFailed


def register(app: Flask) -> None:
    group = AppGroup("tokens", help="Personal API tokens.")
    app.cli.add_command(group)

    @group.command("create")
    @click.option("--phone", required=True, help="The phone number of the landlord or employer account.")
    @click.option("--name", default="cli", show_default=True, help="What the token is for.")
    def create_token(phone: str, name: str):
        """Create an API token for an account and print it; it is not stored and cannot be shown again."""
        with writing():
            user = db.session.scalar(select(User).where(User.phone == phone.strip()))
            if user is None:
                click.echo("no such account", err=True)
                sys.exit(1)
            try:
                new = tokens.create(db.session, user, name, audit.SYSTEM,
                                    max_active=current_app.config["API_MAX_TOKENS"])
            except ValidationFailed as failure:
                click.echo("The token was not created:", err=True)
                with current_app.test_request_context():  # the messages are translated per request
                    for err in failure.errors:
                        click.echo(f"  {err.code}: {err.message}", err=True)
                sys.exit(1)
            db.session.commit()
        click.echo(f"created token {new.token.prefix}… ({new.token.name}) for {user.role} {user.phone}",
                   err=True)
        click.echo("It is shown only now; keep it as safe as a password:", err=True)
        click.echo(new.secret)
