"""The staff list's set-based writes (services/bulk.py) write what the ORM writes: a hire filed from a list
and a single hire filed through the ORM session (units.report_hire) are the same rows, column by column,
sealed values included (each opens through the model, so its associated data is the model's), except for
what is meant to differ: ids, row keys and ciphertexts (random per row), the receipt and timestamps, and the
links each path keeps (the list's import, the single hire's form key and its link back to the employment)."""
from __future__ import annotations

from sqlalchemy import select

from portal import fieldcrypt
from portal.models import Employment, Person, Submission
from tests import factories

# Different on every row by design, or what the two paths are meant to record differently.
RANDOM = {"id", "row_key", "created_at", "submitted_at", "receipt"}
SEALED_BYTES = {getattr(model, name).stored for model, name in fieldcrypt.SEALED}
LINKS = {"person_id", "submission_id", "staff_import_id", "employment_id", "form_key", "id_index"}


def _columns(session, obj) -> dict:
    table = type(obj).__table__
    return {c.key: getattr(obj, c.key) for c in table.columns if c.key not in RANDOM | SEALED_BYTES | LINKS}


def _opened(obj) -> dict:
    return {name: getattr(obj, name) for model, name in fieldcrypt.SEALED if model is type(obj)}


def test_a_listed_hire_and_a_single_hire_are_the_same_rows(db_session, district, officer):
    employer = factories.make_user(db_session, role="employer")
    unit_id = factories.make_unit(db_session, employer, district.addresses[0], verified_by=officer).unit_id
    listed_id = factories.resident_id("19910101")
    single_id = next(n for n in iter(lambda: factories.resident_id("19910101"), None)
                     if n != listed_id and int(n[16]) % 2 == int(listed_id[16]) % 2)  # the same sex
    factories.make_staff_import(db_session, employer, unit_id, [factories.staff_row(
        "欧阳青", id_number=listed_id, position="厨师", hire_date="2024-03-05", phone="13912340001")],
        full_list=False)
    factories.make_hire(db_session, employer, unit_id, name="欧阳青", id_number=single_id, position="厨师",
                        hire_date="2024-03-05", phone="13912340001")
    db_session.expire_all()

    def rows(number: str):
        person = db_session.scalars(select(Person).where(Person.id_number.matches(number))).one()
        job = db_session.scalars(select(Employment).where(Employment.person_id == person.id)).one()
        return person, job, db_session.get(Submission, job.submission_id)

    listed, single = rows(listed_id), rows(single_id)
    for bulk_obj, orm_obj in zip(listed, single, strict=True):
        assert _columns(db_session, bulk_obj) == _columns(db_session, orm_obj), type(bulk_obj).__name__
    # The sealed values open in their own rows and say the same, but for the ID number (and, in the payload,
    # the spreadsheet row, which a single hire has none of).
    person_b, person_o = _opened(listed[0]), _opened(single[0])
    assert person_b.pop("id_number") == listed_id and person_o.pop("id_number") == single_id
    assert person_b == person_o and person_b["name"] == "欧阳青" and person_b["phone"] == "13912340001"
    assert _opened(listed[1]) == _opened(single[1]) == {"declared_name": "欧阳青", "declared_phone": "13912340001"}
    payload_b, payload_o = listed[2].payload, single[2].payload
    assert payload_b.pop("row") == 2 and "row" not in payload_o
    assert payload_b.pop("id_number") == listed_id and payload_o.pop("id_number") == single_id
    assert payload_b == payload_o
    # The blind indexes are the model's: the bulk path's person is found as the ORM's is.
    assert listed[0].id_index == Person.id_number.index_of(listed_id)
    assert listed[0].name_index == single[0].name_index and listed[0].phone_index == single[0].phone_index
