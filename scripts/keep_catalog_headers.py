"""`make extract`'s wrapper: re-extract messages.pot and update the catalogs, then give back, byte for byte, every
catalog whose messages did not change, so that its header (POT-Creation-Date, the Babel version) does not change
either and a diff shows only real catalog changes.

    python scripts/keep_catalog_headers.py PYBABEL_EXTRACT_ARGS... -- PYBABEL_UPDATE_ARGS...
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = [ROOT / "translations" / "messages.pot", *sorted((ROOT / "translations").glob("*/LC_MESSAGES/*.po"))]


def messages(data: bytes) -> list[tuple]:
    """Everything of a catalog but its header: each message with its strings, flags and comments."""
    from io import BytesIO

    catalog = read_po(BytesIO(data))
    return [(m.id, m.string, m.context, sorted(m.flags), m.auto_comments, m.user_comments) for m in catalog
            if m.id]


def main(argv: list[str]) -> int:
    cut = argv.index("--")
    pybabel, extract, update = argv[0], argv[1:cut], argv[cut + 1:]
    before = {path: path.read_bytes() for path in CATALOGS if path.exists()}
    subprocess.run([pybabel, *extract], check=True, cwd=ROOT)  # noqa: S603 - our own arguments
    subprocess.run([pybabel, *update], check=True, cwd=ROOT)  # noqa: S603
    for path, old in before.items():
        if path.exists() and messages(path.read_bytes()) == messages(old):
            path.write_bytes(old)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
