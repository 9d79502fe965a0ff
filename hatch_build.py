"""Compile fcstream's hot modules with mypyc, in place: ``python hatch_build.py`` (``./dev build``).

The modules listed in ``fcstream/_native.py`` (``COMPILED``) become C extensions beside their
sources, plus mypyc's shared library beside the package (``fcstream_speedups__mypyc``: inside
it, the compiled modules would get a wrong ``__file__``), and ``fcstream/_native.json`` records
the SHA-256 of every source compiled. ``fcstream/_native.py`` uses the extensions only while
that record matches the sources beside them; otherwise, or with ``FCSTREAM_PURE=1``, the
sources run. The code is the same either way (mypyc compiles the typed sources as they are),
and ``./dev test`` runs the whole suite both ways.

Needs mypy (which ships mypyc), setuptools and a C compiler: the ``test`` extra and the machine.
As hatchling's custom build hook (``pyproject.toml``), it does the same for every wheel, editable
ones included; when it cannot (no compiler), the wheel is pure Python, with a warning.
Nothing is rebuilt while the record matches. The package is never imported here: a process that
loaded the compiled modules must not overwrite them.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
PACKAGE = ROOT / "fcstream"
STAMP = PACKAGE / "_native.json"


def _native_constant(name: str) -> object:
    """A constant of ``fcstream/_native.py``, read from its source."""
    tree = ast.parse((PACKAGE / "_native.py").read_text())
    for node in tree.body:
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and node.target.id == name and node.value is not None):
            return ast.literal_eval(node.value)
    raise RuntimeError(f"fcstream/_native.py defines no {name}")


GROUP = str(_native_constant("LIBRARY")).removesuffix("__mypyc")
"""mypyc's group name: its shared library is ``<group>__mypyc.<suffix>`` (``LIBRARY``)."""


def compiled_modules() -> tuple[str, ...]:
    names = _native_constant("COMPILED")
    assert isinstance(names, tuple)
    return tuple(map(str, names))


def record(names: tuple[str, ...]) -> dict[str, object]:
    """What ``fcstream/_native.py`` checks: the Python and each compiled source's digest."""
    sources = {name: hashlib.sha256((PACKAGE / f"{name}.py").read_bytes()).hexdigest()
               for name in names}
    return {"python": sys.implementation.cache_tag, "sources": sources}


def outputs(names: tuple[str, ...]) -> list[Path]:
    """The extension files of a build for this Python (they may not exist)."""
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    return [*(PACKAGE / f"{name}{suffix}" for name in names), ROOT / f"{GROUP}__mypyc{suffix}"]


def fresh(names: tuple[str, ...]) -> bool:
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return False
    return stamp == record(names) and all(path.exists() for path in outputs(names))


def build(force: bool = False) -> bool:
    """Compile unless the build on disk is fresh; returns whether it compiled."""
    names = compiled_modules()
    if not force and fresh(names):
        return False
    compiled = record(names)  # the sources as read now: an edit during the build is not hidden
    STAMP.unlink(missing_ok=True)  # no record while the files change: the sources run
    for path in outputs(names):
        path.unlink(missing_ok=True)  # not overwritten: a running process keeps its mapped copy
    from mypyc.build import mypycify
    from setuptools import setup  # type: ignore[import-untyped]

    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="fcstream-mypyc-") as work:
        # setuptools reads the configuration of its working directory; the project's
        # pyproject.toml is hatchling's, so the build runs next to a link to the package
        os.symlink(PACKAGE, Path(work) / "fcstream")
        os.chdir(work)
        try:
            setup(
                name="fcstream-speedups",
                ext_modules=mypycify([f"fcstream/{name}.py" for name in names],
                                     group_name=GROUP),
                script_args=["--quiet", "build_ext", "--inplace"],
            )
            library = outputs(names)[-1]
            shutil.move(library.name, library)  # built in the working directory (maybe tmpfs)
        finally:
            os.chdir(here)
    missing = [str(path) for path in outputs(names) if not path.exists()]
    if missing:
        raise RuntimeError(f"mypyc left no {', '.join(missing)}")
    STAMP.write_text(json.dumps(compiled, indent=1) + "\n")
    return True


try:
    from hatchling.builders.hooks.plugin.interface import (  # type: ignore[import-not-found]
        BuildHookInterface,
    )
except ImportError:  # run as a script (./dev build): no hook to define
    pass
else:

    class MypycBuildHook(BuildHookInterface):  # type: ignore[misc]
        """Wheels carry the compiled modules, their record and mypyc's shared library."""

        PLUGIN_NAME = "custom"

        def initialize(self, version: str, build_data: dict[str, Any]) -> None:
            if self.target_name != "wheel" or os.environ.get("FCSTREAM_PURE"):
                return
            try:
                build()
            except (Exception, SystemExit) as exc:  # mypyc exits on a type error
                # no compiler, say: the sources serve everywhere
                warnings.warn(f"fcstream: no mypyc build, the wheel runs its sources: {exc}",
                              stacklevel=1)
                return
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
            if version == "editable":
                return  # an editable wheel points at the sources, the build beside them
            *modules, library = outputs(compiled_modules())
            # ignored by git, so hatchling leaves them out unless named here
            build_data["artifacts"] += [str(p.relative_to(ROOT)) for p in (*modules, STAMP)]
            build_data["force_include"][str(library)] = library.name


if __name__ == "__main__":
    compiled = build(force="--force" in sys.argv[1:])
    print("fcstream: compiled with mypyc" if compiled else "fcstream: compiled modules are fresh")
