"""Logs never hold personal data: a database that fails in the middle of a real move-in leaves a traceback in
the log without the statement's parameters (ID number, name, birth date, phone)."""
from __future__ import annotations

import io
import logging
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from portal.services import reporting
from tests import factories

NAME = "欧阳娜娜"
PHONE = "13987654321"
BIRTH = "19870523"


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    return urlsplit(response.headers["Location"]).path


@pytest.fixture
def log_output():
    """What a server's log would hold: a plain handler on the root logger, added after the app was made."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _refuse_new_people(session) -> None:
    """Every INSERT into person fails from now until the test's transaction is rolled back."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("CREATE TRIGGER refuse_person BEFORE INSERT ON person "
                             "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    else:
        session.execute(text("ALTER TABLE person ADD CONSTRAINT refuse_person CHECK (false) NOT VALID"))
    session.commit()  # into the test's outer transaction, which is rolled back at the end


def test_a_database_error_during_a_move_in_logs_no_personal_data(landlord_client, db_session, district, landlord,
                                                                  log_output):
    house = factories.make_house(db_session, landlord, district.addresses[0]).house
    id_number = factories.resident_id(BIRTH)
    person0 = location(landlord_client.get(f"/landlord/houses/{house.id}/move-in"))
    another = location(landlord_client.submit(person0, {"id_type": "resident_id", "id_number": id_number,
                                                        "name": NAME, "phone": PHONE, "relation": "main_tenant"}))
    dates = location(landlord_client.submit(another, {"another": "no"}))
    check = location(landlord_client.submit(dates, {"move_in_date": reporting.local_today().isoformat()}))
    _refuse_new_people(db_session)

    response = landlord_client.submit(check, {})

    assert response.status_code == 500
    logged = log_output.getvalue()
    assert "IntegrityError" in logged and "Traceback" in logged  # the failure itself is logged, in full
    for secret in (id_number, id_number[6:14], NAME, PHONE, "1987-05-23", "datetime.date(1987, 5, 23)"):
        assert secret not in logged, secret
    assert id_number[:6] + "********" not in logged  # not even masked: the parameters are not there at all
