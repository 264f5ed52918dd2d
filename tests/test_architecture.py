"""House rules that code review alone would let slip."""

from __future__ import annotations

import ast
from pathlib import Path

import openplate

PACKAGE = Path(openplate.__file__).parent
FORBIDDEN_IN_CORE = ("fastapi", "starlette", "sqlalchemy", "uvicorn", "jinja2")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_protocol_core_and_library_are_framework_and_storage_free() -> None:
    for folder in ("oauth", "library"):
        for path in (PACKAGE / folder).rglob("*.py"):
            bad = _imports(path).intersection(FORBIDDEN_IN_CORE)
            assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_every_module_has_a_docstring() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and not path.read_text().strip():
            continue
        if "versions" in path.parts:
            continue
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no docstring"


def test_public_all_is_honest() -> None:
    import openplate.library as library

    for name in library.__all__:
        assert hasattr(library, name), name
