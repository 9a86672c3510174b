"""A flask command waits for SQLite's write lock longer than a request does: run while a big staff list is
being committed, it waits for the commit instead of failing with "database is locked"."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from portal import migrate
from portal.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
HELD_S = 1.5


def test_a_command_waits_for_the_write_lock_held_longer_than_the_busy_timeout(tmp_path):
    db_file = tmp_path / "portal.sqlite3"
    engine = make_engine(f"sqlite:///{db_file}")
    migrate.upgrade(engine)
    engine.dispose()
    env = {**os.environ, "PORTAL_ENV": "development", "SECRET_KEY": "cli-lock-test-" + "k" * 40,
           "DATABASE_URL": f"sqlite:///{db_file}", "UPLOAD_FOLDER": str(tmp_path / "uploads"),
           "SQLITE_BUSY_TIMEOUT_MS": "300"}  # a request would give up after 0.3 s
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a staff-list commit holds it
    try:
        started = time.monotonic()
        command = subprocess.Popen([str(FLASK), "--app", "portal", "purge"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(HELD_S)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err[-2000:]
    assert "已清除 0 份草稿" in out
    assert time.monotonic() - started >= HELD_S  # it waited for the lock
