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
QUEUE_OFFICER_PHONE = "15500009002"  # station 2: a queue of its own, so station 1's counts stay as they are


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
                "today": reporting.local_today().isoformat(), **seed_station_two(db.session, district)}
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    info["port"] = server.server_port
    print(json.dumps(info, ensure_ascii=False), flush=True)
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    server.serve_forever()


def seed_station_two(session, district) -> dict:
    """Station 2's officer and three items in their queue (a house registration, a clean move-in and a
    late one), for the queue and quality pages at 360 px."""
    from datetime import date, timedelta

    from tests import factories

    queue_officer = factories.make_user(session, role="officer", station=district.stations[1],
                                        phone=QUEUE_OFFICER_PHONE, name="李警官")
    landlord = factories.make_user(session, role="landlord", name="赵房东")
    house = factories.make_house(session, landlord, district.addresses[1], max_occupants=6).house
    factories.make_move_in(session, landlord, house.id, [factories.occupant(name="欧阳修远")])
    factories.make_move_in(session, landlord, house.id, [factories.occupant(name="司马光明")],
                           move_in_date=(date.today() - timedelta(days=10)).isoformat())
    # A second reporter's house at the same address, written straight into the register (no queue item):
    # one row of the "one address registered by two reporters" list.
    from portal.models import House

    rival = factories.make_user(session, role="landlord", name="钱房东")
    session.add(House(address_id=house.address_id, owner_id=rival.id, beat_id=house.beat_id, use="whole_rental",
                      max_occupants=2))
    session.commit()
    return {"queue_officer_phone": queue_officer.phone, "queue_officer_totp_secret": queue_officer.totp_secret}


def _exit_with_parent() -> None:
    """The test process holds our stdin open; when it ends, even killed, stdin closes and so do we."""
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
