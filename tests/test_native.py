"""The compiled modules (mypyc) and their sources: which run, and never a stale build.

``./dev test`` runs the suite twice: with ``FCSTREAM_EXPECT_NATIVE=1`` on the compiled modules it
has just built, then with ``FCSTREAM_PURE=1`` on the sources. The guard tests copy the package
with its build to a temporary directory and import it in a subprocess.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fcstream
from fcstream import _native

from .feed import split_at

PACKAGE = Path(fcstream.__file__).parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _module_files() -> dict[str, str]:
    return {name: sys.modules[f"fcstream.{name}"].__file__ or "" for name in _native.COMPILED}


def _library() -> Path | None:
    spec = importlib.util.find_spec(_native.LIBRARY)
    return Path(spec.origin) if spec is not None and spec.origin else None


def test_the_modules_this_run_expects_are_the_ones_loaded() -> None:
    files = _module_files()
    if os.environ.get("FCSTREAM_PURE"):
        assert not _native.ACTIVE
        assert _native.REASON == "FCSTREAM_PURE is set"
        assert all(f.endswith(".py") for f in files.values()), files
    elif os.environ.get("FCSTREAM_EXPECT_NATIVE"):
        assert _native.ACTIVE, _native.REASON
        assert all(f.endswith(SUFFIX) for f in files.values()), files
    else:  # a plain pytest run: whichever the guard chose, every module agrees with it
        ending = SUFFIX if _native.ACTIVE else ".py"
        assert all(f.endswith(ending) for f in files.values()), (_native.REASON, files)


def test_a_compiled_parser_can_be_subclassed() -> None:
    """It is public: compiled, it still takes Python subclasses, overrides included (the
    framer too: ``test_sse`` counts its reads through a subclass)."""
    seen: list[bytes] = []

    class Parser(fcstream.StreamParser):
        def feed(self, data: bytes | bytearray | memoryview, /) -> list[fcstream.Event]:
            seen.append(bytes(data))
            return super().feed(data)

    parser = Parser()
    events = parser.feed(b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n')
    assert [type(e).__name__ for e in events] == ["StreamStarted", "TextDelta"]
    assert seen == [b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n']
    assert isinstance(parser.finish()[-1], fcstream.StreamDone)


_PROBE = textwrap.dedent("""
    import json, sys, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import fcstream
    from fcstream import _native
    files = {n: sys.modules["fcstream." + n].__file__ for n in _native.COMPILED}
    print(json.dumps({"active": _native.ACTIVE, "reason": _native.REASON, "files": files,
                      "warnings": [str(w.message) for w in caught]}))
""")


def _copy_with_build(where: Path) -> Path:
    """The package and its build, copied to ``where``; skips when nothing was compiled."""
    library = _library()
    if library is None or not (PACKAGE / _native.STAMP).exists():
        pytest.skip("no mypyc build here: ./dev build (./dev test builds it first)")
    shutil.copytree(PACKAGE, where / "fcstream", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(library, where / library.name)
    return where / "fcstream"


def _import_in(where: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("FCSTREAM_PURE", "PYTHONPATH")}
    proc = subprocess.run([sys.executable, "-c", _PROBE], cwd=where, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_a_fresh_build_is_used(tmp_path: Path) -> None:
    _copy_with_build(tmp_path)
    got = _import_in(tmp_path)
    assert got["active"] is True, got
    assert all(str(f).startswith(str(tmp_path)) and str(f).endswith(SUFFIX)
               for f in got["files"].values()), got  # type: ignore[attr-defined]
    assert got["warnings"] == []


@pytest.mark.parametrize("change", ["source", "python", "no record", "no library"])
def test_a_build_that_does_not_match_gives_way_to_the_sources(tmp_path: Path, change: str
                                                              ) -> None:
    """An edit not rebuilt (one byte of one source), a record for another Python, a missing
    record or a missing shared library: every compiled module runs from source, with a
    warning that says why; never old code."""
    package = _copy_with_build(tmp_path)
    stamp = package / _native.STAMP
    if change == "source":
        with (package / "_template.py").open("a") as source:
            source.write("\n")
    elif change == "python":
        record = json.loads(stamp.read_text())
        stamp.write_text(json.dumps({**record, "python": "cpython-00"}))
    elif change == "no record":
        stamp.unlink()
    else:
        (tmp_path / f"{_native.LIBRARY}{SUFFIX}").unlink()
    got = _import_in(tmp_path)
    assert got["active"] is False
    files = got["files"]
    assert isinstance(files, dict)
    assert all(str(f) == str(package / f"{n}.py") for n, f in files.items()), files
    assert got["warnings"] == [f"fcstream runs its Python sources: {got['reason']}"]


def test_no_msgspec_struct_is_defined_in_a_compiled_module() -> None:
    """mypyc stores a class body's annotations as runtime classes (``str | None`` becomes
    ``type``), and msgspec reads field types from them: a Struct defined in a compiled module
    would decode wrongly. The Structs live in the ``_wire_*`` and ``_frames`` modules."""
    import importlib

    import msgspec

    defined = [
        f"{name}.{attr}"
        for name in _native.COMPILED
        for attr, value in vars(importlib.import_module(f"fcstream.{name}")).items()
        if isinstance(value, type) and issubclass(value, msgspec.Struct)
        and value.__module__ == f"fcstream.{name}"
    ]
    assert defined == []


def test_the_benchmark_times_the_sources_beside_the_compiled_modules() -> None:
    """The corpus tables' sources row: a second copy of the package, every module from its
    ``.py`` file, rebuilding the same calls (or, without a build in use, not there and why)."""
    from benchmarks._candidates import Candidate, Missing
    from benchmarks._pure import fcstream_pure
    from benchmarks._workloads import make_stream

    row = fcstream_pure()
    if not _native.ACTIVE:
        assert isinstance(row, Missing)
        assert "runs its sources here" in row.reason
        return
    assert isinstance(row, Candidate)
    assert row.calls is not None
    sources = sys.modules["fcstream_pure"]
    assert all(sys.modules[f"fcstream_pure.{n}"].__file__.endswith(".py")  # type: ignore[union-attr]
               for n in _native.COMPILED)
    assert sources.StreamParser is not fcstream.StreamParser
    for path in sorted((PACKAGE.parent / "fixtures" / "streams").glob("*.sse")):
        stream = make_stream(path.name, path.read_bytes())
        parser = fcstream.StreamParser()
        parser.feed(stream.data)
        parser.finish()
        expected = [(c.choice, c.index, c.name, c.arguments) for c in parser.calls]
        assert row.calls(row.run(stream)) == expected, path.name


@pytest.mark.parametrize(
    "kwargs", [{"strict": 1}, {"max_event_bytes": 1.5}, {"api": None}, {"api": b"chat"}],
    ids=["strict=1", "max_event_bytes=1.5", "api=None", "api=bytes"],
)
def test_an_argument_of_the_wrong_type_is_a_type_error_compiled_or_not(
        kwargs: dict[str, object]) -> None:
    """The compiled classes check their arguments' types on the way in; the sources check the
    same ones, so a caller's mistake fails the same way whichever runs."""
    with pytest.raises(TypeError):
        fcstream.StreamParser(**kwargs)  # type: ignore[arg-type]
    if "max_event_bytes" in kwargs:
        with pytest.raises(TypeError):
            fcstream.SSEFramer(max_event_bytes=kwargs["max_event_bytes"])  # type: ignore[arg-type]


def test_feed_event_takes_any_bytes_like_payload_compiled_or_not() -> None:
    """``bytes(data)`` reads every buffer; the compiled method's declared type must let them
    in too."""
    payload = b'{"choices":[{"index":0,"delta":{"content":"hi"}}]}'
    for data in (payload, bytearray(payload), memoryview(payload), payload.decode()):
        events = fcstream.StreamParser().feed_event(None, data)
        assert [type(e).__name__ for e in events] == ["StreamStarted", "TextDelta"], type(data)


_STREAMS = sorted((PACKAGE.parent / "fixtures").rglob("*.sse"))


def _replay(module: object, data: bytes, cuts: list[int], api: str, strict: bool
            ) -> tuple[str, str]:
    """Everything a parser of ``module`` says about ``data`` fed in pieces, as text (the two
    builds' classes are distinct, their reprs are not)."""
    parser = module.StreamParser(api, strict=strict)  # type: ignore[attr-defined]
    error = module.FcstreamError  # type: ignore[attr-defined]
    out: list[object] = []
    for piece in split_at(data, cuts):
        try:
            out += parser.feed(piece)
        except error as exc:
            out.append(("raised", type(exc).__name__, str(exc)))
    try:
        out += parser.finish()
    except error as exc:
        out.append(("raised", type(exc).__name__, str(exc)))
    return repr(out), repr(parser.calls)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_modules_and_their_sources_say_the_same(data: st.DataObject) -> None:
    """Every fixture, cut anywhere, strict or lenient, any API: the compiled build and the
    sources (loaded again beside it) give the same events, errors and calls."""
    if not _native.ACTIVE:
        pytest.skip(f"no compiled build in use to compare with ({_native.REASON})")
    from benchmarks._pure import load_sources

    path = data.draw(st.sampled_from(_STREAMS), label="stream")
    raw = path.read_bytes()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=4), label="cuts"))
    api = data.draw(st.sampled_from(["auto", "chat", "responses"]), label="api")
    strict = data.draw(st.booleans(), label="strict")
    assert _replay(fcstream, raw, cuts, api, strict) == _replay(
        load_sources(), raw, cuts, api, strict)
