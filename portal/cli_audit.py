"""flask audit: check the audit chain, and write its head to keep elsewhere (services/audit_chain.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext as _

from portal.extensions import db
from portal.services import audit_chain


def _reason(b: audit_chain.Break) -> str:
    reasons = {
        "changed": _("Audit row %(id)s was changed: its fields no longer give its chain value.", id=b.row_id),
        "removed_before": _("Audit row %(id)s does not follow the row before it: the row or rows between were "
                            "removed.", id=b.row_id),
        "inserted": _("Audit row %(id)s was inserted out of order: the row after it follows the row before "
                      "it.", id=b.row_id),
        "last_changed": _("Audit row %(id)s, the last one, does not match its chain value: it was changed, or "
                          "added without the key.", id=b.row_id),
        "changed_or_added": _("Audit row %(id)s does not match its chain value, nor does the row after it: it "
                              "was changed with its chain value, or rows were added without the key.", id=b.row_id),
        "rows_after_anchor_removed": _("Audit row %(id)s of the anchor is gone, and no row after it: the end of "
                                       "the log was removed.", id=b.row_id),
        "anchor": _("Audit row %(id)s has a chain value other than the anchor's: it or a row before it was "
                    "changed after the anchor was taken.", id=b.row_id),
    }
    return reasons[b.reason]


def register(app: Flask) -> None:
    group = AppGroup("audit", help="The audit log's chain of HMAC values.")
    app.cli.add_command(group)

    @group.command("verify")
    @click.option("--anchor", "anchor_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  default=None, help="Start after the head kept in this file (written by `flask audit anchor`).")
    def verify_command(anchor_file: Path | None):
        """Check the chain in id order; exit status 1 at the first row changed, removed or out of order."""
        anchor = json.loads(anchor_file.read_text()) if anchor_file else None
        with db.engine.connect() as connection:
            report = audit_chain.verify(connection, anchor=anchor)
        if report.broken is not None:
            click.echo(_reason(report.broken), err=True)
            sys.exit(1)
        click.echo(_("The audit chain is intact: %(count)s rows checked, the last one %(id)s.",
                     count=report.rows, id=report.last_id if report.last_id is not None else "-"))

    @group.command("anchor")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Write the head to this file instead of printing it.")
    def anchor_command(output: Path | None):
        """Print the chain's head (last id, its chain value, time) as JSON, to keep elsewhere every day."""
        with db.engine.connect() as connection:
            document = json.dumps(audit_chain.head(connection), indent=2) + "\n"
        if output is None:
            click.echo(document, nl=False)
        else:
            output.write_text(document)
