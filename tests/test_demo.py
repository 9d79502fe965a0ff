"""``fcstream demo``: runs on the bundled recordings, JSON lines with sane recorded orderings.

Times are never asserted beyond the order of recorded moments (a call is ready before its
stream ends when the stream's structure finished it earlier; a tool is done after its call was
ready). ``--pace 0`` makes the replay and the example tools' latency instant.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from fcstream import HTTPStatusError, _demo
from fcstream._cli import main
from fcstream._demo import find_recordings, recordings_dir, use_color

from .conftest import REPO

CALL_KEYS = ["kind", "stream", "api", "call_id", "name", "ready_s", "handler_done_s"]
STREAM_KEYS = ["kind", "stream", "api", "end_s"]


def demo_json(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, Any]]:
    status = main(["demo", "--json", "--pace", "0", *extra])
    out = capsys.readouterr().out
    assert status == 0
    return [json.loads(line) for line in out.splitlines()]


def test_bundled_recordings_exist() -> None:
    paths = find_recordings(recordings_dir())
    assert [p.stem for p in paths] == list(_demo.PREFERRED)


def test_demo_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    records = demo_json(capsys)
    streams = [r for r in records if r["kind"] == "stream"]
    calls = [r for r in records if r["kind"] == "call"]
    assert [s["stream"] for s in streams] == list(_demo.PREFERRED)
    assert {s["stream"]: s["api"] for s in streams} == {
        "chat-parallel-3": "chat",
        "responses-parallel-3": "responses",
        "chat-single": "chat",
        "responses-single": "responses",
    }
    assert all(list(s) == STREAM_KEYS for s in streams)
    assert all(list(c) == CALL_KEYS for c in calls)
    assert len(calls) == 8
    end = {s["stream"]: s["end_s"] for s in streams}
    for call in calls:
        assert call["api"] == ("responses" if call["stream"].startswith("responses") else "chat")
        assert isinstance(call["call_id"], str)
        assert call["name"] in _demo.TOOLS
        # every bundled call is finished by the stream's structure before its end marker
        assert 0 <= call["ready_s"] <= end[call["stream"]]
        assert call["handler_done_s"] >= call["ready_s"]
    # the calls of a stream come before the stream's line, in the order they became ready
    for s in streams:
        mine = [c for c in calls if c["stream"] == s["stream"]]
        assert [c["ready_s"] for c in mine] == sorted(c["ready_s"] for c in mine)
        assert records.index(mine[-1]) < records.index(s)


def test_demo_text_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--pace", "0", "--no-color"])
    out = capsys.readouterr().out
    assert status == 0
    assert "\x1b[" not in out
    for name in _demo.PREFERRED:
        assert name in out
    assert len(re.findall(r"event +\d+  ready  ", out)) == 8
    assert len(re.findall(r" s +done  ", out)) == 8
    assert "[DONE]" in out
    assert "response.completed" in out
    assert "Time saved" in out


def test_demo_slow_pace_keeps_order(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # one small recording at a real (small) pace: the timeline is in time order
    single = recordings_dir() / "chat-single.sse"
    (tmp_path / "chat-single.sse").write_bytes(single.read_bytes())
    out = io.StringIO()
    status = _demo.run_demo(
        json_mode=True, pace_ms=2, color=False, out=out, err=io.StringIO(), directory=tmp_path
    )
    assert status == 0
    call, stream = (json.loads(line) for line in out.getvalue().splitlines())
    assert call["ready_s"] <= stream["end_s"]
    assert call["handler_done_s"] >= call["ready_s"]


def test_demo_missing_recordings_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_demo, "recordings_dir", lambda: tmp_path / "nowhere")
    assert main(["demo", "--pace", "0"]) == 2
    assert "no recordings found" in capsys.readouterr().err


def test_incomplete_recording_exit_1(tmp_path: Path) -> None:
    data = (recordings_dir() / "chat-parallel-3.sse").read_bytes()
    (tmp_path / "cut.sse").write_bytes(data[: len(data) // 2])
    out = io.StringIO()
    status = _demo.run_demo(
        json_mode=False, pace_ms=0, color=False, out=out, err=io.StringIO(), directory=tmp_path
    )
    assert status == 1
    assert "not run" in out.getvalue()  # the cut call is shown, never handed to a tool


def test_event_chunks_follow_recorded_boundaries() -> None:
    data = b": hi\n\ndata: 1\n\nevent: x\ndata: 2\r\n\r\ndata: 3"
    chunks = _demo._event_chunks(data)
    assert b"".join(chunks) == data
    assert chunks == [b": hi\n\ndata: 1\n\n", b"event: x\ndata: 2\r\n\r\n", b"data: 3"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(_Tty())
    assert not use_color(io.StringIO())
    assert not use_color(_Tty(), disabled=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Tty())


def test_demo_entry_point_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fcstream", "demo", "--json", "--pace", "0"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    kinds = [json.loads(line)["kind"] for line in proc.stdout.splitlines()]
    assert kinds.count("stream") == 4
    assert kinds.count("call") == 8


def test_demo_goes_over_loopback_http(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--pace", "0", "--no-color"]) == 0
    assert "loopback HTTP (http://127.0.0.1:" in capsys.readouterr().out


def test_demo_falls_back_in_process_without_sockets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fcstream import _server

    def no_sockets(*args: object, **kwargs: object) -> None:
        raise PermissionError("socket creation refused")

    monkeypatch.setattr(_server, "ReplayServer", no_sockets)
    assert main(["demo", "--pace", "0", "--no-color"]) == 0
    captured = capsys.readouterr()
    assert "replaying in-process instead" in captured.err
    assert "replayed in-process" in captured.out
    assert len(re.findall(r"event +\d+  ready  ", captured.out)) == 8


class _Failing:
    description = "a transport whose request fails"

    def open(self, path: Path) -> Any:
        raise HTTPStatusError(
            "not a stream", status_code=502, content_type="text/html", body_excerpt="<html>"
        )


def test_failed_request_is_reported(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    view = _demo.JsonView(out, err)
    with ThreadPoolExecutor(1) as pool:
        run = _demo.run_stream(recordings_dir() / "chat-single.sse", _Failing(), pool, view, 0)
    assert run.calls == []
    assert [type(e).__name__ for e in run.errors] == ["HTTPStatusError"]
    assert "HTTPStatusError" in err.getvalue()
    record = json.loads(out.getvalue())
    assert record == {"kind": "stream", "stream": "chat-single", "api": "chat", "end_s": ANY}
    assert record["end_s"] == pytest.approx(run.end_s, abs=1e-5)


def test_dropped_connection_mid_stream(tmp_path: Path) -> None:
    import httpx

    from fcstream._server import Fault, ReplayServer

    path = recordings_dir() / "chat-parallel-3.sse"
    out = io.StringIO()
    faults = {"chat-parallel-3": Fault("drop")}
    with (
        ThreadPoolExecutor(2) as pool,
        ReplayServer([path], faults=faults) as server,
        httpx.Client(trust_env=False) as client,
    ):
        transport = _demo.HttpTransport(client, server.base_url, 0)
        run = _demo.run_stream(path, transport, pool, _demo.TextView(out, color=False), 0)
    assert [type(e).__name__ for e in run.errors] == ["IncompleteStreamError"]
    assert run.end is not None
    assert not run.end.complete
    ready = [c for c in run.calls if c.ready_s is not None]
    cut = [c for c in run.calls if c.ready_s is None]
    assert ready  # calls finished before the drop still ran
    assert all(c.handler_done_s is not None for c in ready)
    assert len(cut) == 1  # the call open at the drop is shown, never run
    assert cut[0].handler_done_s is None
    assert "not run" in out.getvalue()
