"""What bench/generate.py and bench/queue.py share: the accounts the generator creates for the benchmark.

Benchmark data only: the password and TOTP keys below are published on purpose and must never exist in a
real database.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"  # git-ignored

PASSWORD = "bench-password-2026-not-for-production"  # noqa: S105 (published on purpose)
STATION_OFFICER_PHONE = "13910000001"  # the station officer of the busiest station
BEAT_OFFICER_PHONE = "13920000001"  # the beat officer of the busiest beat of that station
BUREAU_OFFICER_PHONE = "13930000001"  # an officer of the bureau's own staff (every station): bench/quality.py adds one


def totp_secret(phone: str) -> str:
    """A TOTP key derived from the phone, so the benchmark can compute codes. Benchmark data only."""
    return base64.b32encode(hashlib.sha256(f"bench-totp:{phone}".encode()).digest()[:20]).decode()


def fix_sys_path() -> None:
    """`python bench/queue.py` puts bench/ first on sys.path, where queue.py would shadow the standard
    library's `queue` module. Move bench/ to the end and make the project root importable."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here] + [here]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def describe_url(url: str) -> str:
    """The URL without a password, for printing."""
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


class StatementLog:
    """The statements an engine runs, each with its time in ms, recorded only inside `with log:`."""

    def __init__(self, engine) -> None:
        import time

        from sqlalchemy import event

        self.statements: list[tuple[str, float]] = []
        self.on = False

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            if self.on:
                self.statements.append((statement, (time.perf_counter() - conn.info["t0"]) * 1000))

    def __enter__(self) -> StatementLog:
        self.statements.clear()
        self.on = True
        return self

    def __exit__(self, *_exc) -> None:
        self.on = False
