"""The public surface stays honest: one sorted list, every name owned by ``fcstream``, typed."""

from __future__ import annotations

import types
from pathlib import Path

import fcstream


def test_all_is_sorted_and_unique() -> None:
    assert fcstream.__all__ == sorted(fcstream.__all__)
    assert len(set(fcstream.__all__)) == len(fcstream.__all__)


def test_every_public_name_exists_and_belongs_to_fcstream() -> None:
    for name in fcstream.__all__:
        obj = getattr(fcstream, name)
        if isinstance(obj, types.UnionType):  # ``Event``: a type alias, it has no module
            continue
        assert obj.__module__ == "fcstream", name


def test_no_private_module_leaks_a_public_name() -> None:
    public = {n for n in dir(fcstream) if not n.startswith("_")}
    assert public - set(fcstream.__all__) <= {"annotations"}


def test_the_core_names_are_public() -> None:
    core = {
        "StreamParser",
        "ToolCall",
        "SSEFramer",
        "CallDone",
        "CallIncomplete",
        "FcstreamError",
        "PayloadError",
        "ProtocolError",
        "UsageError",
        "iter_events",
        "iter_calls",
        "collect",
    }
    assert core <= set(fcstream.__all__)


def test_py_typed_is_shipped() -> None:
    package = Path(fcstream.__file__).parent
    assert (package / "py.typed").is_file()


def test_version() -> None:
    assert isinstance(fcstream.__version__, str)
    assert fcstream.__version__.count(".") >= 2
