"""flask keys: the data keys that encrypt personal data (fieldcrypt.py, services/keys.py)."""
from __future__ import annotations

import json
import time

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext as _

from portal import fieldcrypt
from portal.db import writing
from portal.extensions import db
from portal.services import keys


def register(app: Flask) -> None:
    group = AppGroup("keys", help="The data keys that encrypt personal data.")
    app.cli.add_command(group)

    @group.command("status")
    def status() -> None:
        """How many values each data key protects, per sealed column (JSON)."""
        click.echo(json.dumps(keys.status(db.session), indent=2, sort_keys=True))

    @group.command("verify")
    def verify() -> None:
        """Open every sealed value: exit status 1 if any does not open (tampered, or its key is missing)."""
        bad = 0
        for column in keys.sealed_columns():
            opened, failed = keys.verify(db.session, column)
            click.echo(_("%(column)s: %(count)s values open.", column=column.label, count=opened))
            for key, why in failed:
                click.echo(_("%(column)s: the value of row %(row)s does not open: %(why)s",
                             column=column.label, row=key, why=why), err=True)
            bad += len(failed)
        db.session.rollback()
        if bad:
            raise SystemExit(1)

    @group.command("rotate")
    @click.option("--resume", is_flag=True, help="Add no key: go on sealing under the newest one.")
    @click.option("--settle", type=float, default=fieldcrypt.CURRENT_KEY_SECONDS, show_default=True,
                  help="Seconds to wait after adding the key, until every process seals with it.")
    def rotate(resume: bool, settle: float) -> None:
        """Add a data key and seal every value again under it, in batches, while the portal serves."""
        session = db.session
        if resume:
            key_id = fieldcrypt.current().current_key_id(session.connection())
        else:
            with writing():
                key_id = keys.add_key(session)
                session.commit()
            click.echo(_("Data key %(id)s added; waiting %(seconds)s s until every process seals with it.",
                         id=key_id, seconds=format(settle, "g")))
            time.sleep(settle)
        for column in keys.sealed_columns():
            done = 0
            while True:
                with writing():
                    n = keys.reseal_batch(session, column, key_id)
                    session.commit()
                done += n
                if n < keys.BATCH:
                    break
            click.echo(_("%(column)s: %(count)s values sealed again under data key %(id)s.",
                         column=column.label, count=done, id=key_id))
