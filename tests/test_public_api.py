"""The public surface stays honest: one sorted list, every name owned by ``fcstream``, typed."""

from __future__ import annotations

import gc
import types
import typing
from pathlib import Path

import fcstream
import fcstream._events


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



def _scalar(hint: object) -> bool:
    """A type whose values cannot refer back to anything: text, bytes, numbers, literals."""
    if hint in (str, int, bytes, bool, type(None)):
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    return origin in (types.UnionType, typing.Union) and all(map(_scalar, typing.get_args(hint)))


def test_untracked_events_hold_nothing_that_could_make_a_cycle() -> None:
    """Events made ``gc=False`` (the cycle collector skips them) must hold only scalars: an
    untracked object in a reference cycle would never be freed. The others stay tracked."""
    events = typing.get_args(fcstream.Event)
    assert len(events) >= 14
    untracked = set()
    for cls in events:
        hints = typing.get_type_hints(cls, globalns=vars(fcstream._events))
        scalar_only = all(map(_scalar, hints.values()))
        if not cls.__struct_config__.gc:
            untracked.add(cls.__name__)
            assert scalar_only, cls.__name__
    assert {"ArgumentsDelta", "TextDelta", "CallStarted"} <= untracked
    assert not gc.is_tracked(fcstream.TextDelta(0, 0, "x"))
    assert gc.is_tracked(fcstream.Usage(0, {}))
    assert gc.is_tracked(fcstream.CallDone(0, fcstream.ToolCall(
        call_id="c", name="f", arguments="{}", index=0)))
