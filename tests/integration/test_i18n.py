"""Chinese by default; the choice of language is kept per user and per visitor, and sets <html lang>."""
from sqlalchemy import select

from portal.models import User
from tests.browser import parse


def test_chinese_is_the_default(client):
    page = parse(client.get("/auth/login"))
    assert page.html["lang"] == "zh-Hans-CN"
    assert page.h1.get_text(strip=True) == "登录"


def test_accept_language_english(client):
    page = parse(client.get("/auth/login", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert page.html["lang"] == "en" and page.h1.get_text(strip=True) == "Sign in"


def test_visitor_switch_is_kept_in_a_cookie(client):
    page = parse(client.get("/auth/login"))
    form = page.find("form", class_="language-switch")
    token = form.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/auth/login"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    assert client.get_cookie("lang").value == "en"
    page = parse(client.get("/auth/login", headers={"Accept-Language": "zh-CN"}))
    assert page.html["lang"] == "en" and page.h1.get_text(strip=True) == "Sign in"


def test_signed_in_users_keep_their_language(landlord_client, landlord, db_session):
    page = parse(landlord_client.get("/landlord/"))
    token = page.find("form", class_="language-switch").find("input", attrs={"name": "csrf_token"})["value"]
    landlord_client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/landlord/"})
    assert db_session.scalar(select(User.locale).where(User.id == landlord.id)) == "en"
    assert parse(landlord_client.get("/landlord/")).html["lang"] == "en"


def test_unknown_language_is_ignored(client):
    page = parse(client.get("/auth/login"))
    token = page.find("form", class_="language-switch").find("input", attrs={"name": "csrf_token"})["value"]
    client.post("/language", data={"csrf_token": token, "lang": "xx", "next": "//evil.example"})
    assert parse(client.get("/auth/login")).html["lang"] == "zh-Hans-CN"
