"""The in-process rate-limit storage counts as limits' MemoryStorage does, without a thread per expiry."""
from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from portal import ratelimit
from portal.config import load_config


@pytest.fixture
def storage():
    made = storage_from_string(f"{ratelimit.SCHEME}://")
    made.timer.join()  # the one expiry timer MemoryStorage starts when it is made
    return made


def test_the_default_storage_uri_names_it(tmp_path, monkeypatch):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "portal-memory://"
    assert isinstance(storage_from_string("portal-memory://"), ratelimit.ThreadlessMemoryStorage)


def test_hits_start_no_thread(storage):
    """MemoryStorage would start a 10 ms timer thread at the first hit after each expiry run."""
    limiter = FixedWindowRateLimiter(storage)
    item = parse("1000 per minute")
    timer, before = storage.timer, set(threading.enumerate())
    for n in range(30):
        assert limiter.hit(item, "api", str(n % 3))
        assert set(threading.enumerate()) <= before
        time.sleep(0.002)
    assert storage.timer is timer and not timer.is_alive()


def test_a_window_counts_and_then_starts_again(storage):
    limiter = FixedWindowRateLimiter(storage)
    item = parse("2 per second")
    assert limiter.hit(item, "api", "7") and limiter.hit(item, "api", "7")
    assert not limiter.hit(item, "api", "7")
    assert limiter.hit(item, "api", "8")  # another token has its own window
    time.sleep(1.05)
    assert limiter.hit(item, "api", "7")


def test_expired_counts_are_swept_during_a_hit(storage, monkeypatch):
    """Without the timer, counts nobody reads again must still go, or memory grows with every token seen."""
    storage.incr("gone", expiry=0.05)
    storage.incr("stays", expiry=60)
    time.sleep(0.06)
    storage.incr("other", expiry=60)  # within SWEEP_EVERY of the first sweep: nothing is swept yet
    assert "gone" in storage.storage
    monkeypatch.setattr(ratelimit, "SWEEP_EVERY", 0.0)
    storage._sweep_at = 0.0
    storage.incr("other", expiry=60)
    assert "gone" not in storage.storage and "gone" not in storage.expirations
    assert storage.storage["stays"] == 1 and storage.storage["other"] == 2
