"""Compiled modules are used only while they match their sources.

The hot modules (``COMPILED``) can be compiled with mypyc, in place: ``_chat.<suffix>.so`` beside
``_chat.py``, which the import system prefers (``./dev`` does it; see ``hatch_build.py``). A
compiled module built from other source than the one beside it would run old code unseen (an
edit not rebuilt yet, a checkout of another commit), so the build records the SHA-256 of every
source it compiled in ``_native.json``, and this module, imported first by the package, checks
them. On any mismatch, or when ``FCSTREAM_PURE`` is set to a non-empty value, the sources are
imported instead (a finder placed ahead of the standard ones). ``ACTIVE`` says which code runs,
``REASON`` why.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

__all__ = ["ACTIVE", "COMPILED", "LIBRARY", "REASON", "STAMP", "mypyc_attr", "source_digests"]

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr
else:
    try:  # mypyc reads the decorator when it compiles; at run time it only marks the class
        from mypy_extensions import mypyc_attr
    except ImportError:  # installed without mypy: nothing to mark

        def mypyc_attr(*attrs: str, **kwattrs: Any) -> Any:
            return lambda cls: cls

COMPILED: Final = (
    "_accumulator", "_chat", "_open_call", "_parser", "_responses", "_runs", "_sse", "_template",
)
"""The modules mypyc compiles: the framer, the parser and the accumulators, where the time goes.
``hatch_build.py`` reads this tuple from here."""

LIBRARY: Final = "fcstream_speedups__mypyc"
"""mypyc's shared library, beside the package (``hatch_build.py`` names its group from this)."""

STAMP: Final = "_native.json"
"""The build record: ``{"python": <cache tag>, "sources": {module: sha256 of its .py}}``."""

_HERE: Final = Path(__file__).parent


def source_digests(where: Path = _HERE) -> dict[str, str]:
    """SHA-256 of each compiled module's source, as the build records them."""
    return {name: hashlib.sha256((where / f"{name}.py").read_bytes()).hexdigest()
            for name in COMPILED}


def _compiled_files() -> list[Path]:
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    return [path for name in COMPILED for suffix in suffixes
            if (path := _HERE / f"{name}{suffix}").exists()]


def _state(built: list[Path]) -> tuple[bool, str]:
    if os.environ.get("FCSTREAM_PURE"):
        return False, "FCSTREAM_PURE is set"
    if not built:
        return False, "not compiled"
    try:
        record = json.loads((_HERE / STAMP).read_text())
    except (OSError, ValueError):
        return False, f"compiled modules without a valid {STAMP}"
    if not isinstance(record, dict) or record.get("python") != sys.implementation.cache_tag:
        return False, f"compiled for another Python ({STAMP})"
    if len(built) != len(COMPILED) or record.get("sources") != source_digests():
        return False, "compiled from other sources than these (rebuild: ./dev build)"
    library = importlib.util.find_spec(LIBRARY)
    if library is None or library.origin is None or Path(library.origin).parent != _HERE.parent:
        return False, f"compiled modules without their library {LIBRARY} beside the package"
    return True, "compiled with mypyc"


class _SourceFinder:
    """Finds the compiled modules' sources, ahead of the extension modules beside them (a
    plain class: ``importlib.abc`` would cost every import of the package ~15 ms)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != __package__ or name not in COMPILED:
            return None
        return importlib.util.spec_from_file_location(fullname, _HERE / f"{name}.py")


_BUILT: Final = _compiled_files()
ACTIVE, REASON = _state(_BUILT)
if not ACTIVE and _BUILT:
    sys.meta_path.insert(0, _SourceFinder())
    if not os.environ.get("FCSTREAM_PURE"):
        warnings.warn(f"fcstream runs its Python sources: {REASON}", RuntimeWarning,
                      stacklevel=2)
