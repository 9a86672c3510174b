"""Characters that are not text (NUL; a lone surrogate, which bad UTF-8 would be) in a web request: a clear
answer, never a 500, on SQLite and PostgreSQL alike."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.browser import FormClient, parse
from tests.factories import english, field_error

NAME_CHARS = "A name can contain only letters, ·, spaces, apostrophes and hyphens."
NUL_URLS = [
    "/landlord/drafts/ab%00cd/use",
    "/landlord/drafts/ab%00cd/check",
    "/landlord/drafts/ab%00cd",
    "/landlord/drafts/ab%00cd/discard",
    "/landlord/addresses?q=a%00b",
    "/landlord/houses/new?address=AB%00CD",
    "/a/AB%00CD",
    "/r/AB%00CD",
    "/landlord/?x%00=1",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_in_the_address_is_a_400_page(landlord_client, url):
    response = english(landlord_client).get(url)
    assert response.status_code == 400
    assert parse(response).h1.get_text(strip=True) == "Something is wrong with the request"


def test_a_nul_in_an_api_query_is_a_422_naming_the_parameter(app, db_session, landlord):
    from tests.integration.api.conftest import new_token

    client = app.test_client()
    headers = {"Authorization": f"Bearer {new_token(db_session, landlord)}"}
    response = client.get("/api/v1/submissions?kind=departure&cursor=S%5C%00%01", headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.get_json()["errors"]] == [("cursor", "invalid_text")]
    response = client.get("/api/v1/addresses?q=a%00b", headers=headers)
    assert [(e["field"], e["code"]) for e in response.get_json()["errors"]] == [("q", "invalid_text")]
    assert client.get("/api/v1/submissions/1%00", headers=headers).status_code == 404


@pytest.fixture
def person_page(landlord_client, db_session, district, landlord) -> str:
    house = factories.make_house(db_session, landlord, district.addresses[0]).house
    english(landlord_client)
    return urlsplit(landlord_client.get(f"/landlord/houses/{house.id}/move-in").headers["Location"]).path


@pytest.mark.parametrize(("field", "message"), [
    ("id_number", "An ID number has 17 digits followed by a digit or X."),
    ("name", NAME_CHARS),
    ("phone", "Enter a mainland China mobile number of 11 digits, like 13812345678."),
    ("occupation", "Remove the invisible or control characters."),
    ("workplace", "Remove the invisible or control characters."),
])
def test_a_nul_in_a_form_field_is_told_at_the_field(landlord_client, person_page, field, message):
    data = {"id_type": "resident_id", "id_number": factories.resident_id(), "name": "李四",
            "relation": "main_tenant", field: "a\x00b"}
    response = landlord_client.submit(person_page, data)
    assert response.status_code == 200
    assert field_error(parse(response), field) == message


def test_bad_utf8_in_a_form_becomes_a_replacement_character_and_a_message(app, landlord_client, person_page):
    """A browser cannot send a lone surrogate: its UTF-8 bytes (ED A0 80) are bad UTF-8, read as U+FFFD."""
    page = parse(landlord_client.get(person_page))
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    body = (f"csrf_token={token}&id_type=resident_id&id_number={factories.resident_id()}&relation=main_tenant"
            "&name=%ED%A0%80").encode()
    response = landlord_client.post(person_page, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert field_error(parse(response), "name") == NAME_CHARS


def test_a_nul_at_sign_in_is_a_plain_refusal(app, db_session):
    client = english(FormClient(app.test_client()))
    response = client.submit("/auth/login", {"phone": "138\x0000", "password": "x\x00"})
    assert response.status_code == 200
    assert "phone number or password is not right" in parse(response).select_one(".error-summary").get_text()
