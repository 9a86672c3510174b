"""flask quality: the quality rates of a bureau, station, beat or reporter, as the officers' page shows them."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask_babel import gettext as _

from portal.extensions import db
from portal.services import quality
from portal.services.errors import NotFound, ValidationFailed

KINDS = ("bureau", "station", "beat", "reporter")


def register(app: Flask) -> None:
    @app.cli.command("quality")
    @click.option("--bureau", default=None, help="Bureau code.")
    @click.option("--station", default=None, help="Station code.")
    @click.option("--beat", default=None, help="Beat code.")
    @click.option("--reporter", default=None, help="Phone of a landlord or employer.")
    @click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (local); default 30 days back.")
    @click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (local); default today.")
    @click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
    def quality_command(bureau, station, beat, reporter, start, end, as_json):
        """Coverage, timeliness and accuracy rates and verification times (definitions: services/quality.py)."""
        chosen = [(kind, code) for kind, code in zip(KINDS, (bureau, station, beat, reporter), strict=True)
                  if code is not None]
        if len(chosen) != 1:
            _fail(_("Give exactly one of --bureau, --station, --beat or --reporter."))
        kind, code = chosen[0]
        try:
            period = quality.parse_period(start, end)
        except ValidationFailed as failure:
            _fail("\n".join(f"--{e.field}: {e.message}" for e in failure.errors))
        try:
            scope = quality.scope_for(db.session, kind, code.strip())
        except NotFound:
            _fail(_unknown(kind, code))
        figures = quality.report(db.session, scope, period)
        db.session.rollback()  # read only
        if as_json:
            click.echo(json.dumps(figures.as_json(), ensure_ascii=False, indent=2))
            return
        _print(figures)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _unknown(kind: str, code: str) -> str:
    if kind == "bureau":
        return _("There is no bureau with the code %(code)s.", code=code)
    if kind == "station":
        return _("There is no station with the code %(code)s.", code=code)
    if kind == "beat":
        return _("There is no beat with the code %(code)s.", code=code)
    return _("There is no landlord or employer with the phone %(phone)s.", phone=code)


def _percent(rate: quality.Rate) -> str:
    return "—" if rate.rate is None else f"{rate.rate * 100:.1f}% ({rate.numerator}/{rate.denominator})"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def _print(r: quality.Report) -> None:
    t = r.total
    click.echo(f"{r.scope.name} ({r.scope.code}) {r.period.start} – {r.period.end}")
    lines = [(_("House coverage"), _percent(t.coverage)), (_("Timeliness"), _percent(t.timeliness)),
             (_("Accuracy"), _percent(t.accuracy)),
             (_("Verification time, median"), _hours(t.verification_hours_median)),
             (_("Verification time, 90th percentile"), _hours(t.verification_hours_p90)),
             (_("Open items older than 3 days"), str(t.open_older_than_3_days))]
    for label, value in lines:
        click.echo(f"  {label}: {value}")
