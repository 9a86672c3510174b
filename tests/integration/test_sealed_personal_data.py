"""Persons' personal data sealed at rest (fieldcrypt.py, migration 0018): after the demo data and a few
reports through the services (a move-in, a hire, a staff list), no ID number, phone or tenant's name is in
the raw bytes of the database (the SQLite file and its WAL, or pg_dump's output), and the blind-index
lookups still find every person."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from portal import cli, fieldcrypt, migrate
from portal.extensions import db
from portal.models import (
    Address,
    AddressLevel,
    Employment,
    House,
    IdempotencyRecord,
    Person,
    Submission,
    Tenancy,
    Unit,
    User,
)
from portal.services import addresses, register_search, reporting
from tests import factories
from tests.integration.api.conftest import ApiClient, new_token, occupant
from tests.integration.conftest import raw_bytes

TENANT = {"name": "欧阳明远", "phone": "13912345671"}
HIRED = {"name": "司马青云", "phone": "13912345672"}
LISTED = [("东方晓白", "13912345673"), ("上官雨晴", "13912345674")]


@pytest.fixture
def filed(app, empty_database, fresh_keyring):
    """A database of its own, migrated, with the demo data and reports of every kind that name people."""
    with app.app_context():
        migrate.upgrade(empty_database)
        db.session.remove()
        db.session.configure(bind=empty_database)
        try:
            _file_reports(app)
            yield empty_database
        finally:
            db.session.remove()
            db.session.configure(bind=db.engine)


def _file_reports(app) -> None:
    session = db.session
    with cli.DEMO_CSV.open("rb") as stream:
        addresses.import_csv(session, stream)
    session.commit()
    cli.seed_demo_accounts()
    cli.seed_demo_reports()
    session.commit()
    landlord = session.scalar(select(User).where(User.phone == "13800000001"))
    employer = session.scalar(select(User).where(User.phone == "13700000001"))
    room = session.scalars(select(Address).where(Address.level == AddressLevel.room,
                                                 ~Address.id.in_(select(House.address_id)))).first()
    house = factories.make_house(session, landlord, room).house
    factories.make_move_in(session, landlord, house.id, [factories.occupant(
        birth="19851111", name=TENANT["name"], phone=TENANT["phone"])])
    unit = session.scalar(select(Unit).where(Unit.owner_id == employer.id))
    factories.make_hire(session, employer, unit.id, name=HIRED["name"], id_number=factories.resident_id("19900202"),
                        phone=HIRED["phone"])
    factories.make_staff_import(session, employer, unit.id, [
        factories.staff_row(name, birth=f"1992030{n}", phone=phone) for n, (name, phone) in enumerate(LISTED, 1)],
        full_list=False)
    session.commit()


def _everything_personal(s: Session) -> list[str]:
    """Every person's ID number and phone, every tenant's and employee's name, read back through the model
    (which opens them), with the legal representatives' and the reporters' ID numbers."""
    people = s.scalars(select(Person)).all()
    values = [p.id_number for p in people] + [p.phone for p in people if p.phone]
    values += [t.declared_name for t in s.scalars(select(Tenancy))]
    values += [e.declared_name for e in s.scalars(select(Employment))]
    values += [u.legal_rep_id_number for u in s.scalars(select(Unit))]
    values += [u.id_number for u in s.scalars(select(User)) if u.id_number]
    return values


def test_no_id_number_phone_or_name_of_a_person_is_in_the_raw_files(filed):
    with Session(filed) as s:
        values = _everything_personal(s)
        names = {p.name for p in s.scalars(select(Person))}
    assert {TENANT["phone"], HIRED["phone"], *(phone for _name, phone in LISTED)} <= set(values)
    assert {TENANT["name"], HIRED["name"], *(name for name, _phone in LISTED)} <= names
    assert len(values) >= 12
    raw = raw_bytes(filed)
    assert [v for v in values if v.encode() in raw] == []
    assert [n for n in names if n.encode() in raw] == []


def test_the_blind_indexes_find_every_person(filed):
    with Session(filed) as s:
        for person in s.scalars(select(Person)).all():
            by_number = s.scalars(select(Person.id).where(Person.id_type == person.id_type,
                                                          Person.id_number.matches(person.id_number))).all()
            by_name = s.scalars(select(Person.id).where(Person.name.matches(person.name))).all()
            assert by_number == [person.id]
            assert person.id in by_name
            if person.phone:
                assert s.scalars(select(Person.id).where(Person.phone.matches(person.phone))).all() == [person.id]


def test_an_officer_finds_a_tenant_by_id_number_name_and_phone(app, db_session):
    district = factories.make_district(db_session)
    beat = district.stations[0].beats[0]
    officer = factories.make_user(db_session, role="officer", station=district.stations[0])
    landlord = factories.make_user(db_session, role="landlord")
    house = factories.make_house(db_session, landlord, factories.make_address(db_session, beat, room="101")).house
    number = factories.resident_id("19870707")
    factories.make_move_in(db_session, landlord, house.id, [factories.occupant(
        id_number=number, name="Zhang  San", phone="13912345675")])
    # Spaces in the middle of the number, another case and spacing of the name: found all the same.
    person = db_session.scalars(select(Person).where(Person.id_number.matches(number))).one()
    for query in (number, f"{number[:6]} {number[6:14]} {number[14:]}", "13912345675", "zhang san", "Zhang San"):
        found = register_search.search(db_session, officer, query)
        assert [p.person_id for p in found.people] == [person.id], query
    assert register_search.search(db_session, officer, "Zhang").people == []  # whole names only


def test_a_stored_api_answer_and_a_payload_are_sealed(app, db_session):
    landlord = factories.make_user(db_session, role="landlord")
    district = factories.make_district(db_session)
    house = factories.make_house(db_session, landlord, factories.make_address(
        db_session, district.stations[0].beats[0], room="102")).house
    api = ApiClient(app.test_client(), new_token(db_session, landlord))
    body = {"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant(name="司徒静")]}
    first = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="sealed-answer")
    assert first.status_code == 201, first.get_data(as_text=True)
    record = db_session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == "sealed-answer")).one()
    sub = db_session.get(Submission, first.get_json()["submission_id"])
    assert record.response_body == first.get_data(as_text=True) and sub.payload["occupants"][0]["name"] == "司徒静"
    assert sub.receipt.encode() not in record.response_body_sealed and "司徒静".encode() not in sub.payload_sealed
    again = api.post(f"/api/v1/houses/{house.id}/move-ins", json=body, key="sealed-answer")
    assert (again.status_code, again.get_json()) == (201, first.get_json())  # the replay opens the stored answer


def test_a_sealed_attribute_refuses_plain_comparison_in_sql():
    with pytest.raises(TypeError, match="Person.id_number is sealed"):
        select(Person).where(Person.id_number == "430302199001011234")


def test_a_payload_copied_into_another_submission_does_not_open(db_session):
    landlord = factories.make_user(db_session, role="landlord")
    district = factories.make_district(db_session)
    beat = district.stations[0].beats[0]
    first = factories.make_house(db_session, landlord, factories.make_address(db_session, beat, room="103"))
    second = factories.make_house(db_session, landlord, factories.make_address(db_session, beat, room="104"))
    db_session.execute(update(Submission).where(Submission.id == second.id)
                       .values(payload_sealed=first.payload_sealed))
    db_session.expire(second)
    with pytest.raises(fieldcrypt.Tampered):
        second.payload  # noqa: B018 - the read is the test


def test_migration_seals_the_persons_there_were(app, empty_database, fresh_keyring):
    engine = empty_database
    number, phone = factories.resident_id("19700303"), "13912345676"
    with app.app_context():
        migrate.upgrade(engine, "0017")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO person (id_type, id_number, name, sex, birth_date, phone, created_at)"
                              " VALUES ('resident_id', :n, '诸葛亮', 'M', '1970-03-03', :p, '2026-12-01')"),
                         {"n": number, "p": phone})
        migrate.upgrade(engine)
        with Session(engine) as s:
            person = s.scalars(select(Person)).one()
            assert (person.id_number, person.name, person.phone, person.birth_date, person.birth_year) == \
                (number, "诸葛亮", phone, date(1970, 3, 3), 1970)
            assert s.scalar(select(Person.id).where(Person.id_number.matches(number))) == person.id
        raw = raw_bytes(engine)
        assert number.encode() not in raw and phone.encode() not in raw and "诸葛亮".encode() not in raw
        migrate.downgrade(engine, "0017")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id_number, name, phone FROM person")).one() == (number, "诸葛亮", phone)


def test_keys_rotate_while_reports_are_filed(app, filed):
    """A rotation and landlords filing move-ins at the same time, each in its own thread and session:
    afterwards every value opens, and none is left under the old key."""
    import threading

    from portal.db import writing
    from portal.services import keys

    with Session(filed) as s:
        landlord_id = s.scalar(select(User.id).where(User.phone == "13800000001"))
        rooms = s.scalars(select(Address).where(Address.level == AddressLevel.room,
                                                ~Address.id.in_(select(House.address_id))).limit(6)).all()
        room_codes = [r.code for r in rooms]
    failures: list[BaseException] = []

    def file_reports():
        try:
            with app.app_context():
                session = db.session
                for n, code in enumerate(room_codes):
                    with writing():  # each unit of work a writer from its first statement, as a request is
                        landlord = session.get(User, landlord_id)
                        room = session.scalars(select(Address).where(Address.code == code)).one()
                        house = factories.make_house(session, landlord, room).house
                    with writing():
                        factories.make_move_in(session, landlord, house.id, [factories.occupant(
                            birth=f"1990010{n + 1}", name="轮换" + "一二三四五六"[n], phone=f"1391234{n:04d}")])
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            failures.append(err)

    def rotate():
        try:
            with app.app_context():
                session = db.session
                with writing():
                    newest = keys.add_key(session)
                    session.commit()
                for column in keys.sealed_columns() * 3:  # three passes: values filed meanwhile too
                    while True:
                        with writing():
                            n = keys.reseal_batch(session, column, newest)
                            session.commit()
                        if n < keys.BATCH:
                            break
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            failures.append(err)

    threads = [threading.Thread(target=file_reports), threading.Thread(target=rotate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    with Session(filed) as s:
        for column in keys.sealed_columns():
            opened, failed = keys.verify(s, column)
            assert failed == [], column.label
        names = {p.name for p in s.scalars(select(Person))}
    assert {"轮换" + "一二三四五六"[n] for n in range(len(room_codes))} <= names
