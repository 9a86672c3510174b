"""The committed messages.pot is current and the Chinese catalog translates every message."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_pot_is_not_stale(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output", "-o", str(fresh), "."],
                   cwd=ROOT, check=True)
    with fresh.open("rb") as f:
        extracted = _ids(read_po(f))
    with (ROOT / "translations" / "messages.pot").open("rb") as f:
        committed = _ids(read_po(f))
    assert extracted - committed == set(), "run `make extract` and translate the new messages"
    assert committed - extracted == set(), "run `make extract` to drop messages no longer used"


def test_chinese_catalog_is_complete():
    with (ROOT / "translations" / "messages.pot").open("rb") as f:
        pot = read_po(f)
    with (ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        zh = read_po(f)
    missing = [m.id for m in pot if m.id and (m.id not in zh or not zh[m.id].string or zh[m.id].fuzzy)]
    assert missing == []
    placeholder_mismatch = [m.id for m in zh if m.id and isinstance(m.id, str) and m.string
                            and sorted(_placeholders(m.id)) != sorted(_placeholders(m.string))]
    assert placeholder_mismatch == []


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\((\w+)\)[sd]", text)
