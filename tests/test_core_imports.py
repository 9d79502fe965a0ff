"""The sans-I/O core imports no client library, no event loop and no logging.

Read with ``ast`` (not by importing), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fcstream

PACKAGE = Path(fcstream.__file__).parent
CORE = [
    "_sse",
    "_wire_chat",
    "_wire_responses",
    "_events",
    "_call",
    "_open_call",
    "_accumulator",
    "_chat",
    "_responses",
    "_parser",
    "_errors",
    "_result",
    "_surrogates",
]
FORBIDDEN = {"httpx", "httpx_sse", "openai", "asyncio", "socket", "threading", "logging"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def test_the_core_modules_exist() -> None:
    missing = [name for name in CORE if not (PACKAGE / f"{name}.py").is_file()]
    # _wire_responses and _responses come with the Responses work; the rest must be there
    assert set(missing) <= {"_wire_responses", "_responses"}


@pytest.mark.parametrize("name", CORE)
def test_core_module_imports_no_io(name: str) -> None:
    path = PACKAGE / f"{name}.py"
    if not path.is_file():
        pytest.skip(f"{name}.py is not written yet")
    roots = {module.split(".")[0] for module in imported_modules(path)}
    assert roots.isdisjoint(FORBIDDEN), sorted(roots & FORBIDDEN)


def test_the_checker_sees_lazy_and_dotted_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os.path\n"
        "from httpx import Client\n"
        "def f():\n"
        "    import asyncio.tasks\n"
        "    __import__('socket')\n"
        "from . import _sse\n",
        encoding="utf-8",
    )
    assert imported_modules(sample) == {"os.path", "httpx", "asyncio.tasks", "socket"}
