"""flask keys: the data keys that encrypt personal data (fieldcrypt.py, services/keys.py)."""
from __future__ import annotations

import json
import time

import click
from flask import Flask
from flask.cli import AppGroup

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
            click.echo(f"data key {key_id} added; waiting {settle:g} s for every process to take it up")
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
            click.echo(f"{column.label}: {done} values sealed again under data key {key_id}")
