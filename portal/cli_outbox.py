"""flask outbox: the text messages the development outbox holds (services/messages.py), newest first."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask_babel import gettext as _

from portal.db import writing
from portal.extensions import db
from portal.services import messages


def register(app: Flask) -> None:
    @app.cli.command("outbox")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
                  help="How many of the newest messages to print.")
    @click.option("--clear", is_flag=True, help="Delete every message of the outbox after printing.")
    def outbox_command(limit: int, clear: bool):
        """Print the newest messages of the development outbox (MESSAGE_SENDER=outbox)."""
        if current_app.config["MESSAGE_SENDER"] != "outbox":
            click.echo(_("Messages are not kept here: MESSAGE_SENDER is %(sender)s.",
                         sender=current_app.config["MESSAGE_SENDER"]), err=True)
            raise SystemExit(1)
        for message in messages.outbox(db.session, limit):
            click.echo(f"{message.created_at:%Y-%m-%d %H:%M:%S}Z\t{message.phone}\t{message.purpose}\t{message.text}")
        if clear:
            with writing():
                count = messages.clear_outbox(db.session)
                db.session.commit()
            click.echo(_("%(count)d messages deleted.", count=count), err=True)
