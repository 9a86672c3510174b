"""No module of the portal reaches into another's private (underscore) names: ruff's PLC2701 refuses
`from portal.x import _name`; this test refuses `x._name` on a portal module imported as `x`."""
from __future__ import annotations

import ast
from pathlib import Path

from portal import ROOT

PORTAL = Path(ROOT) / "portal"


def _portal_modules_imported(tree: ast.Module) -> set[str]:
    """The local names bound to portal modules (`from portal.services import audit`, `import portal.db as d`)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("portal"):
            for alias in node.names:
                candidate = PORTAL.parent / (node.module.replace(".", "/") + "/" + alias.name)
                if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            names.update(alias.asname for alias in node.names if alias.name.startswith("portal") and alias.asname)
    return names


def private_uses(source: str) -> list[str]:
    tree = ast.parse(source)
    modules = _portal_modules_imported(tree)
    return [f"{node.value.id}.{node.attr} (line {node.lineno})" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
            and node.attr.startswith("_") and not node.attr.startswith("__")]


def test_the_check_finds_a_private_name_reached_through_a_module():
    source = "from portal.services import staff_import\nstaff_import._diff(1)\nstaff_import.preview(2)\n"
    assert private_uses(source) == ["staff_import._diff (line 2)"]


def test_no_portal_module_uses_another_modules_private_names():
    found = {str(path.relative_to(PORTAL)): uses for path in sorted(PORTAL.rglob("*.py"))
             if (uses := private_uses(path.read_text(encoding="utf-8")))}
    assert found == {}
