"""Registering a house through the real pages: door plate -> use -> capacity -> check -> receipt."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.models import House, RecordStatus, Submission, SubmissionKind, SubmissionStatus
from portal.services import receipts
from tests import factories
from tests.browser import parse
from tests.factories import english, field_error, field_value, text_of


def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def start(client, address) -> str:
    """Scan the door plate: a signed-in landlord is sent to register the house; returns the first step's URL."""
    register = location(client.get(f"/a/{address.code}"))
    assert register == f"/landlord/houses/new?address={address.code}"
    use_url = location(client.get(register))
    assert use_url.endswith("/use")
    return use_url


def test_landlord_registers_a_house_and_gets_a_receipt(landlord_client, db_session, district, landlord):
    english(landlord_client)
    use_url = start(landlord_client, district.addresses[0])
    capacity_url = location(landlord_client.submit(use_url, {"use": "shared_rental"}))
    assert capacity_url.endswith("/capacity")
    certificate = "湘(2020)雨湖区不动产权第0001234号"
    check_url = location(landlord_client.submit(capacity_url, {"max_occupants": " 3 ",
                                                               "certificate_no": certificate}))
    assert check_url.endswith("/house-check")

    check = parse(landlord_client.get(check_url))
    summary = [text_of(dd) for dd in check.select("dl.summary-list dd")]
    assert district.addresses[0].text in summary and "3" in summary
    assert db_session.scalar(select(Submission)) is None  # nothing is filed before "send"

    receipt_url = location(landlord_client.submit(check_url, {}))
    assert receipt_url.endswith("/receipt")
    page = parse(landlord_client.get(receipt_url))
    shown = text_of(page.find(id="receipt-number"))
    number = receipts.normalise(shown)
    assert number is not None

    sub = db_session.scalars(select(Submission)).one()
    assert (sub.kind, sub.status, sub.reporter_id, sub.receipt) == (
        SubmissionKind.house_registration, SubmissionStatus.pending, landlord.id, number)
    assert receipt_url == f"/landlord/submissions/{sub.id}/receipt"
    assert page.find("img", class_="qr")["src"].startswith("data:image/svg+xml")
    house = db_session.get(House, sub.house_id)
    assert (house.owner_id, house.address_id, house.use, house.max_occupants, house.status) == (
        landlord.id, district.addresses[0].id, "shared_rental", 3, RecordStatus.pending)
    assert house.certificate_no == certificate
    assert sub.payload["max_occupants"] == 3 and sub.payload["address_code"] == district.addresses[0].code

    home = parse(landlord_client.get("/landlord/"))
    assert [a["href"] for a in home.select("a.card-title")] == [f"/landlord/houses/{house.id}"]


def test_the_use_step_needs_a_choice(landlord_client, db_session, district):
    english(landlord_client)
    use_url = start(landlord_client, district.addresses[0])
    response = landlord_client.submit(use_url, {})
    assert response.status_code == 200
    assert field_error(parse(response), "use") == "Choose how the house is used."


WHOLE_NUMBER = "Enter a whole number from 0 to 200."


@pytest.mark.parametrize(("typed", "field", "message"), [
    ({"max_occupants": "three", "certificate_no": "A-123"}, "max_occupants", WHOLE_NUMBER),
    ({"max_occupants": "500", "certificate_no": "A-123"}, "max_occupants", WHOLE_NUMBER),
    ({"max_occupants": "", "certificate_no": "A-123"}, "max_occupants",
     "Enter the largest number of people who can live here."),
    ({"max_occupants": "4", "certificate_no": "<b>1</b>"}, "certificate_no",
     "Enter the certificate number as printed, at most 40 characters."),
])
def test_bad_capacity_is_shown_at_its_field_and_values_are_kept(landlord_client, db_session, district, typed,
                                                                 field, message):
    english(landlord_client)
    use_url = start(landlord_client, district.addresses[0])
    capacity_url = location(landlord_client.submit(use_url, {"use": "whole_rental"}))
    response = landlord_client.submit(capacity_url, typed)
    assert response.status_code == 200
    page = parse(response)
    assert field_error(page, field) == message
    other = ({"max_occupants", "certificate_no"} - {field}).pop()
    assert field_error(page, other) == ""
    assert field_value(page, "max_occupants") == typed["max_occupants"]
    assert field_value(page, "certificate_no") == typed["certificate_no"]
    assert [a["href"] for a in page.select(".error-summary a")] == [f"#{field}"]


def test_the_same_house_cannot_be_registered_twice(landlord_client, db_session, district, landlord):
    """Registered meanwhile (in another tab, or through the API): the last step refuses it. Starting again
    leads to the house that is registered already."""
    english(landlord_client)
    use_url = start(landlord_client, district.addresses[0])
    registered = factories.make_house(db_session, landlord, district.addresses[0])
    capacity_url = location(landlord_client.submit(use_url, {"use": "whole_rental"}))
    check_url = location(landlord_client.submit(capacity_url, {"max_occupants": "2"}))
    response = landlord_client.submit(check_url, {})
    assert response.status_code == 200
    summary = text_of(parse(response).select_one(".error-summary"))
    assert "You have registered a house at this address already." in summary
    assert len(db_session.scalars(select(Submission)).all()) == 1
    again = landlord_client.get(f"/landlord/houses/new?address={district.addresses[0].code}")
    assert location(again) == f"/landlord/houses/{registered.house_id}"


def test_a_door_plate_cannot_be_registered_without_the_room(landlord_client, db_session, district):
    english(landlord_client)
    plate = factories.make_address(db_session, district.beats[0], road="韶山中路", door_no="90号",
                                   community="")
    db_session.commit()
    page = parse(landlord_client.get(f"/a/{plate.code}"))
    assert page.find("a", href=lambda h: h and h.startswith("/landlord/houses/new")) is None
    response = landlord_client.get(f"/landlord/houses/new?address={plate.code}")
    assert location(response) == "/landlord/addresses"
    assert db_session.scalar(select(House)) is None


def test_a_house_registration_can_be_corrected(landlord_client, db_session, district, landlord):
    english(landlord_client)
    old = factories.make_house(db_session, landlord, district.addresses[0], max_occupants=2)
    page_url = f"/landlord/submissions/{old.id}"
    check_url = location(factories.post_form(landlord_client, parse(landlord_client.get(page_url)), page_url,
                                             "/correct"))
    assert check_url.endswith("/house-check")
    capacity_url = check_url.rsplit("/", 1)[0] + "/capacity"
    assert field_value(parse(landlord_client.get(capacity_url)), "max_occupants") == "2"
    assert location(landlord_client.submit(capacity_url, {"max_occupants": "5"})) == check_url
    receipt_url = location(landlord_client.submit(check_url, {}))

    db_session.expire_all()
    new = db_session.scalars(select(Submission).where(Submission.supersedes_id == old.id)).one()
    assert receipt_url == f"/landlord/submissions/{new.id}/receipt"
    assert (db_session.get(Submission, old.id).status, new.status) == (SubmissionStatus.superseded,
                                                                      SubmissionStatus.pending)
    assert (old.payload["max_occupants"], new.payload["max_occupants"]) == (2, 5)
    house = db_session.get(House, old.house_id)
    assert new.house_id == house.id and (house.max_occupants, house.status) == (5, RecordStatus.pending)
    assert landlord_client.get(page_url).status_code == 200
