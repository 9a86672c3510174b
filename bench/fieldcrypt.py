"""What sealing a field costs (issue 14): SM4-GCM against AES-256-GCM, and the blind index, on this machine.
Not a timed test: run it by hand.

    .venv/bin/python bench/fieldcrypt.py [--n 100000]

Seals and opens N resident ID numbers (18 characters) with each cipher through portal.fieldcrypt's own
encrypt/decrypt (a fresh nonce each, the associated data of a real column), and computes N blind indexes
with HMAC-SM3 and HMAC-SHA-256; prints microseconds per value (best of 5 runs).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import fieldcrypt  # noqa: E402


def _best(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    n = parser.parse_args().n
    values = [f"430302{19000101 + i % 1_000_000:08d}{i % 10_000:04d}".encode() for i in range(n)]
    where = fieldcrypt.context("person", "id_number", b"r" * 16)
    for algorithm in sorted(fieldcrypt.ALGORITHMS):
        keys = fieldcrypt.KeyFile.generate(algorithm)
        key = keys.masters["1"]
        sealed = [fieldcrypt.encrypt(algorithm, key, v, where) for v in values]
        seal = _best(lambda: [fieldcrypt.encrypt(algorithm, key, v, where) for v in values])  # noqa: B023
        opened = _best(lambda: [fieldcrypt.decrypt(algorithm, key, s, where) for s in sealed])  # noqa: B023
        ring = fieldcrypt.KeyRing(keys)
        index = _best(lambda: [ring.blind_index("id_number", v.decode()) for v in values])  # noqa: B023
        print(f"{algorithm:12} seal {seal / n * 1e6:6.1f} us  open {opened / n * 1e6:6.1f} us  "
              f"blind index ({'HMAC-SM3' if algorithm == 'SM4-GCM' else 'HMAC-SHA-256'}) {index / n * 1e6:6.1f} us  "
              f"({n:,} values, {len(sealed[0]) + 5} bytes each sealed)")


if __name__ == "__main__":
    main()
