"""Landlords and employers sign themselves up; bad input is answered at the field, values kept."""
from sqlalchemy import select

from portal.models import AuditEvent, User
from tests import factories
from tests.browser import parse

GOOD = {"name": "张三", "phone": "13812345678", "password": "lantern orchard pebble 42",
        "confirm_password": "lantern orchard pebble 42"}


def test_landlord_signs_up_and_is_signed_in(client, db_session):
    id_number = factories.resident_id()
    response = client.submit("/auth/sign-up/landlord", {**GOOD, "id_number": id_number})
    assert response.status_code == 302 and response.headers["Location"].endswith("/landlord/")
    user = db_session.scalar(select(User).where(User.phone == "13812345678"))
    assert user.role == "landlord" and user.id_number == id_number
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/landlord/").status_code == 200
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "account.create",
                                                      AuditEvent.actor_id == user.id))


def test_bad_input_is_shown_at_each_field_and_values_are_kept(client, db_session):
    response = client.submit("/auth/sign-up/employer", {
        "name": "张三", "phone": "12345", "id_number": "430302199001011230", "password": "short",
        "confirm_password": "short"})
    assert response.status_code == 200
    page = parse(response)
    assert page.title.string.startswith("错误") or page.title.string.startswith("Error")
    errors = {p.find_parent(class_="field").find("input")["name"] for p in page.select(".error-message")}
    assert errors == {"phone", "id_number", "password"}
    assert page.find("input", attrs={"name": "name"})["value"] == "张三"
    assert page.find("input", attrs={"name": "phone"})["value"] == "12345"
    summary_links = [a["href"] for a in page.select(".error-summary a")]
    assert summary_links == ["#phone", "#id_number", "#password"]
    assert db_session.scalar(select(User).where(User.name == "张三")) is None


def test_taken_phone_is_refused(client, db_session, landlord):
    response = client.submit("/auth/sign-up/landlord", {**GOOD, "phone": landlord.phone,
                                                         "id_number": factories.resident_id()})
    page = parse(response)
    assert page.find(id="phone-error") is not None


def test_staff_roles_cannot_sign_themselves_up(client):
    assert client.get("/auth/sign-up/officer").status_code == 404
    assert client.get("/auth/sign-up/admin").status_code == 404
