"""Every Python example in the README runs, against the replay server, as a user would paste it.

The examples use a few free names (``url``, ``body``, ``headers``...) that the README explains;
here they point at a loopback ``ReplayServer`` serving a bundled recording with three calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from typing import Any

import pytest

import fcstream

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
RECORDING = REPO / "fixtures" / "streams" / "chat-parallel-3.sse"
NAMES = ("get_weather", "search_docs", "get_stock_price")


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.fixture(scope="module")
def server() -> Any:
    with fcstream.ReplayServer([RECORDING]) as srv:
        yield srv


def namespace(server: Any) -> dict[str, Any]:
    data = RECORDING.read_bytes()
    return {
        "url": f"{server.base_url}/chat/completions",
        "base_url": server.base_url,
        "api_key": "sk-test",
        "headers": {"Authorization": "Bearer sk-test"},
        "body": {"model": RECORDING.stem, "stream": True, "messages": []},
        "model": RECORDING.stem,
        "messages": [{"role": "user", "content": "weather, docs and NVDA please"}],
        "tools": [],
        "chunks": [data[i : i + 1000] for i in range(0, len(data), 1000)],
        "stream_bytes": data,
    }


def test_every_example_runs(server: Any) -> None:
    scope = namespace(server)
    for number, block in enumerate(BLOCKS):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, f"README block {number}", "exec"), scope)
            main = scope.pop("main", None)
            if main is not None:
                asyncio.run(main())
        text = printed.getvalue()
        if "print(" in block and ("call" in block or "event" in block):
            for name in NAMES:  # the examples that print calls show all three
                assert name in text, (number, block, text)


def test_event_streams_pass_through_the_helpers(server: Any) -> None:
    import httpx

    scope = namespace(server)
    with httpx.Client() as http, fcstream.stream(
        http, "POST", scope["url"], json=scope["body"]
    ) as events:
        result = fcstream.collect(events)
    assert [c.name for c in result.calls] == list(NAMES)
    assert result.complete
    assert result.events == RECORDING.read_bytes().count(b"\n\n")
