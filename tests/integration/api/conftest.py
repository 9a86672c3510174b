"""Fixtures for the API: tokens of two landlords, a client that sends a token, a registered house."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.services import audit, tokens
from tests import factories


class ApiClient:
    """The Flask test client with a bearer token and JSON by default; no cookies are ever needed."""

    def __init__(self, client, token: str | None) -> None:
        self.client, self.token = client, token

    def headers(self, extra: dict | None = None) -> dict:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**h, **(extra or {})}

    def get(self, url: str, headers: dict | None = None, **kwargs):
        return self.client.get(url, headers=self.headers(headers), **kwargs)

    def post(self, url: str, json=None, headers: dict | None = None, key: str | None = None, **kwargs):
        h = self.headers(headers)
        if key is not None:
            h["Idempotency-Key"] = key
        if json is not None:
            kwargs["json"] = json
        return self.client.post(url, headers=h, **kwargs)

    def open(self, *args, **kwargs):
        kwargs["headers"] = self.headers(kwargs.get("headers"))
        return self.client.open(*args, **kwargs)


def new_token(session, user, name: str = "test") -> str:
    secret = tokens.create(session, user, name, audit.Actor(user=user)).secret
    session.commit()
    return secret


@pytest.fixture
def token(db_session, landlord) -> str:
    return new_token(db_session, landlord)


@pytest.fixture
def api(app, token) -> ApiClient:
    return ApiClient(app.test_client(), token)


@pytest.fixture
def landlord_b(db_session):
    return factories.make_user(db_session, role="landlord", name="李房东")


@pytest.fixture
def api_b(app, db_session, landlord_b) -> ApiClient:
    return ApiClient(app.test_client(), new_token(db_session, landlord_b, "B"))


@pytest.fixture
def anonymous(app) -> ApiClient:
    return ApiClient(app.test_client(), None)


@pytest.fixture
def house(db_session, district, landlord):
    return factories.make_house(db_session, landlord, district.addresses[0], max_occupants=4).house


def problem(response, status: int) -> dict:
    """The response is a problem of this status, in the RFC 9457 shape; returns its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("urn:portal:problem:")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    return body


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def codes(body: dict) -> set[tuple[str | None, str]]:
    return {(e.get("field"), e["code"]) for e in body["errors"]}


def occupant(**extra) -> dict:
    """One person as the API takes them: the fields of the web form, exactly (factories.occupant refuses
    any other)."""
    return factories.occupant(**extra)
