"""fcstream on its Python sources, timed beside the compiled modules in the same run.

When the mypyc build is in use (``fcstream._native.ACTIVE``), the package is loaded a second
time from its sources under another name (``fcstream_pure``, with ``FCSTREAM_PURE`` set while it
imports, so its own guard imports every compiled module's source). Its classes are distinct
from fcstream's, which the row never mixes: it only hands back plain call tuples.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import fcstream
from fcstream import _native

from ._candidates import Candidate, Missing, fcstream_calls
from ._workloads import Stream

__all__ = ["NAME", "fcstream_pure", "load_sources"]

NAME = "fcstream, Python sources (no mypyc)"
_ALIAS = "fcstream_pure"


def load_sources() -> Any:
    """The package again, every module from its ``.py`` file, as ``fcstream_pure``."""
    loaded = sys.modules.get(_ALIAS)
    if loaded is not None:
        return loaded
    package = Path(fcstream.__file__).parent
    spec = importlib.util.spec_from_file_location(
        _ALIAS, package / "__init__.py", submodule_search_locations=[str(package)])
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_ALIAS] = module
    before = os.environ.get("FCSTREAM_PURE")
    os.environ["FCSTREAM_PURE"] = "1"
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_ALIAS]
        raise
    finally:
        if before is None:
            del os.environ["FCSTREAM_PURE"]
        else:
            os.environ["FCSTREAM_PURE"] = before
    return module


def fcstream_pure() -> Candidate | Missing:
    """The fcstream row's work (the whole stream in one feed) on the sources."""
    if not _native.ACTIVE:
        return Missing(NAME, f"fcstream itself runs its sources here ({_native.REASON})")
    sources = load_sources()
    parser_class = sources.StreamParser
    compiled = [n for n in _native.COMPILED
                if not sys.modules[f"{sources.__name__}.{n}"].__file__.endswith(".py")]
    if compiled:
        return Missing(NAME, f"modules still compiled in the second copy: {compiled}")

    def run(stream: Stream) -> Any:
        parser = parser_class()
        parser.feed(stream.data)
        parser.finish()
        return parser

    return Candidate(NAME, run, fcstream_calls)
