"""StreamResult: everything a finished stream said, gathered from its events.

``Collector`` is the one place that folds events into a result, so ``collect``, ``acollect``,
the CLI and the dispatcher agree on what "complete" and "the text" mean.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._call import Api, ToolCall
from ._errors import FcstreamError, ProviderError
from ._events import (
    CallDone,
    CallIncomplete,
    ErrorEvent,
    Event,
    ReasoningDelta,
    RefusalDelta,
    StreamDone,
    StreamStarted,
    TextDelta,
    Usage,
)
from ._surrogates import pair

__all__ = ["Collector", "StreamResult"]


class StreamResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one stream produced.

    ``calls`` in order of first appearance (incomplete ones included, ``complete=False``);
    ``texts``/``reasoning``/``refusals`` per choice; ``complete`` is ``StreamDone.complete``
    (false when input ended early, a call was cut, the provider reported an error or a payload
    was rejected as unreadable);
    ``status`` is ``StreamDone.status``; ``errors`` every reported problem, in order.
    """

    api: Api | None
    calls: list[ToolCall]
    texts: dict[int, str]
    reasoning: dict[int, str]
    refusals: dict[int, str]
    finish_reasons: dict[int, str]
    usage: dict[str, Any] | None
    complete: bool
    status: str
    errors: list[FcstreamError]
    response_id: str | None = None
    model: str | None = None
    events: int = 0

    @property
    def text(self) -> str:
        """Choice 0's text (the only one unless ``n > 1``)."""
        return self.texts.get(0, "")

    def raise_for_error(self) -> None:
        """Raise the first provider error, if any; its ``events`` attribute is left empty."""
        for error in self.errors:
            if isinstance(error, ProviderError):
                raise error


class Collector:
    """Folds events into a :class:`StreamResult`. Feed it every event, then call ``result()``.

    Joined text re-pairs UTF-16 surrogate halves that arrived in separate deltas.
    """

    def __init__(self) -> None:
        self._calls: dict[tuple[int, int], ToolCall] = {}
        self._texts: dict[int, list[str]] = {}
        self._reasoning: dict[int, list[str]] = {}
        self._refusals: dict[int, list[str]] = {}
        self._usage: dict[str, Any] | None = None
        self._done: StreamDone | None = None
        self._errors: list[FcstreamError] = []
        self._api: Api | None = None
        self._response_id: str | None = None
        self._model: str | None = None
        self._last_index = -1

    def add(self, event: Event) -> None:
        self._last_index = max(self._last_index, event.event_index)
        if isinstance(event, TextDelta):
            self._texts.setdefault(event.choice, []).append(event.text)
        elif isinstance(event, (CallDone, CallIncomplete)):
            call = event.call
            self._calls[(call.choice, call.index)] = call
        elif isinstance(event, ReasoningDelta):
            self._reasoning.setdefault(event.choice, []).append(event.text)
        elif isinstance(event, RefusalDelta):
            self._refusals.setdefault(event.choice, []).append(event.text)
        elif isinstance(event, Usage):
            self._usage = event.usage
        elif isinstance(event, StreamDone):
            self._done = event
        elif isinstance(event, ErrorEvent):
            self._errors.append(event.error)
        elif isinstance(event, StreamStarted):
            self._api = event.api
            self._response_id = event.response_id
            self._model = event.model

    def result(
        self,
        *,
        calls: list[ToolCall] | None = None,
        api: Api | None = None,
        events: int | None = None,
    ) -> StreamResult:
        """The result; ``calls`` (e.g. ``parser.calls``) overrides the order seen in events and
        ``events`` (``parser.events_seen``) the SSE event count, which events alone can only
        bound: those made by ``finish()`` carry the count itself as their index."""
        done = self._done
        ordered = calls if calls is not None else sorted(
            self._calls.values(), key=lambda c: (c.choice, c.index))
        return StreamResult(
            api=api or self._api,
            calls=ordered,
            texts={k: pair("".join(v)) for k, v in self._texts.items()},
            reasoning={k: pair("".join(v)) for k, v in self._reasoning.items()},
            refusals={k: pair("".join(v)) for k, v in self._refusals.items()},
            finish_reasons=dict(done.finish_reasons) if done else {},
            usage=self._usage,
            complete=done.complete if done else False,
            status=done.status if done else "truncated",
            errors=list(self._errors),
            response_id=self._response_id,
            model=self._model,
            events=self._last_index + 1 if events is None else events,
        )
