"""run_calls / arun_calls: start on finality, results in call order, nothing lost, the guard.

No timing is asserted: ordering is proven with events and logs (a handler unblocks the stream).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import msgspec
import pytest

import fcstream
from fcstream import (
    CallDone,
    CallIncomplete,
    ChoiceDone,
    DispatchError,
    DispatchResult,
    Event,
    StreamDone,
    StreamStarted,
    Tool,
    ToolCall,
    UsageError,
    aiter_events,
    arun_calls,
    iter_events,
    next_turn_chat,
    next_turn_responses,
    run_calls,
)

WAIT = 10.0  # seconds: only a deadlock guard, never a measurement

# -- chat SSE written by hand ---------------------------------------------------------------------


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, choice: int = 0) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": choice, "delta": delta or {}, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def start(i: int, name: str, args: str = "", choice: int = 0) -> bytes:
    return chunk(
        {
            "tool_calls": [
                {
                    "index": i,
                    "id": f"call_{choice}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": args},
                }
            ]
        },
        choice=choice,
    )


def more(i: int, args: str, choice: int = 0) -> bytes:
    return chunk({"tool_calls": [{"index": i, "function": {"arguments": args}}]}, choice=choice)


DONE = b"data: [DONE]\n\n"


def stream(
    *calls: tuple[str, str], finish: str | None = "tool_calls", done: bool = True
) -> list[bytes]:
    """Chunks for calls (name, arguments) streamed one after another, each in two pieces."""
    out = [chunk({"role": "assistant"})]
    for i, (name, args) in enumerate(calls):
        cut = len(args) // 2
        out += [start(i, name, args[:cut]), more(i, args[cut:])]
    if finish is not None:
        out.append(chunk(finish=finish))
    if done:
        out.append(DONE)
    return out


def echo(call: ToolCall) -> Any:
    return call.json()


async def aecho(call: ToolCall) -> Any:
    await asyncio.sleep(0)
    return call.json()


def by_key(result: DispatchResult) -> list[tuple[int, int]]:
    return [(c.choice, c.index) for c in result.calls]


# -- the controlled stream: a handler starts before the next call has arrived ------------------


def test_handler_for_call_0_starts_before_call_1_has_arrived() -> None:
    log: list[str] = []
    started = threading.Event()

    def handler(call: ToolCall) -> str:
        log.append(f"start {call.index}")
        if call.index == 0:
            started.set()
        return "ok"

    def source() -> Iterator[bytes]:
        yield chunk({"role": "assistant"})
        yield start(0, "f", '{"a": ')
        yield more(0, "1}")
        yield start(1, "f", '{"a": ')  # call 1 starts: call 0 is final now
        log.append("waiting for call 0's handler")
        assert started.wait(WAIT), "call 0's handler never started while call 1 was open"
        log.append("feeding the rest of call 1")
        yield more(1, "2}")
        yield chunk(finish="tool_calls")
        yield DONE

    result = run_calls(iter_events(source()), {"f": handler}, when="final")
    assert log.index("start 0") < log.index("feeding the rest of call 1")
    assert log[-1] == "start 1"
    assert [o.status for o in result.outcomes] == ["ok", "ok"]
    assert [c.arguments for c in result.calls] == ['{"a": 1}', '{"a": 2}']


async def test_async_handler_for_call_0_starts_before_call_1_has_arrived() -> None:
    log: list[str] = []
    started = asyncio.Event()

    async def handler(call: ToolCall) -> str:
        log.append(f"start {call.index}")
        if call.index == 0:
            started.set()
        return "ok"

    async def source() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant"})
        yield start(0, "f", '{"a": 1}')
        yield start(1, "f", '{"a": ')
        await asyncio.wait_for(started.wait(), WAIT)
        log.append("feeding the rest of call 1")
        yield more(1, "2}")
        yield chunk(finish="tool_calls")
        yield DONE

    result = await arun_calls(aiter_events(source()), {"f": handler})
    assert log == ["start 0", "feeding the rest of call 1", "start 1"]
    assert result.items == [c.result("ok") for c in result.calls]


async def test_async_sync_handler_starts_early_too() -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    def handler(call: ToolCall) -> int:  # runs in a worker thread
        if call.index == 0:
            loop.call_soon_threadsafe(started.set)
        return call.index

    async def source() -> AsyncIterator[bytes]:
        yield start(0, "f", "{}")
        yield start(1, "f", "{")
        await asyncio.wait_for(started.wait(), WAIT)
        yield more(1, "}")
        yield chunk(finish="tool_calls")
        yield DONE

    result = await arun_calls(aiter_events(source()), {"f": handler})
    assert [o.value for o in result.outcomes] == [0, 1]


# -- order, limit, failures ------------------------------------------------------------------------


def test_results_come_back_in_call_order_whatever_finishes_first() -> None:
    second_done = threading.Event()

    def slow_first(call: ToolCall) -> str:
        if call.index == 0:
            assert second_done.wait(WAIT)
        else:
            second_done.set()
        return f"r{call.index}"

    result = run_calls(iter_events(stream(("f", "{}"), ("f", "{}"))), {"f": slow_first})
    assert [o.item["content"] for o in result.outcomes] == ["r0", "r1"]
    assert by_key(result) == [(0, 0), (0, 1)]


def test_concurrency_limit_is_kept() -> None:
    lock = threading.Lock()
    active = peak = 0
    barrier = threading.Barrier(2, timeout=WAIT)  # proves two really run at once

    def handler(call: ToolCall) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            if call.index < 2:
                barrier.wait()
        finally:
            with lock:
                active -= 1

    calls = [("f", "{}")] * 6
    result = run_calls(iter_events(stream(*calls)), {"f": handler}, max_concurrency=2)
    assert [o.status for o in result.outcomes] == ["ok"] * 6
    assert peak <= 2


async def test_async_concurrency_limit_is_kept() -> None:
    active = peak = 0
    both = asyncio.Barrier(2)

    async def handler(call: ToolCall) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        if call.index < 2:
            await asyncio.wait_for(both.wait(), WAIT)
        await asyncio.sleep(0)
        active -= 1

    calls = [("f", "{}")] * 6
    result = await arun_calls(iter_events(stream(*calls)), {"f": handler}, max_concurrency=2)
    assert [o.status for o in result.outcomes] == ["ok"] * 6
    assert peak == 2


def test_handler_exception_becomes_an_error_result() -> None:
    def boom(call: ToolCall) -> str:
        raise ValueError("city not found")

    result = run_calls(
        iter_events(stream(("f", '{"a": 1}'), ("boom", "{}"), ("f", "{}"))),
        {"f": echo, "boom": boom},
    )
    statuses = [o.status for o in result.outcomes]
    assert statuses == ["ok", "error", "ok"]
    failed = result.outcomes[1]
    assert isinstance(failed.error, ValueError)
    assert failed.item == {
        "role": "tool",
        "tool_call_id": "call_0_1",
        "content": "Error: the tool raised ValueError: city not found",
    }
    assert result.items[0]["content"] == '{"a":1}'
    assert result.ran == result.calls


def test_invalid_arguments_and_unknown_tools_become_error_results() -> None:
    def params(city: str, days: int = 1) -> str:
        return f"{city}{days}"

    handlers: dict[str, Any] = {"plain": echo, "params": Tool.from_function(params)}
    result = run_calls(
        iter_events(
            stream(
                ("plain", '{"a": '),  # not JSON
                ("nope", "{}"),  # no such tool
                ("params", '{"city": 1}'),  # does not fit the type
                ("params", '{"city": "x"} {"city": "y"}'),  # two values
                ("params", '{"city": "Rome", "days": 2}'),
            )
        ),
        handlers,
    )
    assert [o.status for o in result.outcomes] == ["invalid"] * 4 + ["ok"]
    texts = [o.item["content"] for o in result.outcomes]
    assert texts[0].startswith("Error: the arguments are not valid JSON")
    assert texts[1] == "Error: there is no tool named 'nope'; the tools are: params, plain"
    assert "do not fit the parameters of 'params'" in texts[2]
    assert "`$.city`" in texts[2]
    assert "2 JSON values" in texts[3]
    assert texts[4] == "Rome2"
    assert result.ran == [result.calls[4]]


def test_unencodable_return_value_is_an_error_result() -> None:
    result = run_calls(iter_events(stream(("f", "{}"))), {"f": lambda call: object()})
    outcome = result.outcomes[0]
    assert outcome.status == "error"
    assert "could not be sent as JSON" in outcome.item["content"]


def test_tools_as_handlers_and_async_handlers_in_the_sync_runner() -> None:
    class Move(msgspec.Struct):
        x: int
        y: int

    moves: list[Move] = []
    tools = [Tool.from_struct(Move, fn=moves.append), Tool.from_function(aecho_tool)]
    result = run_calls(
        iter_events(stream(("Move", '{"x": 1, "y": 2}'), ("aecho_tool", '{"n": 3}'))), tools
    )
    assert moves == [Move(1, 2)]
    assert [o.value for o in result.outcomes] == [None, 6]
    mixed = run_calls(iter_events(stream(("a", "[1]"))), {"a": aecho})
    assert mixed.outcomes[0].value == [1]


async def aecho_tool(n: int) -> int:
    """Double n, asynchronously."""
    await asyncio.sleep(0)
    return n * 2


def test_n_choices_are_ordered_by_choice_then_index() -> None:
    chunks = [
        start(0, "f", "{}", choice=1),
        start(0, "f", "{}", choice=0),
        start(1, "f", "{}", choice=1),
        chunk(finish="tool_calls", choice=1),
        chunk(finish="tool_calls", choice=0),
        DONE,
    ]
    for when in ("final", "finished"):
        result = run_calls(iter_events(chunks), {"f": echo}, when=when)
        assert by_key(result) == [(0, 0), (1, 0), (1, 1)]
        assert all(o.status == "ok" for o in result.outcomes)


def test_items_in_another_api_shape() -> None:
    result = run_calls(iter_events(stream(("f", "{}"))), {"f": echo}, api="responses")
    assert result.items == [{"type": "function_call_output", "call_id": "call_0_0", "output": "{}"}]


def test_result_feeds_the_next_turn() -> None:
    chunks = [
        chunk({"role": "assistant", "content": "On it."}),
        *stream(("f", '{"a": 1}'), ("boom", "{}"))[1:],
    ]
    result = run_calls(iter_events(chunks), {"f": echo})  # "boom" is unknown
    messages = next_turn_chat(result.calls, result.items, assistant_text=result.stream.text)
    assert messages[0]["content"] == "On it."
    assert [m["tool_call_id"] for m in messages[1:]] == ["call_0_0", "call_0_1"]
    assert result.stream.finish_reasons == {0: "tool_calls"}
    assert result.stream.complete


# -- the side-effect guard -----------------------------------------------------------------------


def logged(chunks: Iterable[bytes], log: list[str]) -> Iterator[Event]:
    for event in iter_events(chunks):
        log.append(type(event).__name__)
        yield event


def test_finished_runs_after_the_choice_ended() -> None:
    log: list[str] = []

    def handler(call: ToolCall) -> None:
        log.append(f"run {call.index}")

    result = run_calls(
        logged(stream(("f", "{}"), ("f", "{}")), log),
        {"f": handler},
        when="finished",
        max_concurrency=1,
    )
    assert log.index("ChoiceDone") < log.index("run 0")
    assert [o.status for o in result.outcomes] == ["ok", "ok"]


def test_final_runs_before_the_choice_ended() -> None:
    log: list[str] = []
    ran = threading.Event()

    def handler(call: ToolCall) -> None:
        log.append(f"run {call.index}")
        ran.set()

    def waiting(events: Iterator[Event]) -> Iterator[Event]:
        for event in events:
            if isinstance(event, ChoiceDone):
                assert ran.wait(WAIT)
            yield event

    run_calls(waiting(logged(stream(("f", "{}"), ("f", "{}")), log)), {"f": handler})
    assert log.index("run 0") < log.index("ChoiceDone")


@pytest.mark.parametrize("finish", ["length", "content_filter"])
def test_cut_choice_runs_nothing_when_finished(finish: str) -> None:
    ran: list[int] = []
    chunks = [
        start(0, "f", '{"a": 1}'),
        start(1, "f", '{"query": "hist'),
        chunk(finish=finish),
        DONE,
    ]
    guarded = run_calls(iter_events(chunks), {"f": lambda c: ran.append(c.index)}, when="finished")
    assert ran == []
    assert [o.status for o in guarded.outcomes] == ["not_run", "not_run"]
    assert f"finish_reason '{finish}'" in guarded.items[0]["content"]
    assert guarded.items[1]["content"].startswith(
        f"Error: not run: the call was cut off ({finish})"
    )
    # every call still has a result: the turn is consistent
    next_turn_chat(guarded.calls, guarded.items)

    fast = run_calls(iter_events(chunks), {"f": lambda c: ran.append(c.index)}, when="final")
    assert ran == [0]  # call 0 was final before the cut: "final" ran it
    assert [o.status for o in fast.outcomes] == ["ok", "not_run"]
    assert not fast.stream.complete


def test_error_object_runs_nothing_when_finished() -> None:
    chunks = [
        start(0, "f", "{}"),
        start(1, "f", "{"),
        b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n',
    ]
    ran: list[int] = []
    result = run_calls(
        iter_events(chunks, strict=False), {"f": lambda c: ran.append(c.index)}, when="finished"
    )
    assert ran == []
    assert [o.status for o in result.outcomes] == ["not_run", "not_run"]
    assert "status 'error'" in result.items[0]["content"]
    assert "cut off (error)" in result.items[1]["content"]


def test_dropped_connection_runs_nothing_when_finished() -> None:
    chunks = [start(0, "f", "{}"), start(1, "f", "{}")]  # no finish_reason, no [DONE]
    ran: list[int] = []
    result = run_calls(iter_events(chunks), {"f": lambda c: ran.append(c.index)}, when="finished")
    assert ran == []
    assert [o.status for o in result.outcomes] == ["not_run", "not_run"]
    assert "status 'truncated'" in result.items[0]["content"]
    final = run_calls(iter_events(chunks), {"f": lambda c: ran.append(c.index)})
    assert ran == [0]
    assert [o.status for o in final.outcomes] == ["ok", "not_run"]


def test_done_without_finish_reason_releases_calls() -> None:
    result = run_calls(iter_events([start(0, "f", "{}"), DONE]), {"f": echo}, when="finished")
    assert [o.status for o in result.outcomes] == ["ok"]


def test_unknown_finish_reason_is_not_a_finish() -> None:
    result = run_calls(
        iter_events(stream(("f", "{}"), finish="recitation")), {"f": echo}, when="finished"
    )
    assert [o.status for o in result.outcomes] == ["not_run"]


def test_stop_after_calls_is_a_finish() -> None:
    result = run_calls(
        iter_events(stream(("f", "{}"), finish="stop")), {"f": echo}, when="finished"
    )
    assert [o.status for o in result.outcomes] == ["ok"]


def responses_events(status: str, *calls: str) -> list[Event]:
    events: list[Event] = [StreamStarted(event_index=0, api="responses", response_id="resp_1")]
    for i, name in enumerate(calls):
        events.append(
            CallDone(
                event_index=i + 1,
                call=ToolCall(
                    call_id=f"call_{i}",
                    name=name,
                    arguments="{}",
                    index=i,
                    api="responses",
                    item_id=f"fc_{i}",
                ),
            )
        )
    events.append(
        StreamDone(event_index=len(calls) + 1, complete=status == "completed", status=status)
    )
    return events


@pytest.mark.parametrize(
    ("status", "runs"),
    [("completed", True), ("incomplete", False), ("failed", False), ("truncated", False)],
)
def test_responses_stream_status_guards_calls(status: str, runs: bool) -> None:
    ran: list[int] = []
    result = run_calls(
        responses_events(status, "f", "f"), {"f": lambda c: ran.append(c.index)}, when="finished"
    )
    assert ran == ([0, 1] if runs else [])
    assert result.stream.response_id == "resp_1"
    items = next_turn_responses(result.calls, result.items, previous_response_id="resp_1")
    assert [i["call_id"] for i in items["input"]] == ["call_0", "call_1"]
    assert all(i["type"] == "function_call_output" for i in items["input"])


def sse(kind: str, **fields: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n".encode()


def responses_stream(end: str) -> list[bytes]:
    item = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": "",
        "status": "in_progress",
    }
    done = {**item, "arguments": '{"a": 1}', "status": "completed"}
    status = end.removeprefix("response.")
    return [
        sse("response.created", response={"id": "resp_9", "status": "in_progress", "output": []}),
        sse("response.output_item.added", output_index=0, item=item),
        sse(
            "response.function_call_arguments.delta",
            output_index=0,
            item_id="fc_1",
            delta='{"a": 1}',
        ),
        sse(
            "response.function_call_arguments.done",
            output_index=0,
            item_id="fc_1",
            arguments='{"a": 1}',
        ),
        sse("response.output_item.done", output_index=0, item=done),
        sse(end, response={"id": "resp_9", "status": status, "output": []}),
    ]


def test_responses_sse_completed_runs_and_feeds_the_short_form() -> None:
    result = run_calls(
        iter_events(responses_stream("response.completed")), {"f": echo}, when="finished"
    )
    assert [o.status for o in result.outcomes] == ["ok"]
    assert result.stream.response_id == "resp_9"
    turn = next_turn_responses(
        result.calls, result.items, previous_response_id=result.stream.response_id or ""
    )
    assert turn == {
        "previous_response_id": "resp_9",
        "input": [{"type": "function_call_output", "call_id": "call_1", "output": '{"a":1}'}],
    }


def test_responses_sse_incomplete_runs_nothing_when_finished() -> None:
    chunks = responses_stream("response.incomplete")
    guarded = run_calls(iter_events(chunks, strict=False), {"f": echo}, when="finished")
    assert [o.status for o in guarded.outcomes] == ["not_run"]
    assert guarded.items[0]["type"] == "function_call_output"
    fast = run_calls(iter_events(chunks, strict=False), {"f": echo}, when="final")
    assert [o.status for o in fast.outcomes] == ["ok"]  # final at arguments.done, before the cut


def test_events_without_an_end_hold_calls_back() -> None:
    events = responses_events("completed", "f")[:-1]  # no StreamDone at all
    result = run_calls(events, {"f": echo}, when="finished")
    assert result.outcomes[0].status == "not_run"
    assert "without its end marker" in result.items[0]["output"]


def test_incomplete_call_is_never_run() -> None:
    call = ToolCall(call_id="c", name="f", arguments='{"a": ', index=0, complete=False)
    events: list[Event] = [
        CallIncomplete(event_index=0, call=call, reason="truncated"),
        StreamDone(event_index=0, complete=False, status="truncated"),
    ]
    for when in ("final", "finished"):
        result = run_calls(events, {"f": echo}, when=when)
        assert result.outcomes[0].status == "not_run"
        assert result.ran == []


# -- a failing source ------------------------------------------------------------------------------


def test_source_failure_waits_for_started_handlers_and_keeps_outcomes() -> None:
    finished: list[int] = []
    release = threading.Event()

    def handler(call: ToolCall) -> None:
        assert release.wait(WAIT)
        finished.append(call.index)

    def source() -> Iterator[Event]:
        done = 0
        for event in iter_events(stream(("f", "{}"), ("f", "{}"), ("f", "{}"))):
            yield event
            done += isinstance(event, CallDone)
            if done == 2:  # calls 0 and 1 are final, call 2 is open
                break
        release.set()
        raise ConnectionResetError("peer went away")

    with pytest.raises(DispatchError) as info:
        run_calls(source(), {"f": handler})
    exc = info.value
    assert isinstance(exc.__cause__, ConnectionResetError)
    assert sorted(finished) == [0, 1]  # raised only after the started handlers finished
    assert [o.status for o in exc.result.outcomes] == ["ok", "ok"]
    assert "ConnectionResetError" in str(exc)
    assert "2 of 2 calls ran" in str(exc)

    with pytest.raises(DispatchError) as info:
        run_calls(source(), {"f": handler}, when="finished")
    assert [o.status for o in info.value.result.outcomes] == ["not_run", "not_run"]
    assert "the stream failed (ConnectionResetError)" in info.value.result.items[0]["content"]


def test_dropped_read_from_iter_events_keeps_every_call() -> None:
    def source() -> Iterator[bytes]:
        yield start(0, "f", "{}")
        yield start(1, "f", "{}")
        raise ConnectionResetError("peer went away")

    with pytest.raises(DispatchError) as info:
        run_calls(iter_events(source()), {"f": echo})
    # iter_events ends the stream (call 1 incomplete) before raising IncompleteStreamError
    assert isinstance(info.value.__cause__, fcstream.IncompleteStreamError)
    assert [o.status for o in info.value.result.outcomes] == ["ok", "not_run"]
    with pytest.raises(DispatchError) as info:
        run_calls(iter_events(source()), {"f": echo}, when="finished")
    assert [o.status for o in info.value.result.outcomes] == ["not_run", "not_run"]


async def test_async_source_failure() -> None:
    async def source() -> AsyncIterator[bytes]:
        yield start(0, "f", "{}")
        yield start(1, "f", "{}")
        raise ConnectionResetError("gone")

    with pytest.raises(DispatchError) as info:
        await arun_calls(aiter_events(source()), {"f": aecho})
    assert [o.status for o in info.value.result.outcomes] == ["ok", "not_run"]
    assert isinstance(info.value.__cause__, fcstream.IncompleteStreamError)


async def test_cancelling_arun_calls_cancels_running_handlers() -> None:
    entered = asyncio.Event()
    cancelled: list[bool] = []

    async def forever(call: ToolCall) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    task = asyncio.create_task(arun_calls(iter_events(stream(("f", "{}"))), {"f": forever}))
    await asyncio.wait_for(entered.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled == [True]


async def test_async_runner_over_a_plain_event_list() -> None:
    result = await arun_calls(
        responses_events("completed", "f", "g"), {"f": aecho, "g": echo}, when="finished"
    )
    assert [o.value for o in result.outcomes] == [{}, {}]
    assert [o.item["type"] for o in result.outcomes] == ["function_call_output"] * 2


async def test_async_handler_exception_and_invalid_arguments() -> None:
    async def boom(call: ToolCall) -> None:
        raise RuntimeError("no")

    result = await arun_calls(iter_events(stream(("boom", "{}"), ("boom", "{x"))), {"boom": boom})
    assert [o.status for o in result.outcomes] == ["error", "invalid"]
    assert result.items[0]["content"] == "Error: the tool raised RuntimeError: no"


# -- misuse ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"when": "soon"}, "when must be"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"api": "completions"}, "api must be"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        run_calls([], {"f": echo}, **kwargs)


def test_bad_handlers() -> None:
    with pytest.raises(UsageError, match="no function"):
        run_calls([], [Tool(name="f")])
    with pytest.raises(UsageError, match="not callable"):
        run_calls([], {"f": 3})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="mapping"):
        run_calls([], [echo])  # type: ignore[list-item]


def test_public_names() -> None:
    for name in ("run_calls", "arun_calls", "DispatchResult", "CallOutcome", "DispatchError"):
        assert name in fcstream.__all__
        assert getattr(fcstream, name).__module__ == "fcstream"


def test_dispatch_error_pickles_and_hashes() -> None:
    import pickle

    def source() -> Iterator[Event]:
        yield from responses_events("completed", "f")[:2]
        raise OSError("reset")

    with pytest.raises(DispatchError) as info:
        run_calls(source(), {"f": echo})
    error = info.value
    clone = pickle.loads(pickle.dumps(error))
    assert clone.result.items == error.result.items
    assert str(clone) == str(error)
    assert hash(clone) == hash(error)
    assert isinstance(error, fcstream.FcstreamError)
    assert "+- DispatchError" in (fcstream._errors.__doc__ or "")
