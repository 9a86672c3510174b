"""Officers' exports (services/exports.py): the list on the page as XLSX or CSV, decoded back here; scoped as
the page; masked unless the full export, which needs a reason; every export audited; cells neutralised;
at most MAX_ROWS rows."""
from __future__ import annotations

import csv
import io

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from portal.models import Address, AuditEvent
from portal.services import exports
from tests import factories
from tests.browser import parse
from tests.factories import text_of
from tests.integration.officer.conftest import signed_in


@pytest.fixture
def queue_items(db_session, district, landlord):
    mine = factories.make_house(db_session, landlord, district.addresses[0]).house_id
    far = factories.make_house(db_session, landlord, district.addresses[1]).house_id
    wang = factories.occupant(name="王小明", phone="13812340001")
    factories.make_move_in(db_session, landlord, mine, [wang])
    factories.make_move_in(db_session, landlord, far, [factories.occupant(name="欧阳修")])
    return {"wang": wang}


def export(c, query: str, data: dict):
    page = parse(c.get(f"/officer/export?{query}"))
    return factories.post_form(c, page, "/officer/export", "/officer/export", data=data)


def xlsx_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    return [[str(v) for v in row] for row in book.get_sheet_by_index(0).to_python()]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def audits(session, officer):
    return session.execute(select(AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.actor_id == officer.id, AuditEvent.action.like("export%")).order_by(AuditEvent.id)).all()


def test_queue_export_masked_then_full_with_a_reason(app, db_session, officer, queue_items):
    c = signed_in(app, officer)
    number = queue_items["wang"]["id_number"]
    rows = xlsx_rows(export(c, "list=queue", {"format": "xlsx"}))
    assert rows[0][:3] == ["Receipt", "Submitted", "Kind"]
    kinds = sorted(r[2] for r in rows[1:])
    assert kinds == ["House registration", "Move-in"]  # station 1's only: not station 2's two items
    move_in = next(r for r in rows if r[2] == "Move-in")
    assert move_in[5] == "王**" and move_in[6] == number[:6] + "********" + number[-4:]
    assert move_in[7] == "138****0001"
    # The full export without a reason: the form again, said at the field, nothing exported or recorded.
    response = export(c, "list=queue", {"format": "xlsx", "full": "y"})
    assert response.status_code == 400
    assert "Choose why you need the full export." in text_of(parse(response).select_one(".error-summary"))
    rows = csv_rows(export(c, "list=queue&kind=move_in", {"format": "csv", "full": "y", "reason": "case"}))
    assert [r[2] for r in rows[1:]] == ["Move-in"]
    assert rows[1][5:8] == ["王小明", number, "13812340001"]
    assert audits(db_session, officer) == [("export", "list=queue format=xlsx rows=2"),
                                           ("export.full", "list=queue format=csv rows=1 reason=case")]


def test_scoped_and_tampered(app, db_session, district, landlord, officer, officer2, queue_items):
    c = signed_in(app, officer2)
    rows = xlsx_rows(export(c, "list=queue", {"format": "xlsx"}))
    assert [r[5] for r in rows[1:] if r[2] == "Move-in"] == ["欧**"]
    # A beat of the other station in the filter finds nothing, as the queue page does.
    rows = xlsx_rows(export(c, f"list=queue&beat={district.beats[0].id}", {"format": "xlsx"}))
    assert rows[1:] == []
    assert c.get(f"/officer/export?list=building&address={district.addresses[0].id}").status_code == 404
    token = factories.csrf_token(c)
    response = c.post("/officer/export", data={"csrf_token": token, "list": "building",
                                               "address": str(district.addresses[0].id), "format": "csv"})
    assert response.status_code == 404
    for query in ("list=nothing", "list=anomaly&kind=nope", "list=building&address=x", "list=building"):
        assert c.get(f"/officer/export?{query}").status_code == 404
    response = c.post("/officer/export", data={"csrf_token": token, "list": "queue", "format": "pdf"})
    assert response.status_code == 400
    assert [a for a, _d in audits(db_session, officer2)] == ["export", "export"]


def test_cells_are_neutralised(app, db_session, district, landlord, officer):
    a = factories.make_address(db_session, district.beats[0], road="建设路", door_no="1号", community="",
                               building="3栋", unit="1单元", room="101")
    a.division_name = "=HYPERLINK(\"http://evil\")"
    db_session.commit()
    factories.make_house(db_session, landlord, a)
    c = signed_in(app, officer)
    query = f"list=building&address={a.id}"
    for fmt, read in (("xlsx", xlsx_rows), ("csv", csv_rows)):
        rows = read(export(c, query, {"format": fmt}))
        assert rows[0][0] == "Address"
        assert rows[1][0].startswith("'=HYPERLINK(")
        assert rows[1][3] == "测***" and rows[1][4].count("*") == 4  # owner and phone masked
    full = xlsx_rows(export(c, query, {"format": "xlsx", "full": "y", "reason": "correction"}))
    assert full[1][3] == landlord.name and full[1][4] == landlord.phone
    # In the workbook the cell is a string, not a formula.
    from zipfile import ZipFile

    response = export(c, query, {"format": "xlsx"})
    sheet = ZipFile(io.BytesIO(response.data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


def test_anomaly_list_export_and_the_row_limit(app, db_session, district, landlord, officer, monkeypatch):
    for n in range(3):
        a = factories.make_address(db_session, district.beats[0], road="建设路", door_no=f"{n}号", community="",
                                   building="1栋", unit="1单元", room="101")
        db_session.commit()
        hid = factories.make_house(db_session, landlord, a, max_occupants=1).house_id
        factories.make_move_in(db_session, landlord, hid, [factories.occupant(name="甲一"),
                                                           factories.occupant(name="乙二")])
    c = signed_in(app, officer)
    page = parse(c.get("/officer/export?list=anomaly&kind=over-capacity"))
    assert page.find("input", attrs={"name": "full"}) is None  # nothing to unmask in this list
    rows = xlsx_rows(export(c, "list=anomaly&kind=over-capacity", {"format": "xlsx"}))
    assert len(rows) == 4 and [r[3:5] for r in rows[1:]] == [["2", "1"]] * 3
    monkeypatch.setattr(exports, "MAX_ROWS", 2)
    rows = csv_rows(export(c, "list=anomaly&kind=over-capacity", {"format": "csv"}))
    assert len(rows) == 3
    assert audits(db_session, officer)[-1] == ("export", "list=anomaly:over-capacity format=csv rows=2 truncated")


def test_pages_link_to_their_export(app, db_session, district, officer):
    c = signed_in(app, officer)
    link = parse(c.get("/officer/queue?kind=move_in&flagged=y")).select_one("#export-link")["href"]
    assert "list=queue" in link and "kind=move_in" in link and "flagged=y" in link
    form = parse(c.get(link)).select_one("#export-form")
    hidden = {i["name"]: i["value"] for i in form.select("input[type=hidden]") if i["name"] != "csrf_token"}
    assert hidden == {"list": "queue", "kind": "move_in", "flagged": "y"}
    assert "list=anomaly" in parse(c.get("/officer/anomalies/overdue")).select_one("#export-link")["href"]


def test_exports_page_through_their_list(app, db_session, district, landlord, officer, queue_items, monkeypatch):
    """Batches of one row: every row once, in the list's order, whatever the batch size."""
    monkeypatch.setattr(exports, "BATCH", 1)
    c = signed_in(app, officer)
    rows = xlsx_rows(export(c, "list=queue", {"format": "xlsx", "full": "y", "reason": "report"}))
    assert [r[2] for r in rows[1:]] == ["House registration", "Move-in"]
    for n in (102, 101, 1001):
        factories.make_address(db_session, district.beats[0], road="建设路", door_no="9号", community="",
                               building="1栋", unit="1单元", room=str(n))
    db_session.commit()
    anchor = db_session.scalars(select(Address).where(Address.door_no == "9号")).first()
    rows = csv_rows(export(c, f"list=building&address={anchor.id}", {"format": "csv"}))
    assert [r[0].rsplit(" ", 1)[1] for r in rows[1:]] == ["101", "102", "1001"]


def test_the_exports_columns_are_the_queues_items_in_its_order(db_session, district, landlord, officer):
    """queue.queue_columns (the export's reading, batch by batch, no objects) gives exactly queue_page's items,
    in its order, for each filter: ties of filing time broken by id across a batch's edge."""
    from datetime import timedelta

    from portal.models import Submission
    from portal.services import queue

    houses = [factories.make_house(db_session, landlord, a).house_id for a in district.addresses[:2]]
    for n in range(5):
        factories.make_move_in(db_session, landlord, houses[n % 2], [factories.occupant(birth=f"1980010{n + 1}")])
    subs = db_session.scalars(select(Submission).order_by(Submission.id)).all()
    same = subs[0].submitted_at + timedelta(hours=1)
    for s in subs[1:5]:  # four filed at the same instant: the order is by id
        s.submitted_at = same
    db_session.commit()

    def by_pages(filters):
        out, cursor = [], None
        while True:
            page = queue.queue_page(db_session, officer, filters, cursor, page_size=2)
            out += [s.id for s in page.items]
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    for filters in (queue.Filters(), queue.Filters(kind="move_in"), queue.Filters(beat_id=district.beats[0].id),
                    queue.Filters(beat_id=-1)):
        expected = by_pages(filters)
        for batch in (1, 2, 3, 100):
            got = [r.id for rows in queue.queue_columns(db_session, officer, filters, [Submission.id], batch=batch)
                   for r in rows]
            assert got == expected, (filters, batch)
    assert len(by_pages(queue.Filters())) >= 3  # station 1's: the other address is another station's
