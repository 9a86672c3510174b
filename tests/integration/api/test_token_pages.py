"""Tokens in account settings: created with a name and shown once, listed by prefix, revoked by their owner
only; and `flask tokens create`."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from portal.models import ApiToken
from portal.services import audit, tokens
from portal.services.errors import StateConflict
from tests import factories
from tests.browser import parse
from tests.factories import english, field_error, text_of
from tests.integration.api.conftest import ApiClient, problem


def test_create_use_and_revoke_a_token(app, landlord_client, db_session, landlord, house):
    c = english(landlord_client)
    page = parse(c.get("/account/tokens"))
    assert page.h1.get_text(strip=True) == "API tokens"
    response = c.submit("/account/tokens", {"name": "  物业管理系统  "})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    shown = parse(response).find(id="api-token").get_text(strip=True)
    row = db_session.scalar(select(ApiToken).where(ApiToken.user_id == landlord.id))
    assert row.name == "物业管理系统" and row.token_hash == hashlib.sha256(shown.encode()).hexdigest()

    client = ApiClient(app.test_client(), shown)
    assert client.get("/api/v1/houses").status_code == 200

    listing = parse(c.get("/account/tokens"))
    assert shown not in str(listing) and row.prefix in text_of(listing.find("table"))
    response = c.submit("/account/tokens", {}, form_index=0)  # the revoke button of the one token
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/tokens")
    problem(client.get("/api/v1/houses"), 401)
    assert "Revoked" in text_of(parse(c.get("/account/tokens")).find("table"))


def test_the_name_is_required(landlord_client, db_session, landlord):
    page = parse(english(landlord_client).submit("/account/tokens", {"name": " "}))
    assert field_error(page, "name") and page.find(id="api-token") is None
    assert tokens.tokens_of(db_session, landlord) == []


def test_another_owners_token_cannot_be_revoked(app, landlord_client, db_session):
    other = factories.make_user(db_session, role="landlord")
    theirs = tokens.create(db_session, other, "theirs", audit.SYSTEM).token
    db_session.commit()
    page = parse(landlord_client.get("/account/tokens"))
    token = page.find("input", attrs={"name": "csrf_token"})["value"]
    response = landlord_client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    db_session.expire_all()
    assert tokens.token_of(db_session, other, theirs.id).revoked_at is None


def test_revoking_needs_the_csrf_token(landlord_client, db_session, landlord):
    mine = tokens.create(db_session, landlord, "mine", audit.SYSTEM).token
    db_session.commit()
    assert landlord_client.post(f"/account/tokens/{mine.id}/revoke").status_code == 400
    assert tokens.token_of(db_session, landlord, mine.id).revoked_at is None


def test_officers_get_no_tokens(officer_client, db_session, officer):
    page = parse(english(officer_client).get("/account/tokens"))
    assert "landlord and employer accounts" in text_of(page.find("main"))
    assert page.find("input", attrs={"name": "name"}) is None
    token = parse(officer_client.get("/account/tokens")).find("input", attrs={"name": "csrf_token"})["value"]
    response = officer_client.post("/account/tokens", data={"csrf_token": token, "name": "x"})
    assert response.status_code == 200 and tokens.tokens_of(db_session, officer) == []


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_cli_prints_the_token_once(app, db_session, landlord):
    result = app.test_cli_runner().invoke(
        args=["tokens", "create", "--phone", landlord.phone, "--name", "ERP"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("ptk_")
    row = db_session.scalar(select(ApiToken).where(ApiToken.user_id == landlord.id))
    assert row.name == "ERP" and row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert ApiClient(app.test_client(), secret).get("/api/v1/houses").status_code == 200


def test_cli_refuses_staff_and_unknown_phones(app, db_session, officer):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["tokens", "create", "--phone", officer.phone])
    assert refused.exit_code == 1 and "role_not_allowed" in refused.output
    assert runner.invoke(args=["tokens", "create", "--phone", "19999999999"]).exit_code == 1
    assert tokens.tokens_of(db_session, officer) == []


def test_an_account_has_at_most_five_active_tokens(landlord_client, db_session, landlord):
    made = [tokens.create(db_session, landlord, f"system {n}", audit.SYSTEM).token for n in range(5)]
    db_session.commit()
    response = english(landlord_client).submit("/account/tokens", {"name": "one too many"})
    page = parse(response)
    assert response.status_code == 200 and page.find(id="api-token") is None
    assert "the most it may have" in field_error(page, "name")
    with pytest.raises(StateConflict) as refused:  # a 409 wherever the API or the CLI asks
        tokens.create(db_session, landlord, "and another", audit.SYSTEM)
    assert [e.code for e in refused.value.errors] == ["too_many_tokens"]
    assert db_session.scalar(select(func.count()).select_from(ApiToken)
                             .where(ApiToken.user_id == landlord.id)) == 5
    tokens.revoke(db_session, landlord, made[0].id, audit.SYSTEM)  # a revoked token leaves room for one
    db_session.commit()
    response = landlord_client.submit("/account/tokens", {"name": "replacement"})
    assert parse(response).find(id="api-token") is not None


def test_tokens_create_on_the_command_line_stops_at_the_cap(app, db_session, landlord):
    for n in range(5):
        tokens.create(db_session, landlord, f"system {n}", audit.SYSTEM)
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--phone", landlord.phone])
    assert result.exit_code == 1 and "too_many_tokens" in result.output
