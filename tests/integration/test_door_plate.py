"""The page behind a door plate's QR code, and a newcomer's way from it to registering the house."""
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from portal.web import qr_data_uri
from tests import factories
from tests.browser import parse

SIGN_UP = {"name": "张三", "phone": "13812345670", "password": "lantern orchard pebble 42",
           "confirm_password": "lantern orchard pebble 42"}
BASE = "https://portal.example.cn"


def test_door_plate_shows_the_address_and_its_qr(client, district):
    address = district.addresses[0]
    page = parse(client.get(f"/a/{address.code}"))
    assert page.h1.get_text(strip=True) == address.text
    assert page.find("img", class_="qr")["src"].startswith("data:image/svg+xml")


def test_typed_codes_redirect_to_the_canonical_page(client, district):
    code = district.addresses[0].code
    response = client.get(f"/a/{code.lower()[:4]}-{code.lower()[4:]}")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/a/{code}")


def test_unknown_code_is_404(client, district):
    assert client.get("/a/0000000000").status_code == 404
    assert client.get("/a/%0a").status_code == 404
    assert client.get("/a/%00%0a").status_code == 400  # a NUL in any address: the request is refused


def test_a_signed_in_landlord_goes_straight_to_registering_the_house(landlord_client, district):
    address = district.addresses[0]
    response = landlord_client.get(f"/a/{address.code}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/landlord/houses/new?address={address.code}"
    assert_registering(landlord_client.get(response.headers["Location"], follow_redirects=True), address)


def assert_registering(response, address):
    """The first page of registering a house, with this address chosen."""
    assert response.status_code == 200
    assert re.fullmatch(r"/landlord/drafts/[^/]+/use", response.request.path), response.request.path
    page = parse(response)
    assert page.find("p", class_="caption").get_text(strip=True) == address.text
    assert page.find("input", attrs={"name": "use"}) is not None


def _offers(client, address) -> tuple[str, str]:
    """The door plate's sign-up and sign-in links for a visitor who is signed out."""
    page = parse(client.get(f"/a/{address.code}"))
    hrefs = [a["href"] for a in page.find_all("a")]
    sign_up = next(h for h in hrefs if h.startswith("/auth/sign-up/landlord"))
    sign_in = next(h for h in hrefs if h.startswith("/auth/login"))
    return sign_up, sign_in


def test_a_newcomer_signs_up_from_the_plate_and_lands_on_registering_that_house(client, district):
    address = district.addresses[0]
    sign_up, _sign_in = _offers(client, address)
    assert parse_qs(urlsplit(sign_up).query)["next"] == [f"/landlord/houses/new?address={address.code}"]
    assert_registering(_sign_up_then_in(client, sign_up), address)


def _sign_up_then_in(client, sign_up: str):
    """Sign up, then sign in on the page sign-up leads to (sign-up never signs in: it would tell that the
    phone was free), which carries the plate on."""
    landed = client.submit(sign_up, {**SIGN_UP, "id_number": factories.resident_id()})
    assert landed.status_code == 302 and urlsplit(landed.headers["Location"]).path == "/auth/login"
    return client.submit(landed.headers["Location"], {"phone": SIGN_UP["phone"], "password": SIGN_UP["password"]},
                         follow=True)


def test_a_landlord_signs_in_from_the_plate_and_lands_on_registering_that_house(client, landlord, district):
    address = district.addresses[1]
    _sign_up, sign_in = _offers(client, address)
    response = client.submit(sign_in, {"phone": landlord.phone, "password": factories.PASSWORD}, follow=True)
    assert_registering(response, address)


def test_the_sign_in_page_passes_the_plate_on_to_sign_up(client, district):
    """Sign in first, find no account, sign up from there: still the house at the plate."""
    address = district.addresses[0]
    _sign_up, sign_in = _offers(client, address)
    sign_up = next(a["href"] for a in parse(client.get(sign_in)).find_all("a")
                   if a["href"].startswith("/auth/sign-up/landlord"))
    back = next(a["href"] for a in parse(client.get(sign_up)).find_all("a") if a["href"].startswith("/auth/login"))
    assert parse_qs(urlsplit(back).query)["next"] == [f"/landlord/houses/new?address={address.code}"]
    assert_registering(_sign_up_then_in(client, sign_up), address)


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)"])
def test_sign_up_follows_only_same_host_paths(client, target):
    response = client.submit(f"/auth/sign-up/landlord?next={quote(target)}",
                             {**SIGN_UP, "id_number": factories.resident_id()})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"


def test_a_landlord_who_registered_the_house_goes_to_it(landlord_client, landlord, db_session, district):
    address = district.addresses[0]
    registered = factories.make_house(db_session, landlord, address)
    response = landlord_client.get(f"/a/{address.code}", follow_redirects=True)
    assert response.request.path == f"/landlord/houses/{registered.house_id}"


def test_a_door_plate_alone_is_shown_and_sign_in_comes_back_to_it(client, landlord, db_session, district):
    door = factories.make_address(db_session, district.beats[0], building="", unit="", room="")
    db_session.commit()
    sign_up, sign_in = _offers(client, door)
    assert parse_qs(urlsplit(sign_in).query)["next"] == [f"/a/{door.code}"]
    response = client.submit(sign_in, {"phone": landlord.phone, "password": factories.PASSWORD})
    assert response.headers["Location"] == f"/a/{door.code}"
    page = parse(client.get(f"/a/{door.code}"))  # signed in now: the page, not a registration
    assert page.h1.get_text(strip=True) == door.text


def test_staff_scanning_a_plate_see_the_page(officer_client, district):
    response = officer_client.get(f"/a/{district.addresses[0].code}")
    assert response.status_code == 200
    assert parse(response).h1.get_text(strip=True) == district.addresses[0].text


@pytest.fixture
def base_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", BASE)
    return BASE


@pytest.mark.parametrize("base", [BASE, "https://gov.example.cn/portal"])
def test_the_qr_link_is_the_configured_base_url_whatever_the_host_header(app, client, district, monkeypatch, base):
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", base)
    code = district.addresses[0].code
    page = parse(client.get(f"/a/{code}", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"}))
    link = page.find("figcaption").get_text(strip=True)
    assert link == f"{base}/a/{code}"
    assert page.find("img", class_="qr")["src"] == qr_data_uri(link)  # the QR code holds exactly that link


def test_the_receipt_qr_link_is_the_configured_base_url(landlord_client, db_session, district, landlord, base_url):
    sub = factories.make_house(db_session, landlord, district.addresses[1])
    page = parse(landlord_client.get(f"/landlord/submissions/{sub.id}/receipt"))
    expected = f"{BASE}/r/{sub.receipt}"
    assert page.find("img", class_="qr")["src"] == qr_data_uri(expected)
