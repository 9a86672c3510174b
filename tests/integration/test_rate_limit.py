"""Sign-in attempts are rate limited per address, with a translated 429 page."""
from tests.browser import parse


def test_too_many_sign_in_attempts_get_429(client):
    statuses = [client.submit("/auth/login", {"phone": "13999999999", "password": "wrong password here"}).status_code
                for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    refused = client.submit("/auth/login", {"phone": "13999999999", "password": "wrong password here"})
    assert refused.status_code == 429 and refused.headers["Content-Security-Policy"]
    assert int(refused.headers["Retry-After"]) > 0
    assert parse(refused).h1.get_text(strip=True) == "尝试次数过多"


def test_a_failing_rate_limit_storage_lets_requests_through(app, client, db_session, landlord, monkeypatch, caplog):
    """Redis down must not take the portal down: the request is served uncounted and the failure logged
    (sign-in failures are still counted in the database and lock the account)."""
    from limits.errors import StorageError

    from portal.extensions import limiter
    from portal.services import audit, tokens

    def unavailable(*_args, **_kwargs):
        raise StorageError(ConnectionError("rate-limit storage unreachable"))

    secret = tokens.create(db_session, landlord, "t", audit.Actor(user=landlord)).secret
    monkeypatch.setattr(limiter.storage, "incr", unavailable)
    monkeypatch.setattr(limiter.storage, "get", unavailable)
    answer = app.test_client().get("/api/v1/houses", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200 and "X-RateLimit-Remaining" not in answer.headers
    assert "rate-limit storage unavailable" in caplog.text
    page = client.submit("/auth/login", {"phone": "13999999999", "password": "wrong password here"})
    assert page.status_code == 200
