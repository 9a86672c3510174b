"""Weak passwords are refused at sign-up and at a password change, each reason with its own message at the
field; the names of the jurisdiction's places come from the database."""
import pytest

from tests import factories
from tests.browser import parse
from tests.factories import english


def password_error(response, field: str) -> str:
    error = parse(response).find(id=f"{field}-error")
    return error.get_text(" ", strip=True) if error is not None else ""


@pytest.mark.parametrize(("password", "reason"), [
    ("demo-password-2026", "the name of this portal, of the police or of the demo"),
    ("Summer2026!!", "a season with numbers or symbols added"),
    ("Xiangtan2026!", "the name of a place around here"),
    ("yuhu-police-2026", "the name of this portal, of the police or of the demo"),
    ("Yuhu-river-lantern-9", "the name of a place around here"),
    ("韶山 river lantern 9", "the name of a place around here"),
])
def test_sign_up_refuses_weak_passwords_and_says_why(client, db_session, district, password, reason):
    english(client)
    response = client.submit("/auth/sign-up/landlord", {
        "name": "张三", "phone": "13812345670", "id_number": factories.resident_id(), "password": password,
        "confirm_password": password})
    assert response.status_code == 200
    assert reason in password_error(response, "password")


def test_the_users_own_name_in_pinyin_is_refused_at_a_password_change(landlord_client, db_session, landlord):
    english(landlord_client)
    new = "ceshiyonghu-river-lantern"  # 测试用户, the landlord's name
    response = landlord_client.submit("/auth/change-password", {
        "current_password": factories.PASSWORD, "new_password": new, "confirm_password": new})
    assert response.status_code == 200
    assert "your phone number, ID number or name" in password_error(response, "new_password")


def test_a_road_added_to_the_register_is_refused_at_once(db_session, district):
    from portal.services import passwords

    assert "liancheng" not in passwords.place_words(db_session)  # and now kept for this process
    factories.make_address(db_session, district.beats[0], road="莲城大道", door_no="1号")
    db_session.commit()
    assert {"莲城", "liancheng"} <= set(passwords.place_words(db_session))
