"""Committing a staff list: one transaction, hires and departures only, idempotent, all or nothing
(issue 4, items 5, 8, 9; SECURITY.md "Loses no data"). Runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from stdnum.cn import ric

from portal.models import (
    AuditEvent,
    Beat,
    Employment,
    Person,
    RecordStatus,
    StaffImport,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from portal.services import audit, receipts, spreadsheets, staff_import
from tests.unit.test_staff_import_rows import make_unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "staff"
TODAY = date(2026, 6, 1)
ZHANG, LI, WANG = "430302199001011239", "430302198512314560", "11010519491231002X"
ZHAO, CHEN, LIU = "310115199203157897", "44030619880808321X", "51010719950620554X"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def unit(db_session, district):
    return make_unit(db_session, district)


def preview(db_session, unit, name: str, data: bytes | None = None, **kw):
    kw.setdefault("today", TODAY)
    return staff_import.preview(db_session, unit, fixture(name) if data is None else data, name, **kw)


def commit(db_session, unit, pv, *, departures_confirmed=True):
    """As the page and the API do, once the employer confirmed the departures the preview named: the import
    in the request's transaction, committed once, or rolled back whole on a failure."""
    actor = audit.Actor(user=unit.owner, ip="203.0.113.9", request_id="req-1")
    try:
        done = staff_import.commit(db_session, unit, unit.owner, pv, actor, departures_confirmed=departures_confirmed)
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    return done


def counts(db_session) -> dict[str, int]:
    return {model.__name__: db_session.scalar(select(func.count()).select_from(model))
            for model in (StaffImport, Submission, Employment, Person, AuditEvent)}


def test_commit_files_a_hire_submission_and_pending_employment_per_new_person(db_session, unit):
    pv = preview(db_session, unit, "valid.xlsx")
    imp = commit(db_session, unit, pv)
    assert imp.created is True
    assert (imp.rows, imp.valid, imp.invalid, imp.hires, imp.departures, imp.unchanged) == (5, 5, 0, 5, 0, 0)
    assert (imp.unit_id, imp.uploader_id, imp.filename, imp.content_digest) == (unit.id, unit.owner_id,
                                                                                "valid.xlsx", pv.digest)
    subs = db_session.scalars(select(Submission).where(Submission.staff_import_id == imp.id)
                              .order_by(Submission.id)).all()
    assert [s.kind for s in subs] == [SubmissionKind.hire] * 5
    beat = db_session.get(Beat, unit.address.beat_id)
    first = subs[0]
    assert (first.status, first.is_open, first.reporter_id, first.unit_id) == (SubmissionStatus.pending, True,
                                                                              unit.owner_id, unit.id)
    assert (first.beat_id, first.station_id) == (beat.id, beat.station_id)
    assert all(receipts.normalise(s.receipt) == s.receipt for s in subs)  # valid check characters
    assert len({s.receipt for s in subs}) == 5
    assert first.payload == {"name": "张三", "id_type": "resident_id", "id_number": ZHANG, "sex": "M",
                             "birth_date": "1990-01-01", "phone": "13812345678", "position": "保安",
                             "hire_date": "2024-03-05", "row": 2, "unit_name": unit.name,
                             "address": unit.address.text}
    employments = db_session.scalars(select(Employment).where(Employment.unit_id == unit.id)
                                     .order_by(Employment.id)).all()
    assert [(e.status, e.submission_id) for e in employments] == [(RecordStatus.pending, s.id) for s in subs]
    assert all(s.employment_id is None for s in subs)  # the employment points at its hire, not back
    assert employments[0].position == "保安" and employments[0].hire_date == date(2024, 3, 5)
    assert employments[0].person.id_number == ZHANG and employments[0].person.name == "张三"
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "staff_import.commit"))
    assert (event.object_id, event.outcome, event.actor_id, event.ip) == (str(imp.id), "success",
                                                                         unit.owner_id, "203.0.113.9")


def test_valid_rows_are_committed_and_invalid_rows_left_out_and_listed(db_session, unit):
    pv = preview(db_session, unit, "row_errors.csv")
    imp = commit(db_session, unit, pv)
    assert (imp.rows, imp.valid, imp.invalid, imp.hires) == (13, 2, 11, 2)
    assert len(imp.errors) == 11
    assert imp.errors[0] == {"row": 2, "column": "sex", "header": "性别", "code": "sex_mismatch",
                             "message": "The sex does not match the ID number."}
    hires = db_session.scalars(select(Submission).where(Submission.staff_import_id == imp.id)).all()
    assert sorted(s.payload["row"] for s in hires) == [13, 14]


def test_flags_other_employment_and_unknown_region(db_session, district, unit):
    other = make_unit(db_session, district, name="湘潭另一家公司", address=1)
    commit(db_session, other, preview(db_session, other, "valid.xlsx"))  # 张三 etc. work there now
    unknown_region = "99999919900101124" + ric.calc_check_digit("99999919900101124" + "0")
    data = spreadsheets.write_csv([["姓名", "身份证号码"], ["张三", ZHANG], ["冯四", unknown_region],
                                   ["刘八", LIU]])
    imp = commit(db_session, unit, preview(db_session, unit, "x.csv", data))
    subs = {s.payload["name"]: s for s in db_session.scalars(select(Submission).where(
        Submission.staff_import_id == imp.id))}
    assert subs["张三"].flags == [{"code": "other_employment", "unit_id": other.id}] and subs["张三"].flagged
    assert subs["冯四"].flags == [{"code": "unknown_region"}] and subs["冯四"].flagged
    assert subs["刘八"].flags == [] and not subs["刘八"].flagged
    # The other unit's submissions stay in its own jurisdiction; this unit's in its own.
    assert {s.beat_id for s in subs.values()} == {unit.address.beat_id}


def test_a_person_already_in_the_register_is_reused(db_session, district, unit):
    other = make_unit(db_session, district, name="湘潭另一家公司")
    commit(db_session, other, preview(db_session, other, "valid.xlsx"))
    before = counts(db_session)["Person"]
    commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))
    assert counts(db_session)["Person"] == before


def test_departures_when_the_full_list_leaves_people_out(db_session, unit):
    commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))  # 张三 李四 王芳 赵六 陈七
    pv = preview(db_session, unit, "utf8_bom.csv")  # 赵六 陈七 刘八
    imp = commit(db_session, unit, pv)
    assert (imp.hires, imp.departures, imp.unchanged) == (1, 3, 2)
    subs = db_session.scalars(select(Submission).where(Submission.staff_import_id == imp.id)
                              .order_by(Submission.id)).all()
    departures = [s for s in subs if s.kind == SubmissionKind.departure]
    assert sorted(s.payload["id_number"] for s in departures) == sorted([ZHANG, LI, WANG])
    for s in departures:
        employment = db_session.get(Employment, s.employment_id)
        assert employment.person.id_number == s.payload["id_number"] and employment.unit_id == unit.id
        assert employment.departure_date is None  # ends only when an officer confirms the departure
        assert s.payload["departure_date"] and s.status == SubmissionStatus.pending
    # The same departures are not filed twice while they wait for the police.
    again = commit(db_session, unit, preview(db_session, unit, "utf8_bom.csv", full_list=False))
    assert again.created is True and again.departures == 0
    third = preview(db_session, unit, "utf8_bom.csv")
    assert third.already_imported is None and third.departures == []


def test_a_partial_list_files_no_departures(db_session, unit):
    commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))
    imp = commit(db_session, unit, preview(db_session, unit, "utf8_bom.csv", full_list=False))
    assert (imp.hires, imp.departures, imp.unchanged) == (1, 0, 2)


def test_the_same_content_again_creates_nothing_and_returns_the_earlier_import(db_session, unit):
    first = commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))
    before = counts(db_session)
    # The same file again, then the same content as a GB18030 CSV with another row order.
    again = commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))
    rows = [["入职日期", "岗位", "手机号码", "身份证号码", "性别", "姓名"],
            ["2022-05-01", "厨师", "", CHEN, "男", "陈七"], ["", "保洁", "", WANG, "女", "王芳"],
            ["2024年3月5日", "保安", "13812345678", ZHANG, "男", "张三"],
            ["2024/3/6", "收银员", "13912345678", LI, "女", "李四"], ["2024.1.2", "", "", ZHAO, "男", "赵六"]]
    data = spreadsheets.write_csv(rows)[3:].decode("utf-8").encode("gb18030")
    same = commit(db_session, unit, preview(db_session, unit, "same.csv", data))
    assert again.id == same.id == first.id
    assert again.created is False and same.created is False
    after = counts(db_session)
    assert after["StaffImport"] == before["StaffImport"] and after["Submission"] == before["Submission"]
    assert after["Employment"] == before["Employment"] and after["Person"] == before["Person"]
    duplicates = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "staff_import.commit",
                                                             AuditEvent.outcome == "duplicate")).all()
    assert len(duplicates) == 2  # said so, and recorded


def test_a_preview_committed_twice_files_once(db_session, unit):
    pv = preview(db_session, unit, "valid.xlsx")
    first = commit(db_session, unit, pv)
    second = commit(db_session, unit, pv)  # a double click on the confirm button
    assert second.id == first.id and second.created is False
    assert counts(db_session)["Submission"] == 5


def test_a_preview_is_committed_only_for_its_own_unit(db_session, district, unit):
    other = make_unit(db_session, district, name="湘潭另一家公司")
    pv = preview(db_session, unit, "valid.xlsx")
    with pytest.raises(ValueError):
        staff_import.commit(db_session, other, other.owner, pv, audit.Actor(user=other.owner))
    assert counts(db_session)["Submission"] == 0


def test_content_imported_before_something_else_counts_again(db_session, unit):
    a1 = commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))
    commit(db_session, unit, preview(db_session, unit, "utf8_bom.csv"))  # 3 depart, 1 hired
    a2 = commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))  # the roster changed since a1
    assert a2.id != a1.id and a2.created is True
    assert a2.departures == 1  # 刘八, hired by the second list


def test_a_failure_mid_commit_leaves_nothing(db_session, district, unit, monkeypatch):
    commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))
    pv = preview(db_session, unit, "utf8_bom.csv")  # one hire, three departures
    assert len(pv.hires) == 1 and len(pv.departures) == 3
    before = counts(db_session)
    real = staff_import._departure_submission
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second departure: the hire, its person and employment are written by now
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(staff_import, "_departure_submission", failing)
    with pytest.raises(RuntimeError, match="injected failure"):
        commit(db_session, unit, pv)
    assert counts(db_session) == before
    assert db_session.scalar(select(func.count()).select_from(Person).where(Person.id_number.matches(LIU))) == 0
    # and the same preview commits completely once the failure is gone
    monkeypatch.setattr(staff_import, "_departure_submission", real)
    imp = commit(db_session, unit, pv)
    assert (imp.hires, imp.departures) == (1, 3)


def test_a_failure_in_a_later_row_of_a_large_list_leaves_nothing(db_session, unit, monkeypatch):
    rows = [["姓名", "身份证号码"]]
    for i in range(300):
        body = f"43030219{70 + i % 30}0{1 + i % 9}1{i % 9}{i % 1000:03d}"
        rows.append([f"员工{chr(0x4E00 + i)}", body + ric.calc_check_digit(body + "0")])
    pv = preview(db_session, unit, "big.xlsx", spreadsheets.write_xlsx(rows))
    assert len(pv.hires) == 300
    before = counts(db_session)
    real = staff_import.hire_submission
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 250:
            raise RuntimeError("injected failure at row 251")
        return real(*args, **kwargs)

    monkeypatch.setattr(staff_import, "hire_submission", failing)
    with pytest.raises(RuntimeError):
        commit(db_session, unit, pv)
    assert counts(db_session) == before  # the 300 new people, the import and the audit row are all gone


def test_a_file_with_no_valid_rows_still_departs_only_people_it_cannot_be_about(db_session, unit):
    commit(db_session, unit, preview(db_session, unit, "valid.xlsx"))
    imp = commit(db_session, unit, preview(db_session, unit, "numeric_ids.xlsx"))
    # numeric_ids.xlsx: 张三 and 李四 with damaged IDs (matched by their first 15 digits), 王芳 valid
    assert (imp.valid, imp.invalid, imp.unchanged) == (1, 2, 1)
    departed = db_session.scalars(select(Submission).where(Submission.staff_import_id == imp.id,
                                                           Submission.kind == SubmissionKind.departure)).all()
    assert sorted(s.payload["id_number"] for s in departed) == sorted([ZHAO, CHEN])


def test_the_error_csv_neutralises_every_cell_a_spreadsheet_could_run(db_session, unit):
    """OWASP's CSV injection list, as uploaded (in a row with an error, so it comes back in the error CSV)."""
    runnable = ["=1+1", " =HYPERLINK(\"http://evil\")", "\n=1+1", "|calc", " |calc", "+1", "-1", "@SUM(A1)",
                "\tx", "\rx", "\u3000=1", "＝1"]
    raw = io.StringIO(newline="")
    writer = csv.writer(raw, lineterminator="\r\n")
    writer.writerow(["姓名", "身份证号码", "岗位"])
    for value in runnable:
        writer.writerow(["张三", "123", value])  # the ID number is wrong: every row is an error row
    pv = preview(db_session, unit, "x.csv", raw.getvalue().encode("utf-8"))
    table = list(csv.reader(io.StringIO(staff_import.error_csv(pv).decode("utf-8-sig"), newline="")))
    positions = [row[3] for row in table[1:]]
    assert positions == ["'" + value for value in runnable]
