"""The employer's pages: registering a unit, the unit page, single hires and departures, scoping."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.models import Employment, RecordStatus, Submission, SubmissionKind, SubmissionStatus, Unit
from portal.services import receipts
from tests import factories
from tests.browser import parse
from tests.factories import field_error, field_value, text_of


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:500])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def start_registration(client, address) -> str:
    """Search the address, follow the result; returns the details page's URL."""
    page = parse(client.get("/employer/addresses?q=银海花园 13栋"))
    link = page.find("a", href=lambda h: h and h.startswith("/employer/units/new"))
    assert link is not None and address.code in link["href"]
    details_url = location(client.get(link["href"]))
    assert details_url.startswith("/employer/drafts/") and details_url.endswith("/unit")
    return details_url


def test_employer_registers_a_unit_and_gets_a_receipt(employer_client, db_session, district, employer):
    assert "You have not registered a unit yet." in text_of(parse(employer_client.get("/employer/")).main)
    address = district.addresses[0]
    details_url = start_registration(employer_client, address)
    fields = factories.unit_fields(address, special_trade="hotel")
    fields.pop("address_code")
    check_url = location(employer_client.submit(details_url, fields))
    assert check_url.endswith("/unit-check")
    check = parse(employer_client.get(check_url))
    summary = [text_of(dd) for dd in check.select("dl.summary-list dd")]
    assert address.text in summary and fields["name"] in summary and "Hotel or lodging" in summary
    assert _count(db_session, Submission) == 0  # nothing is filed before "send"

    receipt_url = location(factories.post_form(employer_client, check, check_url))
    sub = db_session.scalars(select(Submission)).one()
    assert receipt_url == f"/employer/submissions/{sub.id}/receipt"
    page = parse(employer_client.get(receipt_url))
    assert receipts.normalise(text_of(page.find(id="receipt-number"))) == sub.receipt
    assert page.find("img", class_="qr")["src"].startswith("data:image/svg+xml")
    public = parse(employer_client.get(f"/r/{sub.receipt}"))
    public_text = text_of(public.main)
    assert address.road in public_text and address.room not in public_text.replace(sub.receipt, "")
    assert fields["legal_rep_id_number"] not in public_text and fields["legal_rep_name"] not in public_text
    unit = db_session.get(Unit, sub.unit_id)
    assert (sub.kind, unit.owner_id, unit.status, unit.uscc) == (
        SubmissionKind.unit_registration, employer.id, RecordStatus.pending, fields["uscc"])

    # The back button and a second click land on the same receipt; nothing is filed twice.
    assert location(factories.post_form(employer_client, check, check_url)) == receipt_url
    assert location(employer_client.get(check_url)) == receipt_url
    assert _count(db_session, Submission) == 1

    home = parse(employer_client.get("/employer/"))
    assert [a["href"] for a in home.select("a.card-title")] == [f"/employer/units/{unit.id}"]
    assert "Waiting for the police" in text_of(home.select_one(".card"))
    unit_page = parse(employer_client.get(f"/employer/units/{unit.id}"))
    assert unit_page.h1.get_text(strip=True) == fields["name"]
    assert unit_page.find("a", href=f"/employer/units/{unit.id}/upload") is not None


def test_every_bad_field_is_shown_at_once_and_what_was_typed_is_kept(employer_client, db_session, district):
    details_url = start_registration(employer_client, district.addresses[0])
    typed = {"name": "", "uscc": "91430300MA00000010", "unit_type": "", "industry": "餐饮",
             "special_trade": "", "legal_rep_name": "王1", "legal_rep_id_number": "430302199001011234",
             "contact_name": "李保卫", "contact_phone": "1234"}
    response = employer_client.submit(details_url, typed)
    assert response.status_code == 200
    page = parse(response)
    assert page.title.get_text().startswith("Error:")
    expected = {
        "name": "Enter the name of the unit.",
        "uscc": "This unified social credit code is not valid.",
        "unit_type": "Choose the type of unit.",
        "legal_rep_name": "A name can contain only letters, ·, spaces, apostrophes and hyphens.",
        "legal_rep_id_number": "This ID number is not valid: check for a mistyped digit.",
        "contact_phone": "Enter a mainland China mobile number of 11 digits, like 13812345678.",
    }
    summary = [text_of(li) for li in page.select(".error-summary li")]
    assert sorted(summary) == sorted(expected.values())
    for name, message in expected.items():
        if name == "unit_type":
            assert message in text_of(page.find(id="unit_type"))
        else:
            assert field_error(page, name) == message, name
    for name in ("uscc", "industry", "legal_rep_name", "legal_rep_id_number", "contact_name",
                 "contact_phone"):
        assert field_value(page, name) == typed[name], name
    assert field_error(page, "industry") == ""
    assert _count(db_session, Submission) == 0


def test_a_code_already_registered_by_this_employer_is_refused_at_its_field(employer_client, db_session,
                                                                            district, employer):
    first = factories.make_unit(db_session, employer, district.addresses[0])
    code = db_session.get(Unit, first.unit_id).uscc
    details_url = start_registration(employer_client, district.addresses[0])
    fields = factories.unit_fields(district.addresses[0], uscc=code)
    fields.pop("address_code")
    page = parse(employer_client.submit(details_url, fields))
    assert field_error(page, "uscc").startswith("You have registered a unit with this code already")


def test_an_unknown_address_code_goes_back_to_the_search(employer_client):
    assert location(employer_client.get("/employer/units/new?address=NOPE")) == "/employer/addresses"


@pytest.fixture
def unit_case(db_session, district, employer, officer):
    """A verified unit of `employer` with one confirmed worker."""
    reg = factories.make_unit(db_session, employer, district.addresses[0], verified_by=officer)
    hire = factories.make_hire(db_session, employer, reg.unit_id, name="钱七", hire_date="2024-03-05")
    factories.decide(db_session, hire, officer, "confirmed")
    return reg.unit_id


def test_another_employer_gets_404_for_everything_of_this_unit(app, db_session, district, employer, unit_case,
                                                               other_employer_client):
    unit_id = unit_case
    sub = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.hire)).one()
    employment = db_session.scalars(select(Employment)).one()
    for url in (f"/employer/units/{unit_id}", f"/employer/units/{unit_id}/hire",
                f"/employer/units/{unit_id}/departure",
                f"/employer/units/{unit_id}/departure?employment={employment.id}",
                f"/employer/units/{unit_id}/upload", f"/employer/submissions/{sub.id}",
                f"/employer/submissions/{sub.id}/receipt", f"/employer/units/{unit_id}/imports/1"):
        assert other_employer_client.get(url).status_code == 404, url
    before = (_count(db_session, Submission), _count(db_session, Employment))
    token = factories.csrf_token(other_employer_client)
    hire = {"name": "赵六", "id_number": factories.resident_id(), "hire_date": "2024-01-01"}
    for url, data in ((f"/employer/units/{unit_id}/hire", hire),
                      (f"/employer/units/{unit_id}/departure", {"employment": str(employment.id),
                                                                "departure_date": "2024-06-01"}),
                      (f"/employer/submissions/{sub.id}/withdraw", {})):
        response = other_employer_client.client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 404, url
    assert (_count(db_session, Submission), _count(db_session, Employment)) == before
    home = parse(other_employer_client.get("/employer/"))
    assert "You have not registered a unit yet." in text_of(home.main)


def test_hiring_one_worker_through_the_page(employer_client, db_session, unit_case):
    unit_id = unit_case
    url = f"/employer/units/{unit_id}/hire"
    bad = employer_client.submit(url, {"name": "", "id_number": "4.30302E+17", "phone": "", "position": "",
                                       "hire_date": ""})
    page = parse(bad)
    assert bad.status_code == 200
    assert field_error(page, "name") == "Enter the name."
    assert field_error(page, "id_number").startswith("Excel stored this ID number as a number")
    assert field_error(page, "hire_date") == "Enter the date they started."
    assert field_value(page, "id_number") == "4.30302E+17"

    number = factories.resident_id("19970707")
    page = parse(employer_client.get(url))
    typed = {"name": "孙八", "id_number": number, "phone": "13912345678", "position": "服务员",
             "hire_date": "2025-02-01"}
    response = factories.post_form(employer_client, page, url, data=typed)
    receipt_url = location(response)
    (sub,) = [s for s in db_session.scalars(select(Submission).where(Submission.kind == "hire"))
              if s.payload["name"] == "孙八"]
    assert receipt_url == f"/employer/submissions/{sub.id}/receipt"
    # The same page sent again (double click, back button): one hire.
    again = factories.post_form(employer_client, page, url, data=typed)
    assert location(again) == receipt_url
    assert _count(db_session, Employment) == 2

    roster = parse(employer_client.get(f"/employer/units/{unit_id}"))
    cards = [text_of(li) for li in roster.select("ul.roster li")]
    assert any("孙八" in c and "Waiting for the police" in c for c in cards)
    assert any("钱七" in c and "Verified by the police" in c for c in cards)
    assert number not in roster.get_text()  # masked in lists


def test_reporting_a_departure_through_the_page(employer_client, db_session, unit_case, officer):
    unit_id = unit_case
    employment = db_session.scalars(select(Employment)).one()
    unit_page = parse(employer_client.get(f"/employer/units/{unit_id}"))
    link = unit_page.find("a", href=f"/employer/units/{unit_id}/departure?employment={employment.id}")
    assert link is not None
    url = link["href"]
    page = parse(employer_client.get(url))
    assert [i["value"] for i in page.select("input[name=employment]")] == [str(employment.id)]
    early = factories.post_form(employer_client, page, url, data={"employment": str(employment.id),
                                                                  "departure_date": "2024-03-01"})
    assert field_error(parse(early), "departure_date") == \
        "The departure date cannot be before the hire date (2024-03-05)."
    done = factories.post_form(employer_client, page, url, data={"employment": str(employment.id),
                                                                 "departure_date": "2025-01-31"})
    sub = db_session.scalars(select(Submission).where(Submission.kind == SubmissionKind.departure)).one()
    assert location(done) == f"/employer/submissions/{sub.id}/receipt"
    unit_page = parse(employer_client.get(f"/employer/units/{unit_id}"))
    assert "Departure reported (2025-01-31)" in text_of(unit_page.select_one("ul.roster"))

    factories.decide(db_session, sub, officer, "confirmed")
    db_session.expire_all()
    assert (employment.status, str(employment.departure_date)) == (RecordStatus.ended, "2025-01-31")
    status = parse(employer_client.get(f"/employer/submissions/{sub.id}"))
    assert "Confirmed" in text_of(status.select_one("dl.summary-list"))


def test_withdrawing_a_pending_hire(employer_client, db_session, district, employer):
    unit_id = factories.make_unit(db_session, employer, district.addresses[0]).unit_id
    sub = factories.make_hire(db_session, employer, unit_id)
    url = f"/employer/submissions/{sub.id}"
    confirm = parse(employer_client.get(f"{url}/withdraw"))  # the link on the report's page: are you sure?
    response = factories.post_form(employer_client, confirm, f"{url}/withdraw", action="/withdraw")
    assert location(response) == url
    db_session.expire_all()
    assert sub.status == SubmissionStatus.withdrawn
    assert db_session.scalars(select(Employment)).one().status == RecordStatus.withdrawn


def test_other_roles_do_not_reach_employer_pages(landlord_client, officer_client, db_session, unit_case):
    for c in (landlord_client, officer_client):
        assert c.get("/employer/").status_code == 404
        assert c.get(f"/employer/units/{unit_case}").status_code == 404
