"""The auditor's audit log: filters, translated action names, keyset pages, the filtered log as CSV."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from portal.models.base import utcnow
from portal.services import admin, audit
from tests import factories
from tests.browser import FormClient, parse


@pytest.fixture
def auditor_client(app, db_session):
    auditor = factories.make_user(db_session, role="auditor")
    c = FormClient(app.test_client())
    c.sign_in(auditor.phone, factories.PASSWORD, totp_secret=auditor.totp_secret)
    return factories.english(c), auditor


@pytest.fixture
def rows(db_session, landlord, officer):
    audit.record(db_session, "id.reveal", audit.Actor(user=officer), object_type="person", object_id=41)
    audit.record(db_session, "login.password", audit.Actor(user=landlord), outcome="failure",
                 detail="=HYPERLINK(\"http://evil\")")
    audit.record(db_session, "id.reveal", audit.Actor(user=officer), object_type="person", object_id=42,
                 outcome="refused")
    db_session.commit()


def _ids(page) -> list[int]:
    return [int(tr["data-id"]) for tr in page.select("#audit-events tbody tr")]


def test_filters_narrow_the_log_and_actions_have_names(auditor_client, rows, officer):
    client, _ = auditor_client
    page = parse(client.get(f"/admin/audit?phone={officer.phone}&action=id.reveal&outcome=refused"))
    cells = page.select("#audit-events tbody tr")
    assert len(cells) == 1 and "Full ID number revealed" in cells[0].get_text()
    page = parse(client.get("/admin/audit?object_type=person&object_id=41"))
    assert len(_ids(page)) == 1
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert parse(client.get(f"/admin/audit?start={tomorrow}")).find(id="audit-empty") is not None
    today = utcnow().date().isoformat()
    assert len(_ids(parse(client.get(f"/admin/audit?start={today}&end={today}&action=id.reveal")))) == 2


def test_a_filter_that_is_not_one_is_told_at_its_field_and_never_widens_the_log(app, db_session, rows):
    """A date that is not one was left out silently: the page answered 200 with the whole log, and the export
    held more than was asked for. It is told at the field (400), in the reader's language."""
    auditor = factories.make_user(db_session, role="auditor")
    c = FormClient(app.test_client())
    c.sign_in(auditor.phone, factories.PASSWORD, totp_secret=auditor.totp_secret)
    c.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    for query, name in (("start=not-a-date", "start"), ("end=2026-02-30&action=id.reveal", "end"),
                        ("action=no.such", "action"), ("object_id=" + "9" * 41, "object_id")):
        response = c.get(f"/admin/audit?{query}")
        assert response.status_code == 400, query
        page = parse(response)
        error = factories.field_error(page, name)
        assert re.search(r"[\u4e00-\u9fff]", error), (query, error)
        assert page.find(id="audit-events") is None and page.title.get_text().startswith("错误")
        export = c.get(f"/admin/audit/export.csv?{query}")
        assert export.status_code == 400 and export.mimetype == "text/html", query
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).all() == []
    assert c.get("/admin/audit?start=&action=").status_code == 200  # empty is no filter


def test_pages_follow_each_other_with_the_filter_kept(auditor_client, db_session, officer, monkeypatch):
    client, _ = auditor_client
    monkeypatch.setattr(admin, "PAGE", 2)
    for n in range(5):
        audit.record(db_session, "item.view", audit.Actor(user=officer), object_type="submission", object_id=n)
    db_session.commit()
    page = parse(client.get("/admin/audit?action=item.view"))
    seen = _ids(page)
    while (older := page.find(id="audit-older")) is not None:
        assert "action=item.view" in older["href"]
        page = parse(client.get(older["href"]))
        seen += _ids(page)
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)


def test_the_filtered_log_exports_as_neutralised_csv_and_the_export_is_audited(auditor_client, rows, db_session):
    client, auditor = auditor_client
    response = client.get("/admin/audit/export.csv?action=login.password")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0] == list(admin.EXPORT_HEADER)
    (row,) = table[1:]
    assert row[6] == "login.password" and row[11].startswith("'=HYPERLINK")  # neutralised
    exported = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).all()
    assert [(e.actor_id, e.detail) for e in exported] == [(auditor.id, "action=login.password")]
