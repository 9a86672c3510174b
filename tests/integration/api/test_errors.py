"""Every error under /api/ is application/problem+json with the status that means it; the HTML error pages
elsewhere stay as they are; messages follow Accept-Language (Chinese by default)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError

from portal.api.problems import KINDS
from portal.models import Submission
from portal.services import reporting
from tests.browser import parse
from tests.integration.api.conftest import codes, count, occupant, problem


def test_400_malformed_json(api, house):
    for raw in (b"{", b"{'a': 1}", b"\xff\xfe", b"", b"[1,]"):
        body = problem(api.post("/api/v1/houses", data=raw, content_type="application/json"), 400)
        assert body["type"] == "urn:portal:problem:malformed_json"


def test_400_malformed_idempotency_key(api, house):
    body = problem(api.post("/api/v1/houses", json={}, key="x" * 201), 400)
    assert codes(body) == {("Idempotency-Key", "invalid_idempotency_key")}
    problem(api.post("/api/v1/houses", json={}, headers={"Idempotency-Key": ""}), 400)


def test_401(anonymous):
    body = problem(anonymous.post("/api/v1/houses", json={}), 401)
    assert body["type"] == "urn:portal:problem:unauthorized"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing",
        "/api/v1/houses/abc/move-ins",
        "/api/v2/houses",
        "/api",
        "/api/",
        "/api/v1/submissions/0",
    ],
)
def test_404_for_unknown_api_paths(api, path):
    problem(api.get(path), 404)


def test_405_lists_the_allowed_methods(api):
    response = api.open("/api/v1/houses", method="DELETE")
    problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    problem(api.get("/api/v1/tenancies/1/move-out"), 405)


def test_409_when_what_is_recorded_stands_in_the_way(api, db_session, house):
    """Well formed, but a conflict with the current state: 409 with the error at its field, nothing saved.
    (The other 409, a duplicate while the first request with its key runs, is in test_idempotency.)"""
    moved_in = api.post(f"/api/v1/houses/{house.id}/move-ins",
                        json={"move_in_date": reporting.local_today().isoformat(), "occupants": [occupant()]})
    tenancy_id = moved_in.get_json()["tenancy_ids"][0]
    url, payload = f"/api/v1/tenancies/{tenancy_id}/move-out", {"move_out_date": reporting.local_today().isoformat()}
    assert api.post(url, json=payload).status_code == 201
    before = count(db_session, Submission)
    body = problem(api.post(url, json=payload, key="second-move-out"), 409)
    assert body["type"] == "urn:portal:problem:conflict"
    assert codes(body) == {("move_out_date", "already_reported")}
    assert count(db_session, Submission) == before
    again = api.post(url, json=payload, key="second-move-out")  # refused, so not stored: it runs again
    assert "Idempotent-Replayed" not in again.headers and codes(problem(again, 409)) == codes(body)


def test_413_too_large(app, api, house):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = api.post("/api/v1/houses", data=b" " * (limit + 1), content_type="application/json")
    problem(response, 413)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml", None],
)
def test_415_wrong_content_type(api, house, content_type):
    kwargs = {"data": b'{"move_out_date": "2026-01-01"}'}
    if content_type:
        kwargs["content_type"] = content_type
    problem(api.post("/api/v1/houses", **kwargs), 415)


def test_json_with_a_charset_or_a_json_suffix_is_accepted(api, district):
    data = json.dumps({"address_code": district.addresses[0].code, "use": "vacant", "max_occupants": 0})
    response = api.post("/api/v1/houses", data=data, content_type="application/json; charset=utf-8")
    assert response.status_code == 201


def test_422_lists_every_error(api, house):
    body = problem(
        api.post(
            f"/api/v1/houses/{house.id}/move-ins",
            json={
                "move_in_date": "soon",
                "occupants": [{"id_type": "resident_id", "id_number": "1", "name": "x1"}],
            },
        ),
        422,
    )
    assert body["type"] == "urn:portal:problem:validation_failed"
    assert {e["field"] for e in body["errors"]} == {
        "move_in_date",
        "occupants.0.id_number",
        "occupants.0.name",
    }
    assert all(set(e) == {"field", "code", "message"} for e in body["errors"])


NOT_TEXT = ["\ud800", "\udfff", "张\ud83d三", "a\x00b"]


@pytest.mark.parametrize("bad", NOT_TEXT)
@pytest.mark.parametrize("key", [None, "text-check-1"])
def test_a_string_that_is_not_text_is_a_422_naming_its_field(api, db_session, house, bad, key):
    """A lone surrogate (JSON's \\ud800 escape) or a NUL anywhere in a body: 422 at that field, on every
    route and whether or not the request has an Idempotency-Key; nothing is written."""
    before = count(db_session, Submission)
    cases = [
        (f"/api/v1/houses/{house.id}/move-ins", {"move_in_date": reporting.local_today().isoformat(),
                                                  "occupants": [occupant(name=bad)]}, "occupants.0.name"),
        (f"/api/v1/houses/{house.id}/move-ins", {"move_in_date": bad, "occupants": [occupant()]},
         "move_in_date"),
        ("/api/v1/houses", {"address_code": bad, "use": "whole_rental", "max_occupants": 2}, "address_code"),
        ("/api/v1/houses", {"address_code": "X", "use": "whole_rental", "max_occupants": 2, "certificate_no": bad},
         "certificate_no"),
    ]
    for n, (url, body, field) in enumerate(cases):
        raw = json.dumps(body)  # ASCII, with the character escaped as JSON allows
        sent = api.post(url, data=raw, content_type="application/json", key=key and f"{key}-{n}")
        assert ("invalid_text" in {c for _f, c in codes(problem(sent, 422))}), sent.get_json()
        assert (field, "invalid_text") in codes(sent.get_json())
    assert count(db_session, Submission) == before


@pytest.mark.parametrize("key", [None, "text-check-2"])
def test_a_member_name_that_is_not_text_is_named_escaped(api, house, key):
    raw = json.dumps({"address_code": "X", "use": "whole_rental", "max_occupants": 2, "x\ud800\x00": 1})
    body = problem(api.post("/api/v1/houses", data=raw, content_type="application/json", key=key), 422)
    assert codes(body) == {("x\\ud800\\x00", "invalid_text")}


def test_500_is_a_problem_and_tells_nothing(api, house, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("secret detail 430302199001011238")

    monkeypatch.setattr(reporting, "houses_of", boom)
    response = api.get("/api/v1/houses")
    problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)


def test_503_when_the_database_is_locked(api, house, monkeypatch):
    def locked(*_a, **_k):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(reporting, "report_move_in", locked)
    response = api.post(
        f"/api/v1/houses/{house.id}/move-ins", json={"move_in_date": "2026-01-01", "occupants": [occupant()]}
    )
    problem(response, 503)
    assert response.headers["Retry-After"] == "1"


def test_html_error_pages_elsewhere_are_unchanged(client, landlord_client):
    for response in (
        client.get("/no-such-page"),
        landlord_client.open("/landlord/", method="DELETE"),
        client.get("/apiary"),
    ):
        assert response.mimetype == "text/html"
        assert parse(response).h1 is not None


def test_messages_follow_accept_language(app, api, house):
    def first_error(lang):
        headers = {"Accept-Language": lang} if lang else {}
        r = api.post(
            f"/api/v1/houses/{house.id}/move-ins",
            headers=headers,
            json={"move_in_date": "2026-02-30", "occupants": [occupant()]},
        )
        return problem(r, 422), r.headers["Content-Language"]

    def in_locale(locale, message):
        with app.test_request_context(), force_locale(locale):
            return str(message)

    en, en_lang = first_error("en-GB,en;q=0.9")
    zh, zh_lang = first_error(None)
    assert (en_lang, zh_lang) == ("en", "zh-Hans-CN")
    assert en["errors"][0]["message"] == "Enter a real date, like 2026-03-05."
    # Whatever the catalog holds today: exactly what the zh catalog says, for the problem and the errors.
    assert zh["errors"][0]["message"] == in_locale("zh_Hans_CN", _l("Enter a real date, like 2026-03-05."))
    assert zh["title"] == in_locale("zh_Hans_CN", KINDS["validation_failed"][1])
    assert en["title"] == "The request has errors"
    assert zh["errors"][0]["code"] == en["errors"][0]["code"] == "invalid_date"


RATE_LIMITED_APP = textwrap.dedent("""
    import json, sys
    from portal import create_app, migrate
    from portal.extensions import db
    from portal.services import audit, tokens
    app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "rate-limit-test", "RATELIMIT_ENABLED": True,
                      "API_RATE_LIMIT": "3 per minute"})
    migrate.upgrade(db.engine)
    from tests import factories
    with app.app_context():
        a = factories.make_user(db.session, role="landlord")
        b = factories.make_user(db.session, role="landlord")
        secrets = [tokens.create(db.session, u, "t", audit.SYSTEM).secret for u in (a, b)]
        db.session.commit()
    c = app.test_client()
    out = []
    for secret in [secrets[0]] * 4 + [secrets[1]]:
        r = c.get("/api/v1/houses", headers={"Authorization": "Bearer " + secret})
        out.append([r.status_code, r.mimetype, r.headers.get("Retry-After"), r.get_json(force=True),
                    {k: v for k, v in r.headers.items() if k.startswith("X-RateLimit-")}])
    print(json.dumps(out))
""")


def test_429_per_token(tmp_path):
    """Rate limits are per token: the fourth request of one token in a minute is refused, another token's is
    not. Its own process, because the test app runs with rate limits off."""
    from portal import ROOT

    db_url = f"sqlite:///{tmp_path / 'rate.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-c", RATE_LIMITED_APP, db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert [o[0] for o in out] == [200, 200, 200, 429, 200]
    status, mimetype, retry_after, body, _ = out[3]
    assert mimetype == "application/problem+json" and 0 < int(retry_after) <= 60
    assert body["type"] == "urn:portal:problem:too_many_requests" and body["status"] == 429
    # Every answer to a token says where its window stands; the other token's window is its own.
    assert [o[4]["X-RateLimit-Remaining"] for o in out] == ["2", "1", "0", "0", "2"]
    assert {o[4]["X-RateLimit-Limit"] for o in out} == {"3"}
    reset = int(out[0][4]["X-RateLimit-Reset"])
    assert all(int(o[4]["X-RateLimit-Reset"]) == reset for o in out[:4]) and reset > time.time()


ACCOUNT_LIMITED_APP = textwrap.dedent("""
    import json, sys
    from portal import create_app, migrate
    from portal.extensions import db
    from portal.services import audit, tokens
    app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "rate-limit-test", "RATELIMIT_ENABLED": True,
                      "API_RATE_LIMIT": "3 per minute", "API_ACCOUNT_RATE_LIMIT": "4 per minute"})
    migrate.upgrade(db.engine)
    from tests import factories
    with app.app_context():
        a = factories.make_user(db.session, role="landlord")
        b = factories.make_user(db.session, role="landlord")
        first, second, other = [tokens.create(db.session, u, "t", audit.SYSTEM).secret for u in (a, a, b)]
        db.session.commit()
    c = app.test_client()
    out = []
    for secret in [first] * 3 + [second] * 2 + [other]:
        r = c.get("/api/v1/houses", headers={"Authorization": "Bearer " + secret})
        out.append([r.status_code, r.headers.get("Retry-After"),
                    {k: v for k, v in r.headers.items() if k.startswith("X-RateLimit-")}])
    print(json.dumps(out))
""")


def test_429_per_account_whatever_the_number_of_tokens(tmp_path):
    """A second token of the same account does not double its requests: the account's limit counts all its
    tokens together, and the headers tell the window nearer its end. Another account is not affected."""
    from portal import ROOT

    result = subprocess.run([sys.executable, "-c", ACCOUNT_LIMITED_APP, f"sqlite:///{tmp_path / 'acct.sqlite3'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert [o[0] for o in out] == [200, 200, 200, 200, 429, 200]
    assert 0 < int(out[4][1]) <= 60
    assert [(o[2]["X-RateLimit-Limit"], o[2]["X-RateLimit-Remaining"]) for o in out] == [
        ("3", "2"), ("3", "1"), ("3", "0"), ("4", "0"), ("4", "0"), ("3", "2")]
