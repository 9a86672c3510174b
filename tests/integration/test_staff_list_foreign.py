"""A staff list with people who have no resident ID card (issue 18): the document type, nationality, birth
date and a passport's visa in columns of their own (services/declarations.py Hire); checked as a move-in's
foreign tenant is, kept on the person and the hire, compared with the roster by document type and number."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.models import Employment, Person, Submission, SubmissionKind
from portal.services import audit, staff_import, units
from tests import factories
from tests.unit.test_staff_import_rows import make_unit

HEADER = ("姓名", "性别", "证件类型", "证件号码", "国籍", "出生日期", "签证种类", "签证有效期至", "岗位", "入职日期")
TODAY = date(2026, 6, 1)


def upload(db_session, unit, rows, *, full_list=True):
    data = factories.staff_csv(rows, header=HEADER)
    pv = staff_import.preview(db_session, unit, data, "staff.csv", full_list=full_list, today=TODAY)
    return pv


def commit(db_session, unit, pv):
    done = staff_import.commit(db_session, unit, unit.owner, pv, audit.Actor(user=unit.owner),
                               departures_confirmed=True)
    db_session.commit()
    return done


def test_foreign_staff_rows_are_hired_with_their_details(db_session, district):
    unit = make_unit(db_session, district)
    resident = factories.resident_id("19900101")
    rows = [["张三", "", "", resident, "", "", "", "", "厨师", "2024-03-05"],
            ["Hans Müller", "男", "护照", "e9876 5432", "德国", "1980-02-03", "Z", "2027-12-31", "工程师", "2024/3/6"],
            ["陈大文", "M", "港澳通行证", "H12345678", "CHN", "1991-07-01", "", "", "", ""]]
    pv = upload(db_session, unit, rows)
    assert pv.errors == [] and len(pv.hires) == 3
    commit(db_session, unit, pv)
    hans = db_session.scalar(select(Person).where(Person.id_type == "passport"))
    assert (hans.id_number, hans.nationality, hans.sex, hans.birth_date, hans.visa_kind, hans.visa_expiry) == (
        "E98765432", "DEU", "M", date(1980, 2, 3), "visa_z", date(2027, 12, 31))
    chen = db_session.scalar(select(Person).where(Person.id_type == "hk_macau_permit"))
    assert (chen.nationality, chen.visa_kind) == ("CHN", None)
    hire = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.hire)
                              .order_by(Submission.id)).all()[1]
    assert (hire.payload["id_type"], hire.payload["nationality"], hire.payload["visa_kind"]) == (
        "passport", "DEU", "visa_z")
    # The same list again changes nothing; without Hans, a full list reports his departure.
    again = upload(db_session, unit, rows)
    assert (len(again.hires), len(again.unchanged), len(again.departures)) == (0, 3, 0)
    gone = upload(db_session, unit, [rows[0], rows[2]])
    assert [e.person.id_number for e in gone.departures] == ["E98765432"]


def test_bad_foreign_rows_are_told_at_their_columns(db_session, district):
    unit = make_unit(db_session, district)
    rows = [["Anna", "", "护照", "E11111111", "Atlantis", "2030-01-01", "Q9", "", "", ""],
            ["Bob", "男", "驾照", "X1", "", "", "", "", "", ""]]
    pv = upload(db_session, unit, rows)
    found = {(e.row, e.column, e.code) for e in pv.errors}
    assert found == {(2, "nationality", "invalid_country"), (2, "sex", "required"),
                     (2, "birth_date", "future_date"), (2, "visa_kind", "invalid_choice"),
                     (2, "visa_expiry", "required"), (3, "id_type", "invalid_choice")}
    assert all(str(e.message) for e in pv.errors) and pv.valid == []


def test_a_single_hire_of_a_passport_holder(db_session, district):
    unit = make_unit(db_session, district)
    filed = units.report_hire(db_session, unit.owner, unit.id, name="Hans Müller", id_number="E98765432",
                              phone="", position="工程师", hire_date="2024-03-05", id_type="passport",
                              nationality="DEU", sex="M", birth_date="1980-02-03", visa_kind="visa_z",
                              visa_expiry="2027-12-31", actor=audit.Actor(user=unit.owner), today=TODAY)
    db_session.commit()
    assert filed.submission.payload["nationality"] == "DEU"
    employment = db_session.scalar(select(Employment).where(Employment.submission_id == filed.submission.id))
    assert employment.person.id_type == "passport" and employment.person.visa_kind == "visa_z"


def test_the_officer_sees_a_foreign_hires_details_masked_as_the_rules_say(db_session, district, officer_client):
    from tests.browser import parse
    from tests.factories import english, text_of

    unit = make_unit(db_session, district)
    filed = units.report_hire(db_session, unit.owner, unit.id, name="Hans Müller", id_number="E98765432",
                              phone="13912345678", position="工程师", hire_date="2024-03-05", id_type="passport",
                              nationality="DEU", sex="M", birth_date="1980-02-03", visa_kind="visa_z",
                              visa_expiry="2027-12-31", actor=audit.Actor(user=unit.owner), today=TODAY)
    db_session.commit()
    page = text_of(parse(english(officer_client).get(f"/officer/items/{filed.submission.id}")).find("main"))
    assert "Germany (DEU)" in page and "Visa Z (work)" in page and "2027-12-31" in page
    assert "139****5678" in page and "13912345678" not in page and "E98765432" not in page
