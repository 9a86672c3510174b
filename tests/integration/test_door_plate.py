"""The page behind a door plate's QR code."""
import pytest

from portal.web import qr_data_uri
from tests import factories
from tests.browser import parse

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


def test_landlord_is_offered_registration(landlord_client, district):
    page = parse(landlord_client.get(f"/a/{district.addresses[0].code}"))
    link = page.find("a", href=f"/landlord/houses/new?address={district.addresses[0].code}")
    assert link is not None


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
