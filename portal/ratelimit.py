"""The in-process rate-limit storage: limits' own MemoryStorage, without a thread per expiry.

limits' MemoryStorage starts a `threading.Timer` of 10 ms to drop expired counts whenever none is running,
so a worker serving a request every few milliseconds starts about a hundred threads a second, each of
which then takes the GIL from the request being served. Under load that cost API move-ins 17 % of their
rate (bench/README.md). Here the same expiry code runs inline instead, at most once a SWEEP_EVERY seconds,
during a hit; an expired count is also dropped as soon as it is read (MemoryStorage.get), so nothing ever
counts against a new window.

Counts live in each worker process, as with `memory://`: with several workers or hosts, configure a shared
storage (RATELIMIT_STORAGE_URI=redis://...).
"""
from __future__ import annotations

import time

from limits.storage import MemoryStorage

SCHEME = "portal-memory"
API_DEFAULT = "600 per minute"  # requests of one API token (API_RATE_LIMIT)
# Requests of all the tokens of one account together (API_ACCOUNT_RATE_LIMIT): more tokens do not buy more.
API_ACCOUNT_DEFAULT = "1200 per minute"
SWEEP_EVERY = 1.0


class ThreadlessMemoryStorage(MemoryStorage):
    """`portal-memory://`: MemoryStorage with its expiry swept inline, never from a thread of its own."""

    STORAGE_SCHEME = [SCHEME]  # registered with limits by its storage metaclass, for the storage URI

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._sweep_at = 0.0

    # MemoryStorage calls `self.__schedule_expiry()` before every change of a count, which Python names
    # `_MemoryStorage__schedule_expiry`: this replaces it (tests/unit/test_ratelimit.py fails if limits
    # stops calling it, or starts a thread again).
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._sweep_at:
            self._sweep_at = now + SWEEP_EVERY
            self._MemoryStorage__expire_events()
