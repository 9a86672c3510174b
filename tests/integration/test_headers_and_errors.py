"""Security headers on every response, translated error pages, expired forms, a locked database."""
import pytest
from sqlalchemy import select

from portal.models import User
from tests import factories
from tests.browser import parse


def assert_security_headers(response):
    h = response.headers
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "'unsafe-inline'" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path,status", [("/", 200), ("/auth/login", 200), ("/no-such-page", 404),
                                         ("/static/portal.css", 200)])
def test_headers_on_every_response(client, path, status):
    response = client.get(path)
    response.close()
    assert response.status_code == status
    assert_security_headers(response)


@pytest.mark.parametrize("path,status", [("/api/v1/openapi.json", 200), ("/api/v1/houses", 401),
                                         ("/api/v1/no-such-thing", 404)])
def test_api_answers_carry_the_headers_and_a_csp_that_loads_nothing(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response)
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["Cache-Control"] == "no-store"


def test_authenticated_pages_are_not_cached(landlord_client):
    response = landlord_client.get("/landlord/")
    assert response.headers["Cache-Control"] == "no-store"


def test_404_page_is_translated(client):
    zh = parse(client.get("/no-such-page"))
    en = parse(client.get("/no-such-page", headers={"Accept-Language": "en"}))
    assert zh.h1.get_text() != en.h1.get_text()
    assert en.h1.get_text() == "Page not found"
    assert zh.html["lang"] == "zh-Hans-CN" and en.html["lang"] == "en"


def test_unexpected_error_is_a_translated_500_with_headers(app, client):
    from portal.access import public

    @public
    def boom():
        raise RuntimeError("kaboom 430302199001011238")

    app.view_functions["test_boom"] = boom
    if "test_boom" not in {r.endpoint for r in app.url_map.iter_rules()}:
        app.url_map.add(app.url_rule_class("/boom-test", endpoint="test_boom", methods=["GET"]))
    try:
        response = client.get("/boom-test")
    finally:  # the rule cannot be removed again: it answers harmlessly for the tests after (the access matrix)
        app.view_functions["test_boom"] = public(lambda: "")
    assert response.status_code == 500
    assert_security_headers(response)
    assert "kaboom" not in response.get_data(as_text=True)


def test_too_large_upload_gets_a_friendly_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/auth/login", data=b"x" * (limit + 1), content_type="application/octet-stream")
    assert response.status_code == 413
    assert parse(response).h1.get_text().strip() in ("The file is too large", "文件太大")


def test_expired_form_is_shown_again_with_the_values_kept(client, db_session):
    response = client.post("/auth/sign-up/landlord", data={
        "csrf_token": "expired-or-forged", "name": "王五", "phone": "13812340000",
        "id_number": factories.resident_id(), "password": "secret words here", "confirm_password": "x"})
    assert response.status_code == 400
    page = parse(response)
    kept = {i["name"]: i.get("value") for i in page.select("main form input[type=hidden]")}
    assert kept["name"] == "王五" and kept["phone"] == "13812340000"
    assert "password" not in kept and "confirm_password" not in kept
    assert kept["csrf_token"] != "expired-or-forged"
    assert db_session.scalar(select(User).where(User.phone == "13812340000")) is None


def test_a_locked_database_gives_503_with_the_form_kept(app, client, db_session):
    """SQLite: another writer holds the file lock. PostgreSQL: another transaction holds the table lock.
    Either way the wait outlasts its limit, and the form comes back with what was typed."""
    from portal.extensions import db

    page = parse(client.get("/auth/sign-up/landlord"))
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    blocker = db.engine.raw_connection()
    try:
        if db.is_sqlite:
            db_session.connection().exec_driver_sql("PRAGMA busy_timeout=50")
            blocker.execute("BEGIN IMMEDIATE")
        else:
            db_session.connection().exec_driver_sql("SET lock_timeout = '100ms'")
            blocker.cursor().execute("LOCK TABLE user_account IN EXCLUSIVE MODE")
        response = client.post("/auth/sign-up/landlord", data={
            "csrf_token": token, "name": "赵六", "phone": "13812349999", "id_number": factories.resident_id(),
            "password": "lantern orchard pebble 42", "confirm_password": "lantern orchard pebble 42"})
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503
    kept = {i["name"]: i.get("value") for i in parse(response).select("main form input[type=hidden]")}
    assert kept["name"] == "赵六"
