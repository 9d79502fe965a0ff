"""The ``fcstream`` command line: ``calls``, ``sse`` and the doors to serve/record/bench.

Expected call values are derived here from the recordings with plain ``json`` (a tiny reference
reading of the wire, independent of fcstream), then compared with ``calls --json``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from fcstream import _cli
from fcstream._cli import main

from .conftest import CORPUS, REPO

CHAT_FILES = ("chat-parallel-tool-calls-01.sse", "chat-tool-call-finish-stop-01.sse")
RESPONSES_FILE = CORPUS / "mirascope" / "mirascope-responses-call-with-tools-gpt4o-async-03.sse"
KEYS = ["api", "choice", "index", "call_id", "name", "arguments", "final", "complete"]


def _payloads(data: bytes) -> list[tuple[str, bytes]]:
    """(event type, data) per SSE block, for recordings with LF line ends and one data line."""
    out = []
    for block in data.split(b"\n\n"):
        event, payload = "message", None
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                event = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                payload = line[5:].removeprefix(b" ")
        if payload is not None:
            out.append((event, payload))
    return out


def expected_chat(path: Path) -> list[dict[str, Any]]:
    """Reference reading: a call is final at the next call of its choice, the choice's
    finish_reason, or [DONE] (the event number where that happened)."""
    calls: dict[tuple[int, int], dict[str, Any]] = {}
    open_call: dict[int, tuple[int, int]] = {}
    for n, (_, raw) in enumerate(_payloads(path.read_bytes())):
        if raw == b"[DONE]":
            for key in open_call.values():
                calls[key]["final"] = n
            open_call.clear()
            continue
        for choice in json.loads(raw)["choices"]:
            c = choice["index"]
            for frag in (choice.get("delta") or {}).get("tool_calls") or []:
                key = (c, frag["index"])
                if key not in calls:
                    if c in open_call:
                        calls[open_call[c]]["final"] = n
                    position = sum(1 for k in calls if k[0] == c)
                    calls[key] = {
                        "api": "chat", "choice": c, "index": position,
                        "call_id": frag["id"], "name": frag["function"]["name"],
                        "arguments": "", "final": None, "complete": True,
                    }  # fmt: skip
                    open_call[c] = key
                calls[key]["arguments"] += frag["function"].get("arguments") or ""
            if choice.get("finish_reason") and c in open_call:
                calls[open_call.pop(c)]["final"] = n
    return list(calls.values())


def expected_responses(path: Path) -> list[dict[str, Any]]:
    """Reference reading: final at function_call_arguments.done (the first finality signal)."""
    calls: dict[int, dict[str, Any]] = {}
    for n, (_, raw) in enumerate(_payloads(path.read_bytes())):
        event = json.loads(raw)
        kind = event["type"]
        if kind == "response.output_item.added" and event["item"]["type"] == "function_call":
            item = event["item"]
            calls[event["output_index"]] = {
                "api": "responses", "choice": 0, "index": len(calls),
                "call_id": item["call_id"], "name": item["name"], "arguments": "",
                "final": None, "complete": True,
            }  # fmt: skip
        elif kind == "response.function_call_arguments.done":
            call = calls[event["output_index"]]
            call["arguments"] = event["arguments"]
            if call["final"] is None:
                call["final"] = n
    return list(calls.values())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- calls ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHAT_FILES)
def test_calls_json_matches_reference_chat(capsys: pytest.CaptureFixture[str], name: str) -> None:
    path = CORPUS / "openai-python" / name
    status, out, err = run(capsys, "calls", "--json", str(path))
    assert status == 0, err
    records = json_lines(out)
    assert records == expected_chat(path)
    assert records
    assert all(list(r) == KEYS for r in records)


def test_calls_json_matches_reference_responses(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "calls", "--json", str(RESPONSES_FILE))
    assert status == 0, err
    records = json_lines(out)
    assert records == expected_responses(RESPONSES_FILE)
    assert len(records) == 2
    assert all(list(r) == KEYS for r in records)


def test_calls_json_several_files_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    chat = CORPUS / "openai-python" / CHAT_FILES[0]
    status, out, _ = run(capsys, "calls", "--json", str(chat), str(RESPONSES_FILE))
    assert status == 0
    assert json_lines(out) == expected_chat(chat) + expected_responses(RESPONSES_FILE)


def test_calls_api_forced(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "calls", "--json", "--api", "responses", str(RESPONSES_FILE))
    assert status == 0
    assert [r["api"] for r in json_lines(out)] == ["responses", "responses"]


def test_calls_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = CORPUS / "openai-python" / CHAT_FILES[0]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    status, out, _ = run(capsys, "calls", "--json", "-")
    assert status == 0
    assert json_lines(out) == expected_chat(path)


def test_calls_table(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "openai-python" / CHAT_FILES[0]
    status, out, err = run(capsys, "calls", str(path))
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == [
        "FILE", "CHOICE", "INDEX", "NAME", "CALL", "ID", "ARGUMENTS", "FINAL", "STATUS"
    ]  # fmt: skip
    for ref in expected_chat(path):
        row = next(line for line in lines if ref["call_id"] in line)
        assert ref["name"] in row
        assert f"event {ref['final']}" in row
        assert row.rstrip().endswith("final")
    summary = lines[-1]
    assert summary.startswith(str(path))
    assert "done, complete" in summary
    assert "0=tool_calls" in summary


def test_truncated_stream_exit_1_and_still_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = (CORPUS / "openai-python" / CHAT_FILES[0]).read_bytes()
    cut = tmp_path / "cut.sse"
    cut.write_bytes(data[: len(data) // 2])
    status, out, err = run(capsys, "calls", "--json", str(cut))
    assert status == 1
    records = json_lines(out)
    assert records
    assert records[-1]["complete"] is False
    assert records[-1]["final"] is None
    assert "truncated" in err  # the stream summary goes to stderr in JSON mode

    status, out, _ = run(capsys, "calls", str(cut))
    assert status == 1
    assert "incomplete (truncated)" in out
    assert "INCOMPLETE" in out


BAD_PAYLOAD = (
    b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a",'
    b'"function":{"name":"f","arguments":"{}"}}]}}]}\n\n'
    b"data: {not json\n\n"
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\n'
    b"data: [DONE]\n\n"
)


def test_bad_payload_reported_with_fields(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.sse"
    path.write_bytes(BAD_PAYLOAD)
    status, out, err = run(capsys, "calls", "--json", str(path))
    assert status == 1  # an error was carried
    assert json_lines(out) == [
        {"api": "chat", "choice": 0, "index": 0, "call_id": "a", "name": "f",
         "arguments": "{}", "final": 2, "complete": True},
    ]  # fmt: skip  # every call is still printed
    assert "PayloadError" in err
    assert "event_index=1" in err
    assert "byte_offset=" in err

    status, out, err = run(capsys, "calls", "--json", "--lenient", str(path))
    assert status == 0  # lenient: the skipped payload is reported, not fatal
    assert "PayloadError" in err
    assert len(json_lines(out)) == 1


def test_provider_error_fails_even_lenient(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "err.sse"
    path.write_bytes(b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n')
    status, _, err = run(capsys, "calls", "--lenient", str(path))
    assert status == 1
    assert "ProviderError" in err


def test_missing_file_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "calls", str(tmp_path / "nope.sse"))
    assert status == 2
    assert out == ""
    assert "cannot read" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["calls", "--bogus", "x.sse"],
        ["calls"],
        ["calls", "--api", "soap", "x.sse"],
        ["sse"],
        [],
        ["nonsense"],
        ["demo", "--pace", "-3"],
        ["demo", "--pace", "fast"],
        ["serve", "x.sse", "--port", "70000"],
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert "usage:" in err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("calls", "sse", "demo", "serve", "record", "bench"):
        assert command in out
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.startswith("fcstream ")


# -- sse ------------------------------------------------------------------------------------

HAND_WRITTEN = (
    b": a comment first\r\n"
    b"id: 1\r\n"
    b"retry: 1500\r\n"
    b"event: ping\r\n"
    b"data: a\r\n"
    b"data: b\r\n"
    b"\r\n"
    b": keep-alive\r\n"
    b"data:second\r\n"
    b"\r\n"
    b"id\r\n"  # an id field without a value resets the last-event-ID buffer
    b"retry: soon\r\n"  # not all digits: ignored
    b"event: update\r\n"
    b"data: caf\xc3\xa9 \xff\r\n"
    b"\r\n"
    b"event: lonely\r\n"  # no data: never dispatched
    b"\r\n"
)


def test_sse_hand_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "hand.sse"
    path.write_bytes(HAND_WRITTEN)
    status, out, err = run(capsys, "sse", str(path))
    assert status == 0, err
    assert json_lines(out) == [
        {"event": "ping", "data": "a\nb", "id": "1", "retry": 1500},
        {"event": "message", "data": "second", "id": "1", "retry": 1500},
        {"event": "update", "data": "café \ufffd", "id": "", "retry": 1500},
    ]
    assert all(list(r) == ["event", "data", "id", "retry"] for r in json_lines(out))


def test_sse_truncated_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "cut.sse"
    path.write_bytes(b"data: one\n\ndata: two")
    status, out, err = run(capsys, "sse", str(path))
    assert status == 1
    assert json_lines(out) == [{"event": "message", "data": "one", "id": "", "retry": None}]
    assert "byte 11" in err


def test_sse_trailing_comment_is_not_truncation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "tail.sse"
    path.write_bytes(b"data: one\n\n: bye")
    status, _, _ = run(capsys, "sse", str(path))
    assert status == 0


def test_sse_stdin_and_missing_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"data: x\n\n")))
    status, out, _ = run(capsys, "sse", "-")
    assert status == 0
    assert json_lines(out) == [{"event": "message", "data": "x", "id": "", "retry": None}]
    status, _, err = run(capsys, "sse", str(tmp_path / "missing.sse"))
    assert status == 2
    assert "cannot read" in err


# -- serve, record, bench: argument plumbing (the modules behind them are tested elsewhere) --


def test_serve_passes_arguments(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    def serve_forever(files: list[Path], **kwargs: Any) -> int:
        seen.update(files=files, **kwargs)
        return 0

    fake = types.ModuleType("fcstream._server")
    fake.serve_forever = serve_forever  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fcstream._server", fake)
    rec = tmp_path / "a.sse"
    rec.write_bytes(b"data: [DONE]\n\n")
    assert main(["serve", str(rec), "--port", "8765", "--pace", "12.5"]) == 0
    assert seen == {"files": [rec], "host": "127.0.0.1", "port": 8765, "pace_ms": 12.5}
    assert main(["serve", str(rec), "--host", "::1", "--pace", "none"]) == 0
    assert seen == {"files": [rec], "host": "::1", "port": 0, "pace_ms": None}


def test_record_passes_arguments(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}
    fake = types.ModuleType("fcstream._record")

    def record(**kwargs: Any) -> int:
        seen.update(kwargs)
        return 1

    fake.record = record  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fcstream._record", fake)
    body = tmp_path / "body.json"
    body.write_text("{}")
    argv = ["record", "--api", "chat", "--url", "http://x/v1", "--body", str(body), "-o", "o.sse"]
    assert main(argv) == 1  # its status is passed on
    assert seen == {"api": "chat", "url": "http://x/v1", "body": body, "out": Path("o.sse")}


def test_bench_runs_script_with_arguments(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "run.py").write_text(
        "import sys\nprint('ARGS', sys.argv[1:])\nsys.exit(3 if '--fail' in sys.argv else 0)\n"
    )
    monkeypatch.setattr(_cli, "_repo_root", lambda: tmp_path)
    argv_before = list(sys.argv)
    status, out, _ = run(capsys, "bench", "--quick", "-n", "2")
    assert status == 0
    assert "ARGS ['--quick', '-n', '2']" in out
    assert sys.argv == argv_before
    status, _, _ = run(capsys, "bench", "--fail")
    assert status == 3
    monkeypatch.setattr(_cli, "_repo_root", lambda: tmp_path / "elsewhere")
    status, _, err = run(capsys, "bench")
    assert status == 2
    assert "benchmarks not found" in err


# -- the entry point ------------------------------------------------------------------------


def test_python_dash_m_entry_point() -> None:
    path = CORPUS / "openai-python" / CHAT_FILES[0]
    proc = subprocess.run(
        [sys.executable, "-m", "fcstream", "calls", "--json", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json_lines(proc.stdout) == expected_chat(path)
    proc = subprocess.run(
        [sys.executable, "-m", "fcstream", "calls", "/nonexistent/file.sse"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
