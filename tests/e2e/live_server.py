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
CONFLICT_OFFICER_PHONE = "15500009004"  # station 4: a conflict of its own
QUEUE_OFFICER_PHONE = "15500009002"  # station 2: a queue of its own, so station 1's counts stay as they are
CLERK_PHONE = "15500009003"


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
                "today": reporting.local_today().isoformat(), **seed_station_two(db.session, district),
                **seed_station_three(db.session, district), **seed_admin(db.session),
                **seed_station_four(db.session, district), **seed_clerk(db.session, district)}
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


STAFF_NAMES = ("赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七", "王八", "冯九", "陈十")


def seed_station_three(session, district) -> dict:
    """A station of its own (so that no other test's queue counts change) with a landlord's registered house
    and an employer's unit with ten people on its roster: for the resumed draft and the full-list warning."""
    from portal.models import Beat, Station
    from tests import factories

    station = Station(code="T-S3", name="测试派出所3", bureau=district.bureau)
    beat = Beat(code="T-S3-1", name="测试警务区3-1", station=station)
    session.add_all([station, beat])
    session.flush()
    house_address = factories.make_address(session, beat, road="建设路", door_no="9号", community="", building="1栋",
                                           unit="2单元", room="301")
    unit_address = factories.make_address(session, beat, road="建设路", door_no="11号", community="")
    session.commit()
    landlord = factories.make_user(session, role="landlord", name="钟房东")
    house = factories.make_house(session, landlord, house_address, max_occupants=4).house
    employer = factories.make_user(session, role="employer", name="包经理")
    unit_id = factories.make_unit(session, employer, unit_address).unit_id
    staff = [factories.staff_row(name, birth=f"19{80 + i}0{1 + i % 9}1{i}") for i, name in enumerate(STAFF_NAMES)]
    factories.make_staff_import(session, employer, unit_id, staff)
    foreign_address = factories.make_address(session, beat, road="建设路", door_no="9号", community="",
                                             building="1栋", unit="2单元", room="302")
    session.commit()
    foreign_landlord = factories.make_user(session, role="landlord", name="孙房东")
    foreign_house = factories.make_house(session, foreign_landlord, foreign_address, max_occupants=4).house
    return {"foreign_landlord_phone": foreign_landlord.phone, "foreign_house_id": foreign_house.id,
            "draft_landlord_phone": landlord.phone, "draft_house_id": house.id,
            "draft_house_address": house_address.text, "list_employer_phone": employer.phone,
            "list_unit_id": unit_id, "staff_ids": [row[2] for row in staff]}


ADMIN_PHONE = "15500009005"


def seed_admin(session) -> dict:
    """An administrator of every bureau, for the jurisdiction and account pages."""
    from tests import factories

    admin = factories.make_user(session, role="admin", phone=ADMIN_PHONE, name="周管理")
    return {"admin_phone": admin.phone, "admin_totp_secret": admin.totp_secret}


def seed_station_four(session, district) -> dict:
    """A station of its own with its officer and one room registered by two landlords through the services
    (both registrations flagged claimed_by_another): for settling a conflict at 360 px."""
    from portal.models import Beat, Station
    from tests import factories

    station = Station(code="T-S4", name="测试派出所4", bureau=district.bureau)
    beat = Beat(code="T-S4-1", name="测试警务区4-1", station=station)
    session.add_all([station, beat])
    session.flush()
    room = factories.make_address(session, beat, road="解放路", door_no="3号", community="", building="2栋",
                                  unit="1单元", room="502")
    session.commit()
    officer = factories.make_user(session, role="officer", station=station, phone=CONFLICT_OFFICER_PHONE,
                                  name="周警官")
    first = factories.make_house(session, factories.make_user(session, role="landlord", name="孔房东"), room)
    second = factories.make_house(session, factories.make_user(session, role="landlord", name="孟房东"), room)
    return {"conflict_officer_phone": officer.phone, "conflict_officer_totp_secret": officer.totp_secret,
            "conflict_items": (first.id, second.id), "conflict_building": room.id,
            **seed_record_access(session, beat, officer)}


def seed_record_access(session, beat, officer) -> dict:
    """A tenant of station 4, confirmed (so the register has his phone), whose full record its officer saw with a
    reason: for the tenant's own view of who read his record at 360 px."""
    from portal.services import audit, register_search
    from tests import factories

    room = factories.make_address(session, beat, road="解放路", door_no="3号", community="", building="3栋",
                                  unit="1单元", room="503")
    session.commit()
    registration = factories.make_house(session, factories.make_user(session, role="landlord", name="钱房东"), room)
    factories.decide(session, registration, officer, "confirmed")
    tenant = factories.occupant(name="吴小军", phone="13912345603", birth="19880808")
    move_in = factories.make_move_in(session, registration.reporter, registration.house_id, [tenant])
    factories.decide(session, move_in, officer, "confirmed")
    person = register_search.search(session, officer, tenant["id_number"]).people[0]
    register_search.full_record(session, officer, person.person_id, "case", audit.Actor(user=officer), per_hour=30)
    session.commit()
    return {"access_id_number": tenant["id_number"]}


def seed_clerk(session, district) -> dict:
    """The bureau's address clerk, and the demo's seeded duplicates (`seed-demo` makes the same), here of the
    test room: 银海花园小区 十三幢 4门 402室 beside 银海花园 13栋 4单元 402."""
    from portal.cli import seed_demo_duplicates
    from tests import factories

    clerk = factories.make_user(session, role="clerk", bureau_id=district.bureau.id, phone=CLERK_PHONE,
                                name="周地址员")
    made = seed_demo_duplicates(session)
    session.commit()
    return {"clerk_phone": clerk.phone, "clerk_totp_secret": clerk.totp_secret,
            "duplicate_codes": [a.code for a in made]}


def _exit_with_parent() -> None:
    """The test process holds our stdin open; when it ends, even killed, stdin closes and so do we."""
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
