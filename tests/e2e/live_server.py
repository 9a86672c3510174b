"""The real portal on a free port, for the browser tests: run as `python -m tests.e2e.live_server DB_URL DIR`.

It runs in its own process so that create_app() binding the global `db` to this database never disturbs the
test suite's own app. It migrates the (fresh) database, seeds a district and one station officer with a known
TOTP secret, compiles the translation catalogs into DIR (so the Chinese interface is tested even when
`make translations` has not run), prints one JSON line with what the tests need, and serves until killed or
until its stdin closes (the test process ended).
"""
from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from werkzeug.serving import make_server

from portal import ROOT, create_app, migrate
from portal.extensions import db
from portal.services import reporting

OFFICER_PHONE = "15500009001"


def compile_translations(target: Path) -> Path:
    for po_path in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        out = target / po_path.parent.relative_to(ROOT / "translations")
        out.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po:
            catalog = read_po(po, locale=po_path.parent.parent.name)
        with (out / "messages.mo").open("wb") as mo:
            write_mo(mo, catalog, use_fuzzy=True)
    return target


def main(database_url: str, workdir: str) -> None:
    app = create_app({
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-key-not-for-production",
        "RATELIMIT_ENABLED": False,
        "BABEL_TRANSLATION_DIRECTORIES": str(compile_translations(Path(workdir) / "translations")),
    })
    migrate.upgrade(db.engine)
    from tests import factories  # after create_app: the models are the app's

    with app.app_context():
        district = factories.make_district(db.session)
        officer = factories.make_user(db.session, role="officer", station=district.stations[0],
                                      phone=OFFICER_PHONE, name="王警官")
        address = district.addresses[0]
        info = {"officer_phone": officer.phone, "officer_totp_secret": officer.totp_secret,
                "address_code": address.code, "address_text": address.text,
                "today": reporting.local_today().isoformat()}
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    info["port"] = server.server_port
    print(json.dumps(info, ensure_ascii=False), flush=True)
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    server.serve_forever()


def _exit_with_parent() -> None:
    """The test process holds our stdin open; when it ends, even killed, stdin closes and so do we."""
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
