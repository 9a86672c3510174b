"""Keys, the SQLite database and uploaded staff lists are this user's only: folders 0700, files 0600, with
the usual umask (022) that would have made them readable by everyone (SECURITY.md "Data protection")."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from portal import create_app
from portal.extensions import db


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def fresh_app(tmp_path, monkeypatch, umask_022):
    """An app on an instance folder that does not exist yet, with its default SQLite database in it."""
    for name in ("DATABASE_URL", "SECRET_KEY", "AUDIT_CHAIN_KEY", "AUDIT_CHAIN_KEY_FILE", "UPLOAD_FOLDER"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "fresh" / "instance"
    real_engine = db.engine  # create_app binds the one `db` to its own engine: put back the suite's after
    try:
        app = create_app({"TESTING": True}, instance_path=instance)
        yield app, instance
    finally:
        db.engine.dispose()
        db.engine = real_engine
        db.session.remove()
        db.session.configure(bind=real_engine)


def test_a_fresh_instance_folder_its_keys_and_database_are_private(app, fresh_app):
    app, instance = fresh_app
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'portal.sqlite3'}"
    with db.engine.connect() as conn:  # WAL: SQLite makes the -wal and -shm files now
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.commit()
        files = {name: _mode(instance / name) for name in
                 ("secret_key", "audit_chain_key", "portal.sqlite3", "portal.sqlite3-wal", "portal.sqlite3-shm")}
    assert _mode(instance) == 0o700
    assert files == dict.fromkeys(files, 0o600)


def test_an_existing_database_file_is_tightened(tmp_path, umask_022):
    from portal.db import make_engine

    path = tmp_path / "old.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    assert _mode(path) == 0o600


def test_uploads_wait_in_a_private_folder(tmp_path, umask_022, db_session, district, officer):
    from portal.services import units
    from tests import factories

    folder = tmp_path / "uploads"
    folder.mkdir()
    folder.chmod(0o755)  # there already, readable by everyone: tightened
    employer = factories.make_user(db_session, role="employer")
    unit_id = factories.make_unit(db_session, employer, district.addresses[0], verified_by=officer).unit_id
    kept = units.keep_upload(db_session, employer, unit_id, b"name,id\n", "staff.csv", full_list=False,
                             directory=folder)
    assert kept.draft_key and _mode(folder) == 0o700
    assert [_mode(p) for p in folder.iterdir()] == [0o600]
