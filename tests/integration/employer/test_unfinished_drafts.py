"""An employer's unfinished reports (issue 18, item 2): a unit registration begun and a staff list waiting to
be checked are listed on the home page, resumed, discarded after a confirmation; another employer gets 404."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.models import Draft
from tests import factories
from tests.browser import parse
from tests.factories import post_form, text_of


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:500])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def cards(page) -> list:
    return page.select("#unfinished li.card-draft")


def begin_unit(client, address) -> str:
    details = location(client.get(f"/employer/units/new?address={address.code}"))
    fields = factories.unit_fields(address)
    fields.pop("address_code")
    check = location(client.submit(details, {**fields, "name": "湘潭市草稿餐饮有限公司"}))
    assert check.endswith("/unit-check")
    return details.rsplit("/", 1)[0]


def test_a_unit_registration_begun_is_listed_resumed_and_discarded(employer_client, db_session, district,
                                                                  employer):
    root = begin_unit(employer_client, district.addresses[0])
    listed = cards(parse(employer_client.get("/employer/")))
    assert len(listed) == 1
    assert "Unit registration" in text_of(listed[0]) and "湘潭市草稿餐饮有限公司" in text_of(listed[0])
    assert location(employer_client.get(root)) == root + "/unit-check"
    ask = parse(employer_client.get(root + "/discard"))
    assert text_of(ask.find("h1")) == "Discard this unfinished report?"
    assert location(post_form(employer_client, ask, root + "/discard", action="/discard")) == "/employer/"
    assert db_session.scalar(select(func.count()).select_from(Draft).where(Draft.owner_id == employer.id)) == 0
    assert cards(parse(employer_client.get("/employer/"))) == []


def test_another_employer_s_draft_is_a_404(employer_client, other_employer_client, db_session, district):
    root = begin_unit(employer_client, district.addresses[0])
    for step in ("", "/unit", "/unit-check", "/discard"):
        assert other_employer_client.get(root + step).status_code == 404, step
    token = factories.csrf_token(other_employer_client)
    assert other_employer_client.post(root + "/discard", data={"csrf_token": token}).status_code == 404
    assert location(employer_client.get(root)) == root + "/unit-check"  # still there for its owner


def test_a_staff_list_waiting_to_be_checked_is_listed_and_discarded_with_its_file(employer_client, db_session,
                                                                                 district, employer,
                                                                                 upload_folder):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    url = f"/employer/units/{unit_id}/upload"
    form = parse(employer_client.get(url)).find("form", enctype="multipart/form-data")
    data = factories.staff_csv([["赵一", "", factories.resident_id("19900101"), "", "厨师", "2024-03-05"]])
    preview = location(employer_client.client.post(url, content_type="multipart/form-data", data={
        "csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"], "file": (io.BytesIO(data),
                                                                                         "员工.csv")}))
    key = preview.rsplit("/", 1)[1]
    listed = cards(parse(employer_client.get("/employer/")))
    assert len(listed) == 1 and "员工.csv" in text_of(listed[0]) and "Staff list to check" in text_of(listed[0])
    assert location(employer_client.get(f"/employer/drafts/{key}")) == preview
    ask = parse(employer_client.get(f"/employer/drafts/{key}/discard"))
    post_form(employer_client, ask, f"/employer/drafts/{key}/discard", action="/discard")
    assert list(upload_folder.iterdir()) == []
    assert cards(parse(employer_client.get("/employer/"))) == []
