"""Secrets sealed in the database (fieldcrypt.py): staff's TOTP secrets are ciphertext in the files and the
dump, open only in their own row, and migration 0016 seals the plaintext ones there were."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from portal import fieldcrypt, migrate
from portal.extensions import db
from portal.models import DataKey, Role, User
from portal.services import auth, keys
from tests import factories
from tests.integration.conftest import raw_bytes

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _officer(s: Session, phone: str) -> User:
    user = User(role=Role.officer, phone=phone, name="民警", password_hash="x", station_id=1)
    s.add(user)
    return user


def _station(engine) -> None:
    with engine.begin() as conn:  # an officer needs a station
        conn.execute(text("INSERT INTO bureau (code, name) VALUES ('B1', '分局')"))
        conn.execute(text("INSERT INTO station (code, name, bureau_id) VALUES ('S1', '派出所', 1)"))


@pytest.fixture
def own(app, empty_database, fresh_keyring):
    """The app, with a key ring of its own, over a database of its own, migrated; db.session bound to it."""
    with app.app_context():
        migrate.upgrade(empty_database)
        _station(empty_database)
        db.session.remove()
        db.session.configure(bind=empty_database)
        try:
            yield empty_database
        finally:
            db.session.remove()
            db.session.configure(bind=db.engine)


def test_a_secret_is_ciphertext_at_rest_and_opens_in_its_row(own):
    with Session(own) as s:
        user = _officer(s, "13900009001")
        user.totp_secret = SECRET
        s.commit()
        user_id = user.id
    with Session(own) as s:
        assert s.get(User, user_id).totp_secret == SECRET
        stored = s.scalar(select(User.totp_secret_sealed).where(User.id == user_id))
    assert SECRET.encode() not in stored
    assert SECRET.encode() not in raw_bytes(own)


def test_a_secret_copied_into_another_account_does_not_open(own):
    with Session(own) as s:
        mine, theirs = _officer(s, "13900009002"), _officer(s, "13900009003")
        mine.totp_secret, theirs.totp_secret = SECRET, auth.new_totp_secret()
        s.flush()
        s.execute(update(User).where(User.id == theirs.id).values(totp_secret_sealed=mine.totp_secret_sealed))
        s.expire(theirs)
        with pytest.raises(fieldcrypt.Tampered):
            theirs.totp_secret  # noqa: B018 - the read is the test


def test_a_value_under_a_key_that_is_gone_names_the_key(own):
    with Session(own) as s:
        user = _officer(s, "13900009004")
        user.totp_secret = SECRET
        s.flush()
        key_id = fieldcrypt.KeyRing.key_id_of(user.totp_secret_sealed)
        s.execute(delete(DataKey).where(DataKey.id == key_id))
        fresh = fieldcrypt.KeyRing(fieldcrypt.current().keys)  # a process that has not read the key yet
        with pytest.raises(fieldcrypt.MissingKey, match=f"data key {key_id} is not available"):
            fresh.open(s.connection(), user.totp_secret_sealed,
                       fieldcrypt.context("user_account", "totp_secret", user.row_key))


def test_another_key_file_cannot_unwrap_the_data_keys(own):
    with Session(own) as s:
        user = _officer(s, "13900009005")
        user.totp_secret = SECRET
        s.flush()
        stranger = fieldcrypt.KeyRing(fieldcrypt.KeyFile.generate())
        with pytest.raises(fieldcrypt.MissingKey, match="master key"):
            stranger.open(s.connection(), user.totp_secret_sealed,
                          fieldcrypt.context("user_account", "totp_secret", user.row_key))


def test_migration_seals_the_plaintext_secrets_there_were(app, empty_database, fresh_keyring):
    engine = empty_database
    with app.app_context():
        migrate.upgrade(engine, "0015")
        _station(engine)
        with engine.begin() as conn:
            for n, secret in ((1, SECRET), (2, None)):
                conn.execute(text(
                    "INSERT INTO user_account (role, phone, name, password_hash, must_change_password, active,"
                    " station_id, totp_secret, totp_confirmed, failed_logins, session_version, created_at)"
                    " VALUES ('officer', :phone, '民警', 'x', false, true, 1, :secret, true, 0, 1, '2026-12-01')"),
                    {"phone": f"1390000910{n}", "secret": secret})
        migrate.upgrade(engine)
        with Session(engine) as s:
            users = s.scalars(select(User).order_by(User.phone)).all()
            assert [u.totp_secret for u in users] == [SECRET, None]
            assert len({u.row_key for u in users}) == 2
        assert SECRET.encode() not in raw_bytes(engine)
        migrate.downgrade(engine, "0015")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT totp_secret FROM user_account ORDER BY phone")).scalars().all() \
                == [SECRET, None]


def _status(s: Session) -> dict:
    """keys.status of the columns that hold values (here only the officers' secrets)."""
    return {column: counts for column, counts in keys.status(s).items() if counts}


def _secrets(s: Session) -> dict[str, str]:
    return {u.phone: u.totp_secret for u in s.scalars(select(User))}


def test_rotation_seals_every_value_again_and_resumes_after_a_crash(app, own, monkeypatch):
    with Session(own) as s:
        for n in range(5):
            _officer(s, f"1390000920{n}").totp_secret = auth.new_totp_secret()
        s.commit()
        before = _secrets(s)
        assert _status(s) == {"user_account.totp_secret": {1: 5}}
        newest = keys.add_key(s)
        s.commit()
        monkeypatch.setattr(keys, "BATCH", 2)
        column = next(c for c in keys.sealed_columns() if c.label == "user_account.totp_secret")
        assert keys.reseal_batch(s, column, newest) == 2
        s.commit()  # and the run is killed here
        assert _status(s) == {"user_account.totp_secret": {1: 3, newest: 2}}
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate", "--resume"])
    assert result.exit_code == 0, result.output
    assert f"user_account.totp_secret:3 个值已用数据密钥 {newest} 重新加密" in result.output  # the CLI speaks Chinese
    with Session(own) as s:
        assert _status(s) == {"user_account.totp_secret": {newest: 5}}
        assert _secrets(s) == before
    result = runner.invoke(args=["keys", "rotate", "--settle", "0"])
    assert result.exit_code == 0, result.output
    status = json.loads(runner.invoke(args=["keys", "status"]).output)
    assert {column: counts for column, counts in status.items() if counts} == \
        {"user_account.totp_secret": {str(newest + 1): 5}}
    with Session(own) as s:
        assert _secrets(s) == before


def test_sign_in_works_with_a_sealed_secret(client, db_session):
    officer = factories.make_user(db_session, role="officer", station=factories.make_district(db_session).stations[0])
    stored = db_session.scalar(select(User.totp_secret_sealed).where(User.id == officer.id))
    assert officer.totp_secret.encode() not in stored
    client.sign_in(officer.phone, factories.PASSWORD, totp_secret=officer.totp_secret)
    assert client.get("/officer/").status_code == 200


def test_rotation_never_puts_back_a_value_that_a_request_changed_meanwhile(own, monkeypatch):
    if own.dialect.name == "sqlite":  # writers there hold the write lock from their first statement (writing())
        pytest.skip("PostgreSQL only: on SQLite no request writes between the rotation's read and its write")
    with Session(own) as s:
        user = _officer(s, "13900009301")
        user.totp_secret = SECRET
        s.commit()
        user_id, newest = user.id, keys.add_key(s)
        s.commit()
    changed = auth.new_totp_secret()
    opened = fieldcrypt.sealed.open_stored

    def a_request_changes_it_meanwhile(self, connection, row_key, stored):
        value = opened(self, connection, row_key, stored)
        with Session(own) as other:  # another process, after the rotation read the row
            other.get(User, user_id).totp_secret = changed
            other.commit()
        return value

    monkeypatch.setattr(fieldcrypt.sealed, "open_stored", a_request_changes_it_meanwhile)
    with Session(own) as s:
        column = next(c for c in keys.sealed_columns() if c.label == "user_account.totp_secret")
        keys.reseal_batch(s, column, newest)
        s.commit()
    monkeypatch.undo()
    with Session(own) as s:
        assert s.get(User, user_id).totp_secret == changed


def test_keys_verify_opens_every_value_and_names_a_tampered_one(app, own):
    with Session(own) as s:
        mine, theirs = _officer(s, "13900009401"), _officer(s, "13900009402")
        mine.totp_secret, theirs.totp_secret = SECRET, auth.new_totp_secret()
        s.commit()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["keys", "verify"])
        assert result.exit_code == 0, result.output
        assert "user_account.totp_secret：2 个值可以打开。" in result.output
        s.execute(update(User).where(User.id == theirs.id).values(totp_secret_sealed=mine.totp_secret_sealed))
        s.commit()
        theirs_id = theirs.id
    result = runner.invoke(args=["keys", "verify"])
    assert result.exit_code == 1
    assert f"user_account.totp_secret：第 {theirs_id} 行的值无法打开" in result.output
