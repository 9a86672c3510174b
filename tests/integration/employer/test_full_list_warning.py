"""No trap in the staff list (issue 18, item 3): a complete list that would report more than a few people, or
more than a fifth of the roster, as having left says so with their names and is sent only once confirmed, on
the page and through the API alike; the error rows' advice, the name beside each error row, and a known ID
number under another name shown as a name to check."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.models import Submission, SubmissionKind
from portal.services import staff_import
from tests import factories
from tests.browser import parse
from tests.factories import field_error, post_form, text_of
from tests.integration.api.conftest import ApiClient, new_token, problem

NAMES = ["赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七", "王八", "冯九", "陈十"]


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:500])
    return urlsplit(response.headers["Location"]).path


def departures(session) -> int:
    return session.scalar(select(func.count()).select_from(Submission)
                          .where(Submission.kind == SubmissionKind.departure))


@pytest.fixture
def staff() -> list[list[str]]:
    return [factories.staff_row(name, birth=f"19{80 + i}0{1 + i % 9}1{i}") for i, name in enumerate(NAMES)]


@pytest.fixture
def unit_id(db_session, district, employer, staff):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    factories.make_staff_import(db_session, employer, unit_id, staff)  # ten people on the roster
    return unit_id


def preview_page(client, unit_id: int, rows: list[list[str]], *, full_list: bool = True):
    url = f"/employer/units/{unit_id}/upload"
    form = parse(client.get(url)).find("form", enctype="multipart/form-data")
    fields = {"csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"],
              "file": (io.BytesIO(factories.staff_csv(rows)), "staff.csv")}
    if full_list:
        fields["full_list"] = "y"
    preview = location(client.client.post(url, data=fields, content_type="multipart/form-data"))
    return parse(client.get(preview)), preview


@pytest.mark.parametrize(("leaving", "roster", "asks"), [
    (0, 0, False), (1, 10, False), (2, 10, False), (3, 10, True), (3, 15, False), (3, 100, False),
    (4, 100, True), (1, 5, False), (1, 4, True), (1, 1, True)])
def test_the_rule_more_than_a_few_or_more_than_a_fifth(leaving, roster, asks):
    assert staff_import.needs_confirmation(leaving, roster) is asks


def test_one_leaving_of_ten_is_sent_without_a_warning(employer_client, db_session, unit_id, staff):
    page, url = preview_page(employer_client, unit_id, staff[1:])
    assert page.select_one("#departures-warning") is None
    assert page.find(attrs={"name": "confirm_departures"}) is None
    post_form(employer_client, page, url, action="/commit")
    assert departures(db_session) == 1


def test_the_fixed_error_rows_sent_as_the_full_list_warn_with_the_names_and_wait_for_a_confirmation(
        employer_client, db_session, unit_id, staff):
    page, url = preview_page(employer_client, unit_id, staff[:2])  # what following the old advice sent
    box = page.select_one("#departures-warning")
    assert box is not None
    assert text_of(box.find("h2")) == "This list reports 8 people as having left"
    assert [text_of(li).split(" · ")[0] for li in box.select("ul.departures li")] == NAMES[2:]
    assert "10 people on your staff list" in text_of(box)
    refused = post_form(employer_client, page, url, action="/commit")
    assert refused.status_code == 200 and departures(db_session) == 0
    again = parse(refused)
    assert text_of(again.find("title")).startswith("Error:")
    assert "This list reports 8 people as having left" in field_error(again, "confirm_departures")
    assert again.select_one("#departures-warning") is not None  # the names again, beside the reason
    done = post_form(employer_client, again, url, action="/commit", data={"confirm_departures": "y"})
    assert "/imports/" in location(done)
    assert departures(db_session) == 8


def test_the_api_refuses_the_same_list_until_it_is_confirmed(app, db_session, employer, unit_id, staff):
    api = ApiClient(app.test_client(), new_token(db_session, employer))

    def send(query: str):
        return api.post(f"/api/v1/units/{unit_id}/staff-imports{query}", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(factories.staff_csv(staff[:2])), "staff.csv")})

    dry = send("?dry_run=true")
    assert dry.status_code == 200 and dry.get_json()["departures"] == 8  # the same count as the page
    assert dry.get_json()["departures_need_confirmation"] is True
    body = problem(send(""), 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("confirm_departures", "departures_unconfirmed")]
    assert departures(db_session) == 0
    confirmed = send("?confirm_departures=true")
    assert confirmed.status_code == 201, confirmed.get_json()
    assert confirmed.get_json()["departures"] == 8 and departures(db_session) == 8


def test_the_error_rows_advice_says_to_fix_them_in_the_complete_list(employer_client, unit_id, staff):
    bad = ["李错", "", "430302199001011230", "", "厨师", "2024-03-05"]  # a wrong check digit
    page, _url = preview_page(employer_client, unit_id, [*staff, bad])
    advice = text_of(page.select_one("#errors").find_next_sibling("p"))
    assert "Correct them in your complete staff list and upload the whole list again." in advice
    assert "Do not upload it as the full staff list" in text_of(page.find("main"))
    cells = [text_of(td) for td in page.select("table.row-errors tbody tr")[0].find_all("td")]
    assert cells[:3] == ["12", "李错", "ID number"]
    assert [td["data-label"] for td in page.select("table.row-errors tbody tr td")][:4] == [
        "Row", "Full name", "Column", "Problem"]


def test_a_known_id_number_under_another_name_is_a_name_to_check_not_unchanged(employer_client, db_session,
                                                                             app, employer, unit_id, staff):
    renamed = [list(r) for r in staff]
    renamed[0][0] = "赵壹"
    page, url = preview_page(employer_client, unit_id, renamed)
    totals = {dd["data-total"]: int(text_of(dd)) for dd in page.select("#totals dd[data-total]")}
    assert totals["unchanged"] == 9 and totals["renamed"] == 1 and totals["departures"] == 0
    card = page.select_one("ul.renamed li")
    assert text_of(card.select_one(".file-name")) == "赵壹" and text_of(card.select_one(".roster-name")) == "赵一"
    api = ApiClient(app.test_client(), new_token(db_session, employer))
    dry = api.post(f"/api/v1/units/{unit_id}/staff-imports?dry_run=true", content_type="multipart/form-data",
                   data={"file": (io.BytesIO(factories.staff_csv(renamed)), "staff.csv")}).get_json()
    assert (dry["unchanged"], dry["hires"], dry["departures"], dry["renamed"]) == (9, 0, 0, 1)  # the page's counts
    assert dry["departures_need_confirmation"] is False
    post_form(employer_client, page, url, action="/commit")
    assert db_session.scalar(select(func.count()).select_from(Submission)
                             .where(Submission.kind == SubmissionKind.hire)) == 10  # nothing new was sent
