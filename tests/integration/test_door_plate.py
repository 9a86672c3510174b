"""The page behind a door plate's QR code."""
from tests.browser import parse


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
    assert client.get("/a/%00%0a").status_code == 404


def test_landlord_is_offered_registration(landlord_client, district):
    page = parse(landlord_client.get(f"/a/{district.addresses[0].code}"))
    link = page.find("a", href=f"/landlord/houses/new?address={district.addresses[0].code}")
    assert link is not None
