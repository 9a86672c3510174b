"""Code health as habits: the checks a reviewer would otherwise have to remember (STYLE.md)."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"


def _modules_with_routes() -> set[str]:
    found = set()
    for path in PORTAL.rglob("*.py"):
        if re.search(r"\.(route|get|post|put|patch|delete)\(\s*[\"']/|add_url_rule\(", path.read_text()):
            found.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_every_module_with_routes_is_a_view_layer_of_the_import_contract():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    views = {name.strip() for name in re.split(r"[:|]", layers[0])}
    forbidden = set(next(c for c in contracts if c["type"] == "forbidden")["source_modules"])
    assert len(_modules_with_routes()) >= 9  # the scan finds the blueprints
    assert _modules_with_routes() | {"portal.sessions"} <= views
    assert views == forbidden
    assert layers[1:] == ["portal.services", "portal.models"]


MAX_FUNCTION_LINES = 60  # STYLE.md "Complexity has a ceiling": a function that needs more is two functions


def test_no_function_in_portal_is_longer_than_a_screen():
    too_long = []
    for path in sorted(PORTAL.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert too_long == []
