"""flask doorplates: A4 sheets of QR door plates for a beat or a building, to print and cut out."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask_babel import gettext as _

from portal.db import writing
from portal.extensions import db
from portal.services import audit, doorplates
from portal.services.errors import ValidationFailed


def register(app: Flask) -> None:
    @app.cli.command("doorplates")
    @click.option("--beat", "beat_code", default=None,
                  help="Plates for every room of this beat, and its buildings without rooms (beat code).")
    @click.option("--building", "building_code", default=None,
                  help="Plates for the rooms of this building (its address code).")
    @click.option("-o", "--output", default=None, type=click.Path(path_type=Path), help="The PDF file to write.")
    def doorplates_command(beat_code: str | None, building_code: str | None, output: Path | None):
        """Write an A4 PDF of QR door plates, laid out for cutting: --beat CODE or --building CODE, -o FILE.pdf."""
        problem = _check_arguments(beat_code, building_code, output)
        if problem:
            _fail([problem])
        config = current_app.config
        base_url, limit = config["PORTAL_BASE_URL"], config["MAX_DOOR_PLATES"]
        try:
            if beat_code is not None:
                plates = doorplates.plates_for_beat(db.session, beat_code, base_url=base_url, limit=limit)
            else:
                plates = doorplates.plates_for_building(db.session, building_code, base_url=base_url, limit=limit)
            db.session.rollback()  # nothing was written; end the read before the slow part
            doorplates.write_pdf(plates, output, config["DOORPLATE_FONT"])
        except ValidationFailed as failure:
            _fail([str(err.message) for err in failure.errors])
        with writing():  # printed plates are audited, from the command line as from the clerk's page
            doorplates.record_print(db.session, audit.SYSTEM, plates, object_type="beat" if beat_code else "address",
                                    object_id=beat_code or building_code)
            db.session.commit()
        click.echo(_("%(count)s door plates written to %(path)s (QR codes point at %(base)s/a/…).",
                     count=len(plates), path=str(output), base=base_url))


def _check_arguments(beat_code: str | None, building_code: str | None, output: Path | None) -> str | None:
    if (beat_code is None) == (building_code is None):
        return _("Give either --beat with a beat code or --building with the address code of a building.")
    if output is None:
        return _("Give the PDF file to write with -o FILE.pdf.")
    if output.is_dir():
        return _("%(path)s is a folder: give the name of the PDF file to write.", path=str(output))
    if not output.parent.is_dir():  # before the slow part, not after it
        return _("The folder %(folder)s does not exist: create it, or write the PDF elsewhere.",
                 folder=str(output.parent))
    return None


def _fail(messages: list[str]) -> None:
    for message in messages:
        click.echo(_("Error: %(message)s", message=message), err=True)
    sys.exit(1)
