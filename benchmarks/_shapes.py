"""The recorded corpus rewritten in the other framings servers use (``../shared/quirks.md``:
S01 CRLF, S03 ``id:``/``event:`` fields, S04 ``data:`` without its space, S02 comments), timed
for fcstream only: the same events and calls, so the time per event shows which shapes the
framer's fast split takes and what the others cost. The floor and the peers read only the
shape the corpus was recorded in, so they are not compared here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import count
from typing import Any

from ._candidates import Candidate, Missing, candidates
from ._measure import Progress, time_workload
from ._timing import Settings
from ._workloads import Api, Workload, corpus, make_stream

__all__ = ["SHAPES", "reshape", "shapes"]

_BLOCK = re.compile(rb"(?m)^(?=data:)")  # where each block's data line starts (LF corpus)


def _numbered(data: bytes) -> bytes:
    number = count(1)
    return _BLOCK.sub(lambda _: b"id: %d\n" % next(number), data)


_PAYLOAD_END = re.compile(rb"(?m)^(data: ?\{.*)\}$")  # a JSON payload's last brace


def _padded(data: bytes) -> bytes:
    """OpenAI's ``obfuscation`` padding (sent by default) on every JSON
    payload: letters and digits, a different length each time, as the live API sends them."""
    number = count(1)
    return _PAYLOAD_END.sub(
        lambda m: m[1] + b',"obfuscation":"%s"}' % (b"Xy7"[: 1 + next(number) % 3] * 3), data)


SHAPES: dict[str, tuple[Callable[[bytes], bytes], tuple[Api, ...]]] = {
    "as recorded (LF, `data: `)": (lambda d: d, ("chat", "responses")),
    "CRLF line ends (S01)": (
        lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), ("chat", "responses")),
    "`data:` without its space (S04)": (
        lambda d: re.sub(rb"(?m)^data: ", b"data:", d), ("chat", "responses")),
    "`event: message` on every event (S03)": (
        lambda d: _BLOCK.sub(b"event: message\n", d), ("chat",)),
    "`id: N` on every event (S03)": (_numbered, ("chat",)),
    "OpenAI's `obfuscation` padding on every chunk": (_padded, ("chat",)),
    "a `: keep-alive` comment before every event (S02, worst case)": (
        lambda d: d.replace(b"\n\n", b"\n\n: keep-alive\n"), ("chat", "responses")),
}
"""Each shape: how a recorded (LF-only) stream is rewritten, and the APIs it applies to
(Responses blocks already carry ``event:`` lines)."""


def reshape(workload: Workload, name: str) -> Workload:
    rewrite, _ = SHAPES[name]
    streams = tuple(make_stream(s.name, rewrite(s.data)) for s in workload.streams)
    return Workload(f"{workload.api}: {name}", workload.api, streams)


def shapes(settings: Settings, progress: Progress) -> list[dict[str, Any]]:
    out = []
    for api in ("chat", "responses"):
        base = corpus(api)
        if not base.streams:
            continue
        progress(f"shapes: the {api} corpus in other framings")
        fc: list[Candidate | Missing] = [
            c for c in candidates(api) if isinstance(c, Candidate) and c.name.startswith("fcstream")
        ]
        for name, (_, apis) in SHAPES.items():
            if api not in apis:
                continue
            result = time_workload(reshape(base, name), settings, fc, progress)
            result["shape"] = name
            out.append(result)
    return out
