"""What the chat and Responses accumulators share: call bookkeeping, ending calls, reports.

An accumulator takes one framed message at a time and appends the events it causes to ``out``.
It never raises for bad input: problems become ``ErrorEvent``s, and the parser decides whether
strict mode turns them into exceptions (after the message was fully applied, so state stays
consistent and nothing is half-done).
"""

from __future__ import annotations

from typing import ClassVar, Final

from ._call import Api, ToolCall
from ._errors import PayloadError, ProtocolError, ProviderError, excerpt
from ._events import (
    CallDone,
    CallIncomplete,
    ErrorEvent,
    Event,
    IncompleteReason,
    OtherEvent,
    StreamDone,
    StreamStarted,
)
from ._open_call import OpenCall
from ._runs import message_at
from ._sse import PayloadRun, SSEMessage, Unterminated

__all__ = ["Accumulator"]

# mypyc reads a Final module name from a C static, and any other global (an imported class
# included) from the module's dict on every use: the classes this module makes, bound once.
_CALL_DONE: Final = CallDone
_CALL_INCOMPLETE: Final = CallIncomplete
_ERROR_EVENT: Final = ErrorEvent
_OTHER_EVENT: Final = OtherEvent
_STREAM_DONE: Final = StreamDone
_STREAM_STARTED: Final = StreamStarted


class Accumulator:
    """Base of ``ChatAccumulator`` and ``ResponsesAccumulator``."""

    api: ClassVar[Api]

    def __init__(self) -> None:
        self._calls: list[OpenCall] = []  # order of first appearance
        self._open: list[OpenCall] = []  # started or buffered, not yet ended
        self._started = False  # StreamStarted emitted
        self._ended = False  # StreamDone emitted
        self._cut = False  # a call came back incomplete or the provider reported an error
        self._errored = False  # a provider error was reported
        self.finish_reasons: dict[int, str] = {}
        self.problems = 0
        """How many PayloadError-family reports were made: the parser compares it before and
        after a message, so strict mode looks for an error only when there is one."""
        self.rejected = 0
        """How many payloads (or parts of one) were rejected as unreadable: their data is lost,
        so the stream cannot be ``complete``. A ``ProtocolError`` keeps its data and does not
        count."""

    # -- the interface the parser uses ---------------------------------------------------

    def handle(self, msg: SSEMessage, out: list[Event]) -> None:
        raise NotImplementedError

    def handle_run(self, run: PayloadRun, out: list[Event], strict: bool) -> int:
        """Apply a run of plain ``data:`` events; return how many were applied (fewer than all
        only when ``strict`` and one of them made a report, so the parser can raise after it
        and keep the rest for later). Subclasses override it with a leaner loop."""
        before = self.problems
        for k, data in enumerate(run.payloads):
            msg = message_at(run, k)
            if not data or data.isspace():  # `data:` alone: valid SSE, nothing to decode
                out.append(_OTHER_EVENT(msg.index, msg.event, data))
                continue
            self.handle(msg, out)
            if strict and self.problems != before:
                return k + 1
        return len(run.payloads)

    def finish(self, event_index: int, rest: Unterminated, out: list[Event]) -> None:
        """Input ended: open calls come back incomplete, then ``StreamDone`` if not yet sent."""
        if self._ended:
            if rest.truncated:
                self.report_protocol(
                    out,
                    "unterminated bytes after the end of the stream",
                    event_index=event_index,
                    byte_offset=rest.offset,
                    raw=rest.data,
                )
            return
        self.end_open(out, event_index, "truncated")
        status = self.status_at_eof(rest)
        self.stream_done(out, event_index, status, leftover=rest.data if rest.truncated else b"")

    def calls(self) -> list[ToolCall]:
        """Every call so far in order of first appearance; open ones as incomplete copies."""
        return [c.snapshot() for c in self._calls]

    # -- helpers for subclasses ----------------------------------------------------------

    def status_at_eof(self, rest: Unterminated) -> str:
        return "error" if self._errored else "truncated"

    def settle_open(self, incoming: int) -> None:
        """A big event is arriving (``incoming`` bytes so far): the open calls' fragments are
        joined now, not next to its payload (``ArgumentBuffer.settle``)."""
        for call in self._open:
            call.args.settle(incoming)

    def started(self, out: list[Event], event_index: int, response_id: str | None,
                model: str | None) -> None:
        self._started = True
        out.append(_STREAM_STARTED(event_index=event_index, api=self.api,
                                   response_id=response_id, model=model))

    def new_call(self, call: OpenCall) -> OpenCall:
        self._calls.append(call)
        self._open.append(call)
        return call

    def done(self, out: list[Event], event_index: int, call: OpenCall, *,
             byte_offset: int = -1) -> None:
        """The structure finished ``call``: ``CallDone``, or ``CallIncomplete`` if nameless.

        ``byte_offset`` is where the SSE event that finished it starts, for the error.
        """
        if call.ended:
            return
        self._open.remove(call)
        if call.name is None:
            self.report_protocol(
                out,
                "a call ended without a name",
                event_index=event_index,
                byte_offset=byte_offset,
                call_id=call.call_id,
                index=call.index,
                data=call.args.text(),
            )
            self._cut = True
            out.append(_CALL_INCOMPLETE(event_index=event_index,
                                        call=call.freeze(complete=False), reason="nameless"))
            return
        out.append(_CALL_DONE(event_index=event_index, call=call.freeze(complete=True)))

    def cut(self, out: list[Event], event_index: int, call: OpenCall,
            reason: IncompleteReason) -> None:
        if call.ended:
            return
        self._open.remove(call)
        self._cut = True
        out.append(_CALL_INCOMPLETE(event_index=event_index, call=call.freeze(complete=False),
                                    reason=reason))

    def end_open(self, out: list[Event], event_index: int, reason: IncompleteReason) -> None:
        """Every call still open comes back incomplete (a cut or the end of input)."""
        for call in list(self._open):
            self.cut(out, event_index, call, reason)

    def stream_done(self, out: list[Event], event_index: int, status: str,
                    leftover: bytes = b"") -> None:
        self._ended = True
        complete = (
            status in ("done", "finished", "completed") and not self._cut and not self.rejected
        )
        out.append(_STREAM_DONE(event_index=event_index, complete=complete, status=status,
                                finish_reasons=dict(self.finish_reasons), leftover=leftover))

    def provider_error(
        self,
        out: list[Event],
        event_index: int,
        error: ProviderError,
        reason: IncompleteReason = "error",
    ) -> None:
        """The provider reported an error: open calls are cut (``reason``), the error is an
        event (never raised here: adapters and ``StreamResult.raise_for_error`` raise it)."""
        self.end_open(out, event_index, reason)
        self._errored = True
        self._cut = True
        out.append(_ERROR_EVENT(event_index=event_index, error=error))

    def payload_error(self, out: list[Event], msg: SSEMessage, message: str) -> None:
        self.problems += 1
        self.rejected += 1
        out.append(_ERROR_EVENT(event_index=msg.index, error=PayloadError(
            message, api=self.api, event_index=msg.index, byte_offset=msg.offset,
            event=msg.event, excerpt=excerpt(msg.data))))

    def report_at(self, out: list[Event], msg: SSEMessage, message: str, *,
                  call: OpenCall | None = None, data: str = "") -> None:
        """``report_protocol`` about the message at hand (its index, offset, event and bytes)
        and, when there is one, the call concerned."""
        self.report_protocol(
            out, message, event_index=msg.index, byte_offset=msg.offset, event=msg.event,
            raw=msg.data, call_id=None if call is None else call.call_id,
            index=None if call is None else call.index, data=data)

    def report_protocol(self, out: list[Event], message: str, *, event_index: int,
                        byte_offset: int = -1, event: str = "message",
                        raw: bytes | bytearray = b"",
                        call_id: str | None = None, index: int | None = None,
                        data: str = "") -> None:
        self.problems += 1
        out.append(_ERROR_EVENT(event_index=event_index, error=ProtocolError(
            message, api=self.api, event_index=event_index, byte_offset=byte_offset,
            event=event, excerpt=excerpt(raw or data), call_id=call_id, index=index,
            data=data)))
