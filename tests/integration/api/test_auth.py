"""Bearer tokens: hashed at rest, acting only as their owner, refused when revoked or not a reporter's;
no session cookie, no CSRF and no Set-Cookie under /api/."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from portal.models import ApiToken, AuditEvent, Role
from portal.services import audit, tokens
from portal.services.errors import ValidationFailed
from tests import factories
from tests.integration.api.conftest import ApiClient, new_token, problem


def test_no_token_is_401_with_a_challenge(anonymous):
    response = anonymous.get("/api/v1/houses")
    problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ptk_nonsense",
        "Basic dXNlcjpwYXNz",
        "ptk_x",
        "Bearer ptk_" + "é" * 10,
        "Bearer " + "ptk_" + "a" * 5000,
    ],
)
def test_bad_tokens_are_401(app, header):
    response = app.test_client().get("/api/v1/houses", headers={"Authorization": header})
    problem(response, 401)


def test_token_is_stored_only_as_its_sha256(db_session, landlord):
    new = tokens.create(db_session, landlord, "物业系统", audit.Actor(user=landlord))
    assert new.secret.startswith("ptk_") and len(new.secret) == 4 + 43  # 32 random bytes, base64url
    row = db_session.scalar(select(ApiToken).where(ApiToken.id == new.token.id))
    assert row.token_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret not in (row.token_hash, row.prefix, row.name) and new.secret.startswith(row.prefix)
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "api_token.create", AuditEvent.actor_id == landlord.id)
        )
        == 1
    )


def test_a_token_acts_as_its_owner(api, house):
    response = api.get("/api/v1/houses")
    assert response.status_code == 200
    assert [h["id"] for h in response.get_json()] == [house.id]


def test_revoked_token_is_401(api, db_session, landlord, house):
    assert api.get("/api/v1/houses").status_code == 200
    token = tokens.tokens_of(db_session, landlord)[0]
    tokens.revoke(db_session, landlord, token.id, audit.Actor(user=landlord))
    db_session.commit()  # as the token page does: the revocation stands before the next request
    problem(api.get("/api/v1/houses"), 401)
    problem(api.post("/api/v1/houses", json={}), 401)


@pytest.mark.parametrize("role", ["officer", "admin", "auditor"])
def test_staff_cannot_have_tokens(db_session, district, role):
    user = factories.make_user(
        db_session, role=role, station=district.stations[0] if role == "officer" else None
    )
    with pytest.raises(ValidationFailed) as failure:
        tokens.create(db_session, user, "x", audit.Actor(user=user))
    assert failure.value.errors[0].code == "role_not_allowed"
    assert tokens.tokens_of(db_session, user) == []


def test_a_token_of_an_account_that_became_staff_or_was_disabled_is_refused(
    app, db_session, district, landlord
):
    client = ApiClient(app.test_client(), new_token(db_session, landlord))
    assert client.get("/api/v1/houses").status_code == 200
    landlord.role, landlord.station_id = Role.officer, district.stations[0].id
    db_session.commit()
    problem(client.get("/api/v1/houses"), 401)
    landlord.role, landlord.station_id, landlord.active = Role.landlord, None, False
    db_session.commit()
    problem(client.get("/api/v1/houses"), 401)
    landlord.active = True
    db_session.commit()
    assert client.get("/api/v1/houses").status_code == 200


def test_employer_tokens_work(app, db_session):
    employer = factories.make_user(db_session, role="employer")
    client = ApiClient(app.test_client(), new_token(db_session, employer))
    assert client.get("/api/v1/submissions").get_json() == {"items": [], "next_cursor": None}


def test_a_session_cookie_is_not_an_api_credential(landlord_client, house):
    """A signed-in browser gets 401 from the API: the cookie is not even read there, nor refreshed."""
    response = landlord_client.get("/api/v1/houses")
    problem(response, 401)
    assert "Set-Cookie" not in response.headers
    assert landlord_client.get("/landlord/").status_code == 200  # the web session itself is untouched


def test_api_responses_never_set_cookies_and_are_not_cached(api, house):
    for response in (api.get("/api/v1/houses"), api.get("/api/v1/nope"), api.post("/api/v1/houses", json={})):
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_csrf_token_is_needed(api, district):
    """CSRF protection is for cookies; a bearer token cannot be sent by another site's form."""
    response = api.post(
        "/api/v1/houses",
        json={"address_code": district.addresses[0].code, "use": "vacant", "max_occupants": 0},
    )
    assert response.status_code == 201


def test_last_used_is_recorded_at_most_once_a_minute(api, db_session, landlord, house):
    token = tokens.tokens_of(db_session, landlord)[0]
    assert token.last_used_at is None
    api.get("/api/v1/houses")
    db_session.expire_all()
    first = tokens.tokens_of(db_session, landlord)[0].last_used_at
    assert first is not None
    api.get("/api/v1/houses")
    db_session.expire_all()
    assert tokens.tokens_of(db_session, landlord)[0].last_used_at == first


def test_revoking_is_scoped_to_the_owner(db_session, landlord, landlord_b):
    mine = tokens.create(db_session, landlord, "mine", audit.Actor(user=landlord)).token
    from portal.services.errors import NotFound

    with pytest.raises(NotFound):
        tokens.revoke(db_session, landlord_b, mine.id, audit.Actor(user=landlord_b))
    assert tokens.token_of(db_session, landlord, mine.id).revoked_at is None
