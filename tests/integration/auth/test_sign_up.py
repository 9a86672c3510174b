"""Landlords and employers sign themselves up; bad input is answered at the field, values kept."""
from sqlalchemy import func, select

from portal.models import AuditEvent, User
from portal.services import passwords
from tests import factories
from tests.browser import FormClient, parse

GOOD = {"name": "张三", "phone": "13812345678", "password": "lantern orchard pebble 42",
        "confirm_password": "lantern orchard pebble 42"}


def answer(client, role: str, data: dict) -> tuple:
    """What the outside sees of a sign-up: status, where it leads, and the page shown there."""
    response = client.submit(f"/auth/sign-up/{role}", data)
    page = parse(client.get(response.headers["Location"])) if response.status_code == 302 else parse(response)
    return (response.status_code, response.headers.get("Location"), [n.get_text(" ", strip=True)
            for n in page.select(".notice, .error-summary li, .error-message")])


def test_landlord_signs_up_then_signs_in(client, db_session):
    id_number = factories.resident_id()
    response = client.submit("/auth/sign-up/landlord", {**GOOD, "id_number": id_number})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    user = db_session.scalar(select(User).where(User.phone == "13812345678"))
    assert user.role == "landlord" and user.id_number == id_number
    assert user.password_hash.startswith("$argon2id$")
    assert client.sign_in(GOOD["phone"], GOOD["password"]).headers["Location"].endswith("/landlord/")
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


def test_sign_up_never_tells_that_a_phone_has_an_account(app, db_session, landlord, officer):
    free = answer(FormClient(app.test_client()), "landlord", {**GOOD, "id_number": factories.resident_id()})
    assert free[0] == 302 and free[2]
    for phone in (landlord.phone, officer.phone):
        taken = answer(FormClient(app.test_client()), "landlord", {**GOOD, "phone": phone,
                                                                    "id_number": factories.resident_id()})
        assert taken == free
        assert db_session.scalar(select(func.count()).select_from(User).where(User.phone == phone)) == 1
    # With a bad ID number, the same errors as for a phone without an account: the ID number's only.
    bad_id = {**GOOD, "id_number": "430302199001011230"}
    assert answer(FormClient(app.test_client()), "employer", {**bad_id, "phone": "13812349876"}) == \
        answer(FormClient(app.test_client()), "employer", {**bad_id, "phone": officer.phone})
    db_session.refresh(officer)
    assert officer.name != GOOD["name"] and passwords.verify_password(officer.password_hash, factories.PASSWORD)


def test_staff_roles_cannot_sign_themselves_up(client):
    assert client.get("/auth/sign-up/officer").status_code == 404
    assert client.get("/auth/sign-up/admin").status_code == 404


def test_every_error_is_shown_on_the_first_submit(client, db_session):
    """An empty name (the form's check) and a bad phone, ID number and password (the service's): all at once."""
    response = client.submit("/auth/sign-up/landlord", {
        "name": "", "phone": "12345", "id_number": "430302199001011230", "password": "short",
        "confirm_password": "short"})
    page = parse(response)
    errors = {p.find_parent(class_="field").find("input")["name"] for p in page.select(".error-message")}
    assert errors == {"name", "phone", "id_number", "password"}
    assert db_session.scalar(select(func.count()).select_from(User)) == 0  # nothing was created


def test_an_id_number_with_spaces_or_hyphens_is_accepted(client, db_session):
    number = factories.resident_id("19880808")
    status, location, _ = answer(client, "landlord", {
        **GOOD, "phone": "13812340001", "id_number": f"{number[:6]} {number[6:14]}-{number[14:]}"})
    assert status == 302 and location.startswith("/auth/login")
    assert db_session.scalar(select(User).where(User.phone == "13812340001")).id_number == number
