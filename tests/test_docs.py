"""The docs name only things that exist.

- docs/spec-map.md: each row's code column names files under ``openplate/`` and symbols they
  define (``oauth/authorize.py::_prompt``, then ``_max_age`` in the same file; ``Class.method``).
- README.md and docs/*.md: each test they name exists (``web/test_x.py::test_y``, ``::test_z`` in
  the same file, ``tests/store/test_x.py``, a folder of tests), and so does the code they name:
  ``dir/file.py``, ``file.py::symbol``, ``module.symbol`` (``pages.safe_next``), ``Class.member``,
  ``table.column`` (``clients.trusted_at``) and ``openplate.package.name``.

Files are read with ``ast``; nothing is imported or run, so this is in the fast tier (``-m core``).
A failure names the document, its line, and what it names that does not exist.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT / "openplate"
TESTS = ROOT / "tests"
DOCS = ROOT / "docs"
SPEC_MAP = DOCS / "spec-map.md"
TABLES = CODE / "store" / "tables.py"

_SPAN = re.compile(r"`([^`\n]+)`")
#: ``oauth/bearer.py::authenticate``, ``signing.py::rotate``, ``oauth/pkce.py``
_CODE_REF = re.compile(r"(?P<file>(?:[\w.-]+/)*\w+\.py)(?:::(?P<symbol>[A-Za-z_][\w.]*))?")
#: ``web/test_bad_input.py::test_token_malformed``, ``tests/test_cli.py``, ``x.py::test_y[sqlite]``
_TEST_REF = re.compile(r"(?:tests/)?(?P<file>(?:\w+/)*test_\w+\.py)(?:::(?P<names>\S+))?")
_CONTINUED_TEST = re.compile(r"::(?P<names>\S+)")
_TEST_FOLDER = re.compile(r"(?:\w+/)+")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
#: ``pages.safe_next``, ``web/sessions.csrf_ok``, ``client_auth.client_and_token(…)``,
#: ``SqlCodes.consume``, ``openplate.library.parse_upload``; a call's arguments are ignored.
_DOTTED = re.compile(r"(?P<head>(?:\w+/)*\w+)\.(?P<rest>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(.*\))?")


@dataclass(frozen=True)
class Where:
    doc: Path
    line: int

    def __str__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _lines(doc: Path) -> Iterator[tuple[Where, str]]:
    for number, line in enumerate(doc.read_text().splitlines(), start=1):
        yield Where(doc, number), line


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells, or [] for any other line (or the rule under the header)."""
    if not line.startswith("|") or set(line) <= set("|-: "):
        return []
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT))


# What the code defines ------------------------------------------------------------------------


@cache
def _definitions(path: Path) -> frozenset[str]:
    """What a module defines: its top-level functions, classes and assignments, the names in its
    ``__all__``, and for each class ``Class.member`` (methods, class attributes, ``self.x = …``)
    as well as the bare ``member``, so a doc may name a method without its class."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        names.update(_bound_names(node))
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            names.update(c.value for c in ast.walk(node.value)
                         if isinstance(c, ast.Constant) and isinstance(c.value, str))
        if isinstance(node, ast.ClassDef):
            members = {name for member in node.body for name in _bound_names(member)}
            members.update(
                target.attr for target in ast.walk(node)
                if isinstance(target, ast.Attribute) and isinstance(target.ctx, ast.Store)
                and isinstance(target.value, ast.Name) and target.value.id == "self")
            names.update(members)
            names.update(f"{node.name}.{member}" for member in members)
    return frozenset(names)


def _bound_names(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        yield node.target.id


@cache
def _modules() -> dict[str, Path]:
    """Every module of the package by its path below ``openplate/`` without ``.py``
    (``web/sessions``; a package's ``__init__`` by the package's path)."""
    modules = {}
    for path in CODE.rglob("*.py"):
        name = str(path.relative_to(CODE).with_suffix(""))
        modules[name.removesuffix("/__init__")] = path
    return modules


@cache
def _table_columns() -> dict[str, frozenset[str]]:
    """``store/tables.py``'s tables and their columns: ``Table("name", metadata, Column("c", …))``."""
    tables = {}
    for call in ast.walk(ast.parse(TABLES.read_text())):
        if isinstance(call, ast.Call) and _called(call) == "Table" and _first_text(call):
            tables[_first_text(call)] = frozenset(
                _first_text(arg) for arg in call.args if _called(arg) == "Column" and _first_text(arg))
    return tables


def _called(node: ast.AST) -> str | None:
    return node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None


def _first_text(node: ast.AST) -> str:
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        return str(node.args[0].value)
    return ""


# Checks of one reference; each returns what is wrong, or None -------------------------------


def _code_file(name: str) -> Path:
    """A code path as the docs write it: under ``openplate/`` unless it names a top folder."""
    if name.split("/", 1)[0] in ("openplate", "tests", "benchmarks", "scripts"):
        return ROOT / name
    return CODE / name


def _missing_code(where: Where, span: str, file: Path, symbol: str | None) -> str | None:
    if not file.is_file():
        return f"{where}: `{span}` names {_shown(file)}, which does not exist"
    if symbol is not None and symbol not in _definitions(file):
        return f"{where}: `{span}` names {symbol}, which {_shown(file)} does not define"
    return None


def _missing_test(where: Where, span: str, file: Path, names: str | None) -> str | None:
    if not file.is_file():
        return f"{where}: `{span}` names the test file {_shown(file)}, which does not exist"
    if names is None:
        return None
    test = re.sub(r"\[.*\]$", "", names).replace("::", ".")  # parametrised ids; Class::test
    if test not in _definitions(file):
        return f"{where}: `{span}` names the test {test}, which {_shown(file)} does not define"
    return None


def _ours(head: str, rest: str) -> bool:
    """Whether ``head.rest`` is about our code, not ``hmac.digest``, ``content.json``, the
    ``openplate.db`` file or the ``openplate.access`` logger."""
    if head == "openplate":
        return rest.split(".")[0] in _modules()
    return any(_dotted_places(head)) or head in _table_columns()


def _dotted_places(head: str) -> tuple[list[Path], list[Path]]:
    """The modules called ``head`` (by the end of their path), and those defining a class ``head``."""
    modules = [path for name, path in _modules().items() if name == head or name.endswith("/" + head)]
    classes = ([path for path in _modules().values() if head in _definitions(path)]
               if head[0].isupper() else [])
    return modules, classes


def _missing_folder(where: Where, span: str, *, proving: bool) -> str | None:
    folder = TESTS / span.removeprefix("tests/")
    if not folder.is_dir():
        return f"{where}: `{span}` names {_shown(folder)}, which does not exist"
    if proving and not any(folder.rglob("test_*.py")):
        return f"{where}: `{span}` proves a rule with {_shown(folder)}, which holds no tests"
    return None


def _missing_dotted(where: Where, span: str, head: str, rest: str) -> str | None:
    """``module.symbol``, ``Class.member``, ``table.column`` or ``openplate.package.name``."""
    if head == "openplate":
        return _missing_dotted_path(where, span, rest)
    modules, classes = _dotted_places(head)
    columns = _table_columns().get(head)
    if any(rest in _definitions(path) for path in modules):
        return None
    if any(f"{head}.{rest}" in _definitions(path) for path in classes):
        return None
    if columns is not None and rest in columns:
        return None
    places = [_shown(path) for path in modules + classes] + ([f"table {head}"] if columns else [])
    return f"{where}: `{span}` names {rest}, which {', '.join(places)} does not define"


def _missing_dotted_path(where: Where, span: str, rest: str) -> str | None:
    """``openplate.resource_server`` (a package) or ``openplate.library.parse_upload``."""
    parts = rest.split(".")
    if "/".join(parts) in _modules():
        return None
    module = "/".join(parts[:-1])
    if module in _modules() and parts[-1] in _definitions(_modules()[module]):
        return None
    return f"{where}: `{span}` names openplate.{rest}, which does not exist"


# docs/spec-map.md -----------------------------------------------------------------------------


def _spec_map_problems() -> Iterator[str | None]:
    """One entry per reference in the code column (None when it is sound). A bare symbol belongs
    to the file named before it in its cell; text in parentheses is a note (a parameter's name)."""
    for where, line in _lines(SPEC_MAP):
        cells = _cells(line)
        if not cells or cells[-1] == "code":
            continue
        file: Path | None = None
        spans = _SPAN.findall(re.sub(r"\([^()]*\)", "", cells[-1]))
        if not spans:
            yield f"{where}: the code column names no file"
        for span in spans:
            ref = _CODE_REF.fullmatch(span)
            if ref is not None:
                file = _code_file(ref["file"])
                yield _missing_code(where, span, file, ref["symbol"])
            elif _IDENTIFIER.fullmatch(span) and file is not None:
                yield _missing_code(where, span, file, span)
            else:
                yield f"{where}: `{span}` is neither `dir/file.py[::symbol]` nor a symbol after one"


def test_spec_map_names_real_files_and_symbols() -> None:
    checked = list(_spec_map_problems())
    assert len(checked) > 60, f"only {len(checked)} references found in {SPEC_MAP.name}"
    problems = [problem for problem in checked if problem]
    if problems:
        pytest.fail("docs/spec-map.md names what the code does not have:\n" + "\n".join(problems),
                    pytrace=False)


# Tests named anywhere in the docs -------------------------------------------------------------


def _test_problems() -> Iterator[str | None]:
    """One entry per test reference (None when it is sound). ``::name`` continues the test file
    named before it on the same line. Folders: ``tests/…/`` anywhere, and ``fuzz/`` in a
    "proved by" column."""
    for doc in _documents():
        proved_by: int | None = None
        for where, line in _lines(doc):
            cells = _cells(line)
            if "proved by" in cells:
                proved_by = cells.index("proved by")
            proof = cells[proved_by] if proved_by is not None and len(cells) > proved_by else ""
            file: Path | None = None
            for span in _SPAN.findall(line):
                ref, continued = _TEST_REF.fullmatch(span), _CONTINUED_TEST.fullmatch(span)
                if ref is not None:
                    file = TESTS / ref["file"]
                    yield _missing_test(where, span, file, ref["names"])
                elif continued is not None:
                    yield (_missing_test(where, span, file, continued["names"]) if file else
                           f"{where}: `{span}` follows no test file on its line")
                elif _TEST_FOLDER.fullmatch(span) and (span.startswith("tests/") or f"`{span}`" in proof):
                    yield _missing_folder(where, span, proving=f"`{span}`" in proof)


def test_every_test_the_docs_name_exists() -> None:
    checked = list(_test_problems())
    assert len(checked) > 80, f"only {len(checked)} test references found"
    problems = [problem for problem in checked if problem]
    if problems:
        pytest.fail("the docs name tests that do not exist:\n" + "\n".join(problems), pytrace=False)


# Code named anywhere else in the docs ---------------------------------------------------------


def _code_problems() -> Iterator[str | None]:
    """One entry per code reference outside the spec map (None when it is sound). A bare
    ``file.py`` is not checked: it is a name in prose (``tables.py``), not a path."""
    for doc in _documents():
        if doc == SPEC_MAP:
            continue
        for where, line in _lines(doc):
            for span in _SPAN.findall(line):
                if _TEST_REF.fullmatch(span):
                    continue
                ref, dotted = _CODE_REF.fullmatch(span), _DOTTED.fullmatch(span)
                if ref is not None:
                    if "/" in ref["file"] or ref["symbol"]:
                        yield _missing_code(where, span, _code_file(ref["file"]), ref["symbol"])
                elif dotted is not None and _ours(dotted["head"], dotted["rest"]):
                    yield _missing_dotted(where, span, dotted["head"], dotted["rest"])


def test_the_code_the_docs_name_exists() -> None:
    checked = list(_code_problems())
    assert len(checked) > 80, f"only {len(checked)} code references found"
    problems = [problem for problem in checked if problem]
    if problems:
        pytest.fail("the docs name code that does not exist:\n" + "\n".join(problems), pytrace=False)
