"""Uploading a staff list through the pages: upload -> preview -> commit -> result, and what can go wrong."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.models import AuditEvent, Draft, Employment, StaffImport, Submission, SubmissionKind
from tests import factories
from tests.browser import parse
from tests.factories import text_of


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:800])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def upload(client, unit_id: int, data: bytes, filename: str = "staff.csv", *, full_list: bool = True):
    """Send a file as the upload page's form does (multipart, with the page's CSRF token)."""
    url = f"/employer/units/{unit_id}/upload"
    form = parse(client.get(url)).find("form", enctype="multipart/form-data")
    fields = {"csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"],
              "file": (io.BytesIO(data), filename)}
    if full_list:
        fields["full_list"] = "y"
    return client.client.post(url, data=fields, content_type="multipart/form-data")


def totals(page) -> dict[str, int]:
    return {dd["data-total"]: int(text_of(dd)) for dd in page.select("#totals dd[data-total]")}


@pytest.fixture
def unit_id(db_session, district, employer):
    """A unit whose registration is still pending: staff lists may be uploaded already."""
    return factories.make_unit(db_session, employer, district.addresses[0]).unit_id


def sex_of(number: str) -> str:
    return "男" if int(number[16]) % 2 else "女"


@pytest.fixture
def people():
    ids = [factories.resident_id(birth) for birth in ("19900101", "19920202", "19930303")]
    return [["赵一", sex_of(ids[0]), ids[0], "13800000001", "厨师", "2024/3/5"],
            ["钱二", sex_of(ids[1]), ids[1], "", "服务员", "2024年3月6日"],
            ["孙三", "", ids[2], "１３８０００００００３", "收银", "2024-03-07"]]


def test_the_upload_page_offers_the_templates_and_defaults_to_the_full_list(employer_client, unit_id):
    page = parse(employer_client.get(f"/employer/units/{unit_id}/upload"))
    form = page.find("form", enctype="multipart/form-data")
    assert form.find("input", attrs={"type": "file", "name": "file"}) is not None
    assert form.find("input", attrs={"name": "full_list"}).has_attr("checked")
    csv_link = page.find("a", href="/employer/staff-template.csv")
    xlsx_link = page.find("a", href="/employer/staff-template.xlsx")
    assert csv_link is not None and xlsx_link is not None
    template = employer_client.get(csv_link["href"])
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    header = next(csv.reader(io.StringIO(template.get_data().decode("utf-8-sig"))))
    assert header == ["Full name", "Sex", "ID number", "Mobile phone", "Position", "Hire date", "Document type",
                      "Nationality", "Date of birth", "Visa or residence permit", "Visa valid until"]
    workbook = employer_client.get(xlsx_link["href"])
    assert workbook.status_code == 200 and workbook.get_data()[:2] == b"PK"


def test_upload_preview_commit_and_upload_again(employer_client, db_session, unit_id, people, upload_folder):
    bad = [["周四", "", "4.30302E+17", "", "保安", "2024-03-08"],
           ["吴五", "", factories.resident_id("19940404"), "", "保安", "2024-02-30"],
           ["郑六", "", people[0][2], "", "", ""]]  # the same ID as row 2
    data = factories.staff_csv(people + bad)

    preview_url = location(upload(employer_client, unit_id, data, "员工名单.csv"))
    assert preview_url.startswith("/employer/uploads/")
    key = preview_url.rsplit("/", 1)[-1]
    assert [p.name for p in upload_folder.iterdir()] == [key]  # kept on the server, not in the cookie
    assert _count(db_session, Submission, Submission.kind == SubmissionKind.hire) == 0  # nothing sent yet

    page = parse(employer_client.get(preview_url))
    assert totals(page) == {"rows": 6, "valid": 3, "invalid": 3, "hires": 3, "departures": 0, "unchanged": 0}
    rows = [[text_of(td) for td in tr.find_all("td")] for tr in page.select("table.row-errors tbody tr")]
    assert [(r[0], r[2]) for r in rows] == [("5", "ID number"), ("6", "Hire date"), ("7", "ID number")]
    assert [r[1] for r in rows] == ["周四", "吴五", "郑六"]  # the name beside the row number
    assert rows[0][3].startswith("Excel stored this ID number as a number, so its last digits are already")
    assert rows[2][3] == "This ID number is already in row 2."
    hires = [text_of(li) for li in page.select("ul.hires li")]
    assert [h.split(" · ")[0] for h in hires] == ["赵一", "钱二", "孙三"]
    assert people[0][2] not in page.get_text()  # masked

    errors = employer_client.get(page.find("a", href=f"/employer/uploads/{key}/errors.csv")["href"])
    assert errors.status_code == 200 and "attachment" in errors.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(errors.get_data().decode("utf-8-sig"))))
    assert [r[0] for r in table[1:]] == ["5", "6", "7"] and table[0][-1] == "Errors"
    audited = db_session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "unit",
                                                                 AuditEvent.object_id == str(unit_id))).all()
    assert audited.count("staff_list.upload") == 1 and audited.count("staff_list.export_errors") == 1

    result_url = location(factories.post_form(employer_client, page, preview_url, action="/commit"))
    done = db_session.scalars(select(StaffImport)).one()
    assert result_url == f"/employer/units/{unit_id}/imports/{done.id}"
    assert (done.hires, done.departures, done.invalid, done.rows) == (3, 0, 3, 6)
    hires = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.hire)).all()
    assert len(hires) == 3 and {h.staff_import_id for h in hires} == {done.id}
    assert {h.unit_id for h in hires} == {unit_id}
    assert _count(db_session, Employment) == 3
    assert list(upload_folder.iterdir()) == [] and _count(db_session, Draft) == 0
    result = parse(employer_client.get(result_url))
    assert totals(result)["hires"] == 3 and len(result.select(".submission-list li")) == 3

    # The commit button pressed again (back button): nothing more, and a clear word.
    again = factories.post_form(employer_client, page, preview_url, action="/commit")
    assert location(again) == "/employer/"
    assert "sent already" in text_of(parse(employer_client.get("/employer/")).select_one(".notice"))
    assert _count(db_session, StaffImport) == 1

    # The same content uploaded again (another name, saved by Chinese Excel): "already imported", nothing new.
    same = factories.staff_csv(people + bad, encoding="gb18030")
    second_url = location(upload(employer_client, unit_id, same, "again.csv"))
    second = parse(employer_client.get(second_url))
    assert second.find(id="already-imported") is not None
    assert totals(second)["hires"] == 0 and totals(second)["unchanged"] == 3
    final = location(factories.post_form(employer_client, second, second_url, action="/commit"))
    assert final == result_url
    assert "imported already" in text_of(parse(employer_client.get(final)).select_one(".notice"))
    assert _count(db_session, StaffImport) == 1
    assert _count(db_session, Submission, Submission.kind == SubmissionKind.hire) == 3
    assert list(upload_folder.iterdir()) == []


def _commit(client, unit_id, data):
    page, url = _preview(client, unit_id, data)
    return location(factories.post_form(client, page, url, action="/commit"))


def test_a_full_list_without_someone_reports_their_departure(employer_client, db_session, unit_id, people):
    _commit(employer_client, unit_id, factories.staff_csv(people))
    page, url = _preview(employer_client, unit_id, factories.staff_csv(people[:2]))
    assert totals(page) == {"rows": 2, "valid": 2, "invalid": 0, "hires": 0, "departures": 1, "unchanged": 2}
    assert [text_of(li).split(" · ")[0] for li in page.select("ul.departures li")] == ["孙三"]
    # One of three is more than a fifth of the roster: the warning names them, and sending asks to confirm.
    assert "孙三" in text_of(page.select_one("#departures-warning"))
    refused = factories.post_form(employer_client, page, url, action="/commit")
    assert refused.status_code == 200
    again = parse(refused)
    assert "confirm that they have left" in factories.field_error(again, "confirm_departures")
    assert again.select_one(".error-summary a")["href"] == "#confirm_departures"
    assert _count(db_session, Submission, Submission.kind == SubmissionKind.departure) == 0
    location(factories.post_form(employer_client, again, url, action="/commit", data={"confirm_departures": "y"}))
    departure = db_session.scalars(select(Submission)
                                   .where(Submission.kind == SubmissionKind.departure)).one()
    assert departure.payload["name"] == "孙三" and departure.unit_id == unit_id


def test_a_partial_list_reports_no_departures(employer_client, db_session, unit_id, people):
    _commit(employer_client, unit_id, factories.staff_csv(people))
    response = upload(employer_client, unit_id, factories.staff_csv(people[:1]), full_list=False)
    page = parse(employer_client.get(location(response)))
    assert totals(page)["departures"] == 0 and "only new workers" in text_of(page.main)


def _preview(client, unit_id, data):
    url = location(upload(client, unit_id, data))
    return parse(client.get(url)), url


def test_a_kept_upload_is_sealed_on_disk_and_bound_to_its_draft(employer_client, unit_id, people, upload_folder):
    first, first_url = _preview(employer_client, unit_id, factories.staff_csv(people))
    _second, second_url = _preview(employer_client, unit_id, factories.staff_csv(people[:1]))
    files = {p.name: p for p in upload_folder.iterdir()}
    mine, other = files[first_url.rsplit("/", 1)[-1]], files[second_url.rsplit("/", 1)[-1]]
    assert not any(person[2].encode() in mine.read_bytes() or person[0].encode() in mine.read_bytes()
                   for person in people)
    assert [p[0] for p in people][0] in first.get_text()  # it opens for its preview
    mine.write_bytes(other.read_bytes())  # another draft's file does not open under this one's key
    assert employer_client.get(first_url).status_code == 500


def test_discarding_an_upload_removes_the_file(employer_client, db_session, unit_id, people, upload_folder):
    page, url = _preview(employer_client, unit_id, factories.staff_csv(people))
    assert len(list(upload_folder.iterdir())) == 1
    discarded = factories.post_form(employer_client, page, url, action="/discard")
    assert location(discarded) == f"/employer/units/{unit_id}"
    assert list(upload_folder.iterdir()) == [] and _count(db_session, Draft) == 0
    assert _count(db_session, Submission) == 1  # the registration only


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"", "staff.csv", "The file is empty."),
    (b"%PDF-1.7\n" + bytes(range(256)) * 4, "staff.xlsx",
     "This is not an Excel workbook (.xlsx) or a CSV file."),
    ("岗位,手机\n厨师,13800000000\n".encode(), "staff.csv", "The file has no column for:"),
])
def test_a_refused_file_is_explained_at_the_file_field(employer_client, db_session, unit_id, upload_folder,
                                                       data, filename, message):
    response = upload(employer_client, unit_id, data, filename)
    assert response.status_code == 200
    page = parse(response)
    assert page.title.get_text().startswith("Error:")
    shown = text_of(page.select_one(".field-error .error-message"))
    assert shown.startswith(message)
    assert message in text_of(page.select_one(".error-summary"))
    assert not upload_folder.exists() or list(upload_folder.iterdir()) == []
    assert _count(db_session, Draft) == 0


def test_no_file_chosen(employer_client, unit_id):
    url = f"/employer/units/{unit_id}/upload"
    token = parse(employer_client.get(url)).find("input", attrs={"name": "csrf_token"})["value"]
    response = employer_client.client.post(url, data={"csrf_token": token, "full_list": "y"},
                                           content_type="multipart/form-data")
    assert "Choose the file with your staff list." in text_of(parse(response).select_one(".error-summary"))


def test_a_file_over_the_size_limit_gets_the_upload_page_with_the_reason(app, employer_client, unit_id,
                                                                         monkeypatch, upload_folder):
    page = parse(employer_client.get(f"/employer/units/{unit_id}/upload"))
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    # Encoded here, in memory: the test client would spool a body this size to a temporary file.
    boundary, body = encode_multipart({"csrf_token": token, "full_list": "y",
                                       "file": FileStorage(io.BytesIO(b"a" * (1024 * 1024 + 10)), "big.csv")})
    response = employer_client.client.post(f"/employer/units/{unit_id}/upload", data=body,
                                           content_type=f"multipart/form-data; boundary={boundary}")
    page = parse(response)
    assert response.status_code == 413, text_of(page.main)
    assert text_of(page.select_one(".error-message")) == \
        "The file is larger than 1 MB. Split the list into smaller files."
    assert page.find("form", enctype="multipart/form-data") is not None
    assert not upload_folder.exists() or list(upload_folder.iterdir()) == []


def test_another_employer_cannot_reach_an_upload(employer_client, other_employer_client, db_session, unit_id,
                                                 people, upload_folder):
    page, url = _preview(employer_client, unit_id, factories.staff_csv(people))
    key = url.rsplit("/", 1)[-1]
    assert location(other_employer_client.get(url)) == "/employer/"
    assert other_employer_client.get(f"{url}/errors.csv").status_code == 404
    token = factories.csrf_token(other_employer_client)
    for action in ("commit", "discard"):
        response = other_employer_client.client.post(f"{url}/{action}",
                                                     data={"csrf_token": token, "form_key": key})
        assert location(response) == "/employer/"
    assert [p.name for p in upload_folder.iterdir()] == [key] and _count(db_session, StaffImport) == 0
    assert other_employer_client.get(f"/employer/units/{unit_id}/upload").status_code == 404


def test_a_file_over_the_limit_from_someone_else_gets_the_plain_413_page(app, client, other_employer_client,
                                                                         unit_id, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    for c, token in ((client, factories.csrf_token(client)),
                     (other_employer_client, factories.csrf_token(other_employer_client))):
        boundary, body = encode_multipart({"csrf_token": token, "file": FileStorage(io.BytesIO(b"a" * 2048), "x.csv")})
        response = c.client.post(f"/employer/units/{unit_id}/upload", data=body,
                                 content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == 413
        page = parse(response)
        assert page.find("form", enctype="multipart/form-data") is None
        assert page.h1 is not None


def test_no_staff_list_for_a_rejected_unit(employer_client, db_session, unit_id, officer, people, upload_folder):
    registration = db_session.scalar(select(Submission).where(Submission.unit_id == unit_id))
    factories.decide(db_session, registration, officer, "rejected", reason_code="wrong_address")
    response = upload(employer_client, unit_id, factories.staff_csv(people))
    assert response.status_code == 200
    assert text_of(parse(response).select_one(".error-message")) == \
        "This unit's registration was rejected or withdrawn: register it again first."
    assert not upload_folder.exists() or list(upload_folder.iterdir()) == []


def test_files_whose_draft_has_gone_are_purged(employer_client, db_session, unit_id, people, upload_folder):
    from portal.services import units

    _page, url = _preview(employer_client, unit_id, factories.staff_csv(people))
    kept = url.rsplit("/", 1)[-1]
    (upload_folder / "an-expired-draft-key-0000000000").write_bytes(b"old")
    assert units.purge_uploads(db_session, upload_folder) == 1
    assert [p.name for p in upload_folder.iterdir()] == [kept]


def test_the_preview_names_people_whose_departure_waits(employer_client, db_session, employer, unit_id, people):
    """The same rule as the API's departure_pending: named in the list, departure already reported."""
    _commit(employer_client, unit_id, factories.staff_csv(people))
    leaving = next(e for e in db_session.scalars(select(Employment).where(
        Employment.unit_id == unit_id)) if e.declared_name == "钱二")
    factories.make_departure(db_session, employer, unit_id, leaving.id)
    page, _url = _preview(employer_client, unit_id, factories.staff_csv(people))
    assert totals(page) == {"rows": 3, "valid": 3, "invalid": 0, "hires": 0, "departures": 0, "unchanged": 2,
                            "departure_pending": 1}
    assert [text_of(li).split(" · ")[0] for li in page.select("ul.departure-pending li")] == ["钱二"]
