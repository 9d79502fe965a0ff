"""The ``floor + typed events`` benchmark reference rebuilds the calls fcstream rebuilds.

Its time is only a lower bound for event-producing parsers if it does that work: on every chat
recording and on the bundled Responses streams (no quirks: it reads none) it must finish the same
calls, with the same names and arguments, and hand out one event per text piece.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from benchmarks._candidates import _fcstream_whole, fcstream_calls  # noqa: E402
from benchmarks._lean import lean_calls, lean_chat, lean_responses  # noqa: E402
from benchmarks._workloads import CORPUS, corpus, make_stream  # noqa: E402
from fcstream import StreamParser, TextDelta  # noqa: E402


def _chat_streams() -> list:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return list(corpus("chat").streams)


@pytest.mark.parametrize("stream", _chat_streams(), ids=lambda s: s.name)
def test_lean_chat_rebuilds_fcstreams_calls_and_texts(stream) -> None:
    events = lean_chat(stream)
    assert lean_calls(events) == fcstream_calls(_fcstream_whole(stream))
    parser = StreamParser()
    expected = [*parser.feed(stream.data), *parser.finish()]
    texts = [(e.choice, e.text) for e in events if isinstance(e, TextDelta)]
    assert texts == [(e.choice, e.text) for e in expected if isinstance(e, TextDelta)]


@pytest.mark.parametrize("name", ["responses-single.sse", "responses-parallel-3.sse"])
def test_lean_responses_rebuilds_fcstreams_calls(name: str) -> None:
    stream = make_stream(name, (ROOT / "fixtures" / "streams" / name).read_bytes())
    calls = lean_calls(lean_responses(stream))
    assert calls
    assert calls == fcstream_calls(_fcstream_whole(stream))


def test_reference_benchmark_prints_every_row(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.bench_reference import ROWS, main

    main(rounds=1)
    printed = capsys.readouterr().out
    for rows in ROWS.values():
        for name in rows:
            assert f"  {name} " in printed
    assert printed.count("fcstream / floor + typed events:") == len(ROWS)
