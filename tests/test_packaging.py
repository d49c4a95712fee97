"""An installed nndyn has every library it imports: pyproject.toml declares them all.

A package imported but not declared works on the developer's machine (something else
pulled it in) and breaks a user's fresh install, e.g. GIF export without Pillow.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_top_level_modules() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "nndyn_gui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"nndyn_gui", "__future__"}


def _declared() -> set[str]:
    """Dependencies and the optional extras for users (e.g. `cluster`: imported only
    behind a guard that says which extra to install), not the test and dev tools."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"])
    for name, extra in project.get("optional-dependencies", {}).items():
        if name not in ("test", "dev"):
            deps += extra
    return {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps}


def test_every_imported_library_is_a_declared_dependency() -> None:
    dists = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for module in sorted(_imported_top_level_modules()):
        owners = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        # tensorflow-cpu on x86_64 provides `tensorflow`; shiboken6 comes with PySide6
        owners |= {"tensorflow"} if "tensorflow-cpu" in owners else set()
        owners |= {"pyside6-essentials"} if module == "shiboken6" else set()
        if not owners & declared:
            missing[module] = sorted(owners)
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"
