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
