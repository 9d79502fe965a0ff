"""Run tool calls while the stream is still arriving: sync and async twins over one plan.

Contract:

1. A handler starts the moment its call is allowed to run (``when``), at most
   ``max_concurrency`` at once; the stream keeps being read meanwhile.
2. Every call the stream finished or cut gets exactly one result item, in call order
   (choice, then index), whatever order the handlers finish in: the list pairs up with the
   calls for the next turn (see ``_turn``).
3. Nothing is lost by raising: a handler's exception, invalid JSON arguments, an unknown tool
   name or arguments that do not fit the tool's type become error results the model can read
   and correct; a call that was not run says why.

``when`` is the side-effect guard:

- ``"final"``: each call runs at its own finality (``CallDone``), the fastest; a call the
  stream cut (``CallIncomplete``) never runs, but calls final before a later cut have run.
- ``"finished"``: calls run only once their choice ended with a finish reason in
  :data:`FINISHING_REASONS` (chat), or the stream ended with a status in
  :data:`FINISHED_STATUSES` (Responses ``completed``, chat ``[DONE]``). A response cut off by
  length, a content filter, an error or a dropped connection runs nothing.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, Literal

import msgspec

from ._call import Api, ToolCall
from ._errors import ArgumentsError, DispatchError, UsageError
from ._events import CallDone, CallIncomplete, ChoiceDone, Event, StreamDone
from ._result import Collector, StreamResult
from ._tools import Tool
from ._turn import error_result

__all__ = [
    "FINISHED_STATUSES",
    "FINISHING_REASONS",
    "CallOutcome",
    "DispatchResult",
    "arun_calls",
    "run_calls",
]

When = Literal["final", "finished"]
Handler = Callable[[ToolCall], Any]
"""Takes the call (``call.json()``, ``call.parsed(T)``, ``call.arguments``) and returns the
output: a string is sent as is, anything else as JSON. May be ``async``."""
Handlers = Mapping[str, Handler | Tool] | Iterable[Tool]
"""Tool name -> handler or :class:`Tool`; or Tools with ``fn`` (their own names). A Tool decodes
the arguments into its ``params_type`` before its function is called."""
Status = Literal["ok", "error", "invalid", "not_run"]

FINISHING_REASONS: Final = frozenset({"tool_calls", "stop", "function_call", "end_turn"})
"""Chat finish reasons after which a choice's calls may run with ``when="finished"``: the model
finished its turn (``stop`` after calls is sent by OpenAI too). Anything else (``length``,
``content_filter``, unknown values) holds the calls back: an unknown reason is not a finish."""

FINISHED_STATUSES: Final = frozenset({"done", "completed"})
"""``StreamDone.status`` values that release calls no finish reason released: chat ``[DONE]``,
Responses ``completed``."""


class CallOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one call.

    ``status``: ``ok`` (the handler returned), ``error`` (it raised, or its value could not be
    sent as JSON), ``invalid`` (never started: unknown tool, arguments not JSON or not fitting the
    tool's type), ``not_run`` (cut, or held back by ``when="finished"``). ``item`` is the result
    item to send back (an error result unless ``ok``); ``value`` the handler's return value;
    ``error`` the exception, if any; ``reason`` the text the model is told when not ``ok``.
    """

    call: ToolCall
    status: Status
    item: dict[str, Any]
    value: Any = None
    error: BaseException | None = None
    reason: str | None = None

    @property
    def ran(self) -> bool:
        """True when the handler was started (its side effects may have happened)."""
        return self.status in ("ok", "error")


class DispatchResult(msgspec.Struct, frozen=True, kw_only=True):
    """Every call's outcome in call order, and the stream's own summary (text, finish reasons,
    usage, response id: ``stream.response_id`` feeds ``previous_response_id``)."""

    outcomes: list[CallOutcome]
    stream: StreamResult

    @property
    def items(self) -> list[dict[str, Any]]:
        """One result item per call, in call order: the results for the next turn."""
        return [o.item for o in self.outcomes]

    @property
    def calls(self) -> list[ToolCall]:
        """The calls, in the order of :attr:`items`."""
        return [o.call for o in self.outcomes]

    @property
    def ran(self) -> list[ToolCall]:
        """The calls whose handler was started."""
        return [o.call for o in self.outcomes if o.ran]


# -- the plan: which call runs when (no threads, no awaits) -------------------------------------

Key = tuple[int, int]


@dataclass(frozen=True)
class _Job:
    key: Key
    call: ToolCall
    run: Callable[[], Any]
    is_async: bool


class _Plan:
    def __init__(self, handlers: Handlers, when: When, api: Api | None) -> None:
        if when not in ("final", "finished"):
            raise UsageError(f"when must be 'final' or 'finished', not {when!r}")
        if api not in (None, "chat", "responses"):
            raise UsageError(f"api must be None, 'chat' or 'responses', not {api!r}")
        self.table = _table(handlers)
        self.when = when
        self.api = api
        self.calls: dict[Key, ToolCall] = {}
        self.decided: dict[Key, CallOutcome] = {}
        self.held: dict[int, list[ToolCall]] = {}
        self.collector = Collector()

    def on_event(self, event: Event) -> list[_Job]:
        self.collector.add(event)
        if isinstance(event, CallDone):
            call = event.call
            self.calls[_key(call)] = call
            if self.when == "final":
                return self._release([call])
            self.held.setdefault(call.choice, []).append(call)
        elif isinstance(event, CallIncomplete):
            call = event.call
            self.calls[_key(call)] = call
            self._skip(
                call, f"the call was cut off ({event.reason}) before its arguments were complete"
            )
        elif self.when == "finished":
            if isinstance(event, ChoiceDone):
                held = self.held.pop(event.choice, [])
                if event.finish_reason in FINISHING_REASONS:
                    return self._release(held)
                for call in held:
                    self._skip(
                        call,
                        f"the response ended with finish_reason "
                        f"{event.finish_reason!r} before it finished",
                    )
            elif isinstance(event, StreamDone):
                held = [c for calls in self.held.values() for c in calls]
                self.held.clear()
                if event.status in FINISHED_STATUSES:
                    return self._release(held)
                for call in held:
                    self._skip(
                        call, f"the response ended with status {event.status!r} before it finished"
                    )
        return []

    def end(self, failure: BaseException | None) -> None:
        """Input ended (or raised): calls still held back are not run."""
        why = (
            f"the stream failed ({type(failure).__name__}) before the response finished"
            if failure is not None
            else "the stream ended without its end marker"
        )
        for calls in self.held.values():
            for call in calls:
                self._skip(call, why)
        self.held.clear()

    def result(self, ran: Mapping[Key, CallOutcome]) -> DispatchResult:
        outcomes = {**self.decided, **ran}
        return DispatchResult(
            outcomes=[outcomes[k] for k in sorted(self.calls) if k in outcomes],
            stream=self.collector.result(),
        )

    # -- internals ----------------------------------------------------------------------

    def _skip(self, call: ToolCall, why: str) -> None:
        reason = f"not run: {why}. Call it again if it is still needed."
        self.decided[_key(call)] = CallOutcome(
            call=call,
            status="not_run",
            item=error_result(call, reason, api=self.api),
            reason=reason,
        )

    def _invalid(self, call: ToolCall, reason: str, error: BaseException | None) -> None:
        self.decided[_key(call)] = CallOutcome(
            call=call,
            status="invalid",
            item=error_result(call, reason, api=self.api),
            error=error,
            reason=reason,
        )

    def _release(self, calls: list[ToolCall]) -> list[_Job]:
        jobs = []
        for call in calls:
            job = self._prepare(call)
            if job is not None:
                jobs.append(job)
        return jobs

    def _prepare(self, call: ToolCall) -> _Job | None:
        """A job to start, or None after deciding an ``invalid`` outcome."""
        name = call.name or ""
        handler = self.table.get(name)
        if handler is None:
            known = ", ".join(sorted(self.table)) or "none"
            self._invalid(call, f"there is no tool named {name!r}; the tools are: {known}", None)
            return None
        if isinstance(handler, Tool):
            try:
                args = handler.decode(call)
            except ArgumentsError as exc:
                self._invalid(
                    call,
                    f"the arguments are not valid JSON ({exc.message}); send "
                    "them again as one JSON object",
                    exc,
                )
                return None
            except msgspec.ValidationError as exc:
                self._invalid(
                    call, f"the arguments do not fit the parameters of {name!r}: {exc}", exc
                )
                return None
            tool = handler
            return _Job(_key(call), call, lambda: tool.run(args), _is_async(tool.fn))
        if call.type == "function":
            try:
                call.json()
            except ArgumentsError as exc:
                self._invalid(
                    call,
                    f"the arguments are not valid JSON ({exc.message}); send "
                    "them again as one JSON object",
                    exc,
                )
                return None
        fn = handler
        return _Job(_key(call), call, lambda: fn(call), _is_async(fn))


def _key(call: ToolCall) -> Key:
    return (call.choice, call.index)


def _table(handlers: Handlers) -> dict[str, Handler | Tool]:
    if isinstance(handlers, Mapping):
        table = dict(handlers)
    else:
        table = {}
        for tool in handlers:
            if not isinstance(tool, Tool):
                raise UsageError(
                    f"handlers must be a mapping name -> handler, or Tools; got a "
                    f"{type(tool).__name__}"
                )
            table[tool.name] = tool
    for name, handler in table.items():
        if isinstance(handler, Tool):
            if handler.fn is None:
                raise UsageError(f"tool {name!r} has no function to run (fn=None)")
        elif not callable(handler):
            raise UsageError(f"the handler for {name!r} is not callable")
    return table


def _is_async(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def _finish(job: _Job, value: Any, api: Api | None) -> CallOutcome:
    try:
        item = job.call.result(value, api=api)
    except (TypeError, msgspec.EncodeError) as exc:
        return _failed(job, exc, api, "the tool's result could not be sent as JSON")
    return CallOutcome(call=job.call, status="ok", item=item, value=value)


def _failed(job: _Job, exc: BaseException, api: Api | None, what: str | None = None) -> CallOutcome:
    reason = f"{what or 'the tool raised'} {type(exc).__name__}: {exc}"
    return CallOutcome(
        call=job.call,
        status="error",
        item=error_result(job.call, reason, api=api),
        error=exc,
        reason=reason,
    )


def _check_limit(max_concurrency: int) -> None:
    if not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise UsageError(f"max_concurrency must be an int >= 1, not {max_concurrency!r}")


def _failure_message(exc: BaseException, result: DispatchResult) -> str:
    ran = sum(o.ran for o in result.outcomes)
    return (
        f"the event source raised {type(exc).__name__}: {exc} "
        f"({ran} of {len(result.outcomes)} calls ran)"
    )


# -- sync ----------------------------------------------------------------------------------------


def run_calls(
    events: Iterable[Event],
    handlers: Handlers,
    *,
    when: When = "final",
    max_concurrency: int = 8,
    api: Api | None = None,
) -> DispatchResult:
    """Read ``events`` (e.g. ``iter_events(response)``) and run each call on a thread pool the
    moment ``when`` allows, at most ``max_concurrency`` at once; return when the stream ended and
    every started handler finished.

    Handlers get the :class:`ToolCall` (or, for a :class:`Tool`, its decoded arguments); an
    async handler runs in its worker thread with ``asyncio.run``. Result items are in ``api``'s
    shape (default: each call's own API). Nothing a handler does escapes (see the module
    docstring): an exception becomes ``"Error: the tool raised <Type>: <message>"``, sent to the
    model, so keep secrets out of exception messages.

    Raises :class:`DispatchError` (``.result`` holds every outcome, ``__cause__`` the source's
    exception) if ``events`` raises, after the started handlers finished; :class:`UsageError`
    for bad arguments.
    """
    _check_limit(max_concurrency)
    plan = _Plan(handlers, when, api)
    pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="fcstream-call")
    futures: dict[Key, Future[CallOutcome]] = {}
    failure: Exception | None = None
    try:
        try:
            for event in events:
                for job in plan.on_event(event):
                    futures[job.key] = pool.submit(_run_sync, job, api)
        except Exception as exc:
            failure = exc
        plan.end(failure)
        outcomes = {key: future.result() for key, future in futures.items()}
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: start nothing new
        raise
    pool.shutdown(wait=True)
    result = plan.result(outcomes)
    if failure is not None:
        raise DispatchError(_failure_message(failure, result), result=result) from failure
    return result


def _run_sync(job: _Job, api: Api | None) -> CallOutcome:
    try:
        value = job.run()
        if inspect.isawaitable(value):
            value = asyncio.run(_wait(value))
    except Exception as exc:
        return _failed(job, exc, api)
    return _finish(job, value, api)


async def _wait(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


# -- async ---------------------------------------------------------------------------------------


async def arun_calls(
    events: AsyncIterable[Event] | Iterable[Event],
    handlers: Handlers,
    *,
    when: When = "final",
    max_concurrency: int = 8,
    api: Api | None = None,
) -> DispatchResult:
    """The async twin of :func:`run_calls`: each call becomes a task the moment ``when`` allows
    (an ``asyncio.Semaphore`` keeps ``max_concurrency``); async handlers are awaited, sync ones
    run in ``asyncio.to_thread``. ``events`` may also be a plain iterable of events already at
    hand (reading it must not block: the loop waits while it does). If this coroutine is
    cancelled, the running handlers are cancelled too (and awaited) before the cancellation
    propagates.
    """
    _check_limit(max_concurrency)
    plan = _Plan(handlers, when, api)
    limit = asyncio.Semaphore(max_concurrency)
    tasks: dict[Key, asyncio.Task[CallOutcome]] = {}
    failure: Exception | None = None
    try:
        try:
            if isinstance(events, AsyncIterable):
                async for event in events:
                    for job in plan.on_event(event):
                        tasks[job.key] = asyncio.create_task(_run_async(job, limit, api))
            else:
                for event in events:
                    for job in plan.on_event(event):
                        tasks[job.key] = asyncio.create_task(_run_async(job, limit, api))
        except Exception as exc:
            failure = exc
        plan.end(failure)
        outcomes = {key: await task for key, task in tasks.items()}
    except BaseException:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        raise
    result = plan.result(outcomes)
    if failure is not None:
        raise DispatchError(_failure_message(failure, result), result=result) from failure
    return result


async def _run_async(job: _Job, limit: asyncio.Semaphore, api: Api | None) -> CallOutcome:
    async with limit:
        try:
            if job.is_async:
                value = await job.run()
            else:
                value = await asyncio.to_thread(job.run)
                if inspect.isawaitable(value):
                    value = await value
        except Exception as exc:
            return _failed(job, exc, api)
    return _finish(job, value, api)
