"""Sign-in attempts are rate limited per address, with a translated 429 page; a rate-limit storage that is
down lets requests through."""
import json
import subprocess
import sys
import textwrap

from tests.browser import parse


def test_too_many_sign_in_attempts_get_429(client):
    statuses = [client.submit("/auth/login", {"phone": "13999999999", "password": "wrong password here"}).status_code
                for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    refused = client.submit("/auth/login", {"phone": "13999999999", "password": "wrong password here"})
    assert refused.status_code == 429 and refused.headers["Content-Security-Policy"]
    assert int(refused.headers["Retry-After"]) > 0
    assert parse(refused).h1.get_text(strip=True) == "尝试次数过多"



UNREACHABLE_STORAGE_APP = textwrap.dedent("""
    import json, logging, sys
    from portal import create_app, migrate
    from portal.extensions import db
    from portal.services import audit, tokens
    app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "storage-down-test", "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1", "WTF_CSRF_ENABLED": False})
    migrate.upgrade(db.engine)
    from tests import factories
    with app.app_context():
        owner = factories.make_user(db.session, role="landlord")
        secret = tokens.create(db.session, owner, "t", audit.SYSTEM).secret
        db.session.commit()
    c = app.test_client()
    api = c.get("/api/v1/houses", headers={"Authorization": "Bearer " + secret})
    login = c.post("/auth/login", data={"phone": "13999999999", "password": "wrong password here"})
    print(json.dumps([api.status_code, "X-RateLimit-Remaining" in api.headers, login.status_code]))
""")


def test_an_unreachable_rate_limit_storage_lets_requests_through(tmp_path):
    """Redis down must not take the portal down: requests are served uncounted and the failure is logged
    (sign-in failures are still counted in the database and slowed down). A real Redis client against
    a port where nothing listens; its own process, because the test app runs with rate limits off."""
    from portal import ROOT

    result = subprocess.run([sys.executable, "-c", UNREACHABLE_STORAGE_APP, f"sqlite:///{tmp_path / 'r.sqlite3'}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    api_status, counted, login_status = json.loads(result.stdout.strip().splitlines()[-1])
    assert (api_status, counted, login_status) == (200, False, 200)
    assert "rate-limit storage unavailable" in result.stderr
