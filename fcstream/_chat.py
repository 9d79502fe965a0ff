"""ChatAccumulator: ``chat.completion.chunk`` payloads in, events out.

Correlation (quirks.md, refined for servers seen since):

- A fragment with an ``index`` belongs to the call at that index. It starts a new call there
  only when it brings a non-empty ``id`` that differs from that call's id *and* a name (C03: a
  new call always names its tool). A nameless fragment with another id continues the call at its
  index, which keeps its first id, unreported (Poolside sends one id with the name and another on
  every continuation; its own client keys calls by index).
- An ``index`` never seen starts a new call, even when its id repeats an earlier call's (servers
  with a constant id such as ``call_0``) -- except right after a call opened without an
  ``index``: a fragment without an id (or with that call's id) and without another name then
  continues that call, which keeps the index from then on (first fragment without ``index``,
  the rest with one).
- A fragment without ``index`` belongs to the call with its ``id`` if it brings one (the id is
  the only key there, so a new id starts a new call even without a name), else to the most recent
  call of its choice (C01).
- ``id``, ``name`` and ``type`` are taken once; empty strings are ignored (C04, C05, C06).
- The deprecated functions API's ``delta.function_call`` is read only when the same delta has no
  ``tool_calls`` (llama-cpp-python sends both): it is the fragment of call index 0 of its choice.

Finality: a call is final when another call starts in the same choice, when that choice sends a
``finish_reason``, or at ``[DONE]`` -- never because its arguments parse. The finish reasons in
``CUT_REASONS`` (``length``, ``content_filter`` and vendor variants, compared without case) and
an error object cut the open calls instead: they come back incomplete. Any other finish reason
finishes them: ``tool_calls``, ``stop``, ``function_call``, ``eos_token``, ``end_turn`` and many
vendor names are normal ends, so an unknown reason is taken as one.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final, cast

import msgspec

from . import _surrogates
from . import _wire_chat as wire
from ._accumulator import Accumulator
from ._call import NO_ARGS, ArgumentBuffer
from ._errors import ProviderError, excerpt
from ._events import (
    ArgumentsDelta,
    CallStarted,
    ChoiceDone,
    Event,
    IncompleteReason,
    OtherEvent,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    Usage,
)
from ._open_call import OpenCall
from ._runs import message_at, rest_from
from ._sse import PayloadRun, SSEMessage, Unterminated
from ._template import ERRORS as template_errors
from ._template import STRING as template_string
from ._template import Template, make

__all__ = ["ChatAccumulator"]

# mypyc reads a Final module name from a C static, and any other global (an imported class
# included) from the module's dict on every use: the classes this module makes, bound once.
_ARGUMENTS_DELTA: Final = ArgumentsDelta
_CALL_STARTED: Final = CallStarted
_CHOICE_DONE: Final = ChoiceDone
_OTHER_EVENT: Final = OtherEvent
_REASONING_DELTA: Final = ReasoningDelta
_REFUSAL_DELTA: Final = RefusalDelta
_TEXT_DELTA: Final = TextDelta
_USAGE: Final = Usage

CUT_REASONS: Final[dict[str, IncompleteReason]] = {
    # out of tokens or context
    "length": "length",
    "max_tokens": "length",  # also Gemini's native MAX_TOKENS
    "max_output_tokens": "length",
    "model_length": "length",
    "model_context_window_exceeded": "length",  # Anthropic
    "error_limit": "length",  # Cohere
    # blocked by a filter
    "content_filter": "content_filter",
    "sensitive": "content_filter",  # Zhipu GLM: the safety review blocked the output
    "safety": "content_filter",  # Gemini native, and the rest of its block reasons
    "recitation": "content_filter",
    "blocklist": "content_filter",
    "prohibited_content": "content_filter",
    "spii": "content_filter",
    "image_safety": "content_filter",
    "refusal": "content_filter",  # Anthropic: a streaming classifier stopped the output
    "guardrail_intervened": "content_filter",  # Bedrock
    "content_filtered": "content_filter",
    "error_toxic": "content_filter",  # Cohere
    # failed
    "error": "error",
    "abort": "error",  # vLLM
    "insufficient_system_resource": "error",  # DeepSeek: interrupted for lack of resources
    "network_error": "error",  # Zhipu GLM: inference failed
    "malformed_function_call": "error",  # Gemini native
    "unexpected_tool_call": "error",
    "too_many_tool_calls": "error",
    "language": "error",  # Gemini native: stopped on an unsupported language
    "other": "error",  # Gemini native: stopped for an unnamed reason
}
"""Finish reasons that may have cut an open call short (F3), lower case (they are compared
without case: Gemini's native API sends ``MAX_TOKENS``, ``SAFETY``...); anything else finishes
it. The finish reason itself is always reported as sent."""

_DONE: Final = b"[DONE]"
_ABSENT: Final = wire.ABSENT
_COMPACT_AT: Final = ArgumentBuffer.COMPACT_AT
_DECODE_CHUNK: Final = wire.CHUNK.decode
_DECODE_FIRST: Final = wire.FIRST_CHUNK.decode


def _decode_first(data: bytes) -> wire.ChatChunk:
    """The chunk with ``id`` and ``model`` (``FirstChunk``), or without them when one of
    them has an odd type: metadata is optional, the chunk is not."""
    try:
        return _DECODE_FIRST(data)
    except msgspec.ValidationError:
        return _DECODE_CHUNK(data)

_ARGUMENTS: Final = "arguments"
_CONTENT: Final = "content"
_REFUSAL: Final = "refusal"
_TEMPLATES: Final = 8
"""Templates kept per stream: text, reasoning and the calls of up to eight interleaved choices."""
_BUILDS: Final = 8
"""Template builds a stream gets before they must pay off (each costs about as much as reading
ten payloads through a template saves)."""
_PAYOFF: Final = 4
_MISSES: Final = 2
"""Templates that miss the next payload of their shape before a stream gives up learning, when
none ever matched (servers that change an id or a timestamp on every payload)."""
_SHAPES: Final = 256
"""Shapes (field, choice, call index) remembered before any template is made for them."""
_SEEN: Final = "seen"
_MADE: Final = "made"
"""What a stream knows of a shape: one payload seen, or a template made."""
_KEYS: Final = {
    _CONTENT: b'"content":',
    "reasoning_content": b'"reasoning_content":',
    "reasoning": b'"reasoning":',
    _REFUSAL: b'"refusal":',
    _ARGUMENTS: b'"arguments":',
}


def _delta_of(chunk: Any) -> Any:
    choices = chunk.choices
    return choices[0].delta if choices and len(choices) == 1 else None


def _reader(field: str) -> Any:
    def read(chunk: Any) -> Any:
        delta = _delta_of(chunk)
        return getattr(delta, field, None) if delta is not None else None
    return read


def _read_arguments(chunk: Any) -> Any:
    delta = _delta_of(chunk)
    if delta is None or not delta.tool_calls or len(delta.tool_calls) != 1:
        return None
    fn = delta.tool_calls[0].function
    return fn.arguments if fn is not None else None


_READERS: Final = {
    _CONTENT: _reader("content"),
    "reasoning_content": _reader("reasoning_content"),
    "reasoning": _reader("reasoning"),
    _REFUSAL: _reader("refusal"),
    _ARGUMENTS: _read_arguments,
}


def _text_kind(delta: wire.Delta) -> str | None:
    """The one text field a delta carries, ``None`` when it carries none or several."""
    if delta.content:
        return None if delta.reasoning_content or delta.reasoning or delta.refusal else _CONTENT
    if delta.reasoning_content:
        return None if delta.reasoning or delta.refusal else "reasoning_content"
    if delta.reasoning:
        return None if delta.refusal else "reasoning"
    return _REFUSAL if delta.refusal else None


_BAD: Final[Any] = object()
"""What ``_load`` returns for kept raw JSON that is not valid UTF-8."""


def _load(raw: bytes | bytearray) -> Any:
    """Decode raw JSON a view Struct kept unbuilt. The JSON itself was valid, but msgspec checks
    UTF-8 only in the strings it builds, so a kept value may still hold bad bytes: ``_BAD``.
    A lone surrogate escape, which msgspec refuses, is read by the stdlib."""
    try:
        return wire.ANY.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        if _surrogates.has_escape(raw):
            with contextlib.suppress(ValueError):
                return _surrogates.load(raw)
        return _BAD


def _not_json_object(data: bytes | bytearray) -> bool:
    return data.lstrip()[:1] != b"{"


def _why(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"invalid UTF-8: {exc}"  # msgspec raises it for bad bytes inside strings
    return f"invalid JSON: {exc}"


class _Choice:
    __slots__ = ("by_id", "by_index", "count", "finished", "index", "last", "loose", "open")

    def __init__(self, index: int) -> None:
        self.index = index
        self.by_index: dict[int, OpenCall] = {}
        self.by_id: dict[str, OpenCall] = {}
        self.last: OpenCall | None = None
        self.loose: OpenCall | None = None  # ``last``, when it was opened without an index
        self.open: list[OpenCall] = []
        self.count = 0
        self.finished = False


class ChatAccumulator(Accumulator):
    api = "chat"

    def __init__(self) -> None:
        super().__init__()
        self._choices: dict[int, _Choice] = {}
        self._done = False
        self._templates: list[Template] = []
        self._template_builds = 0
        self._template_hits = 0
        self._template_misses = 0
        self._learning = True
        self._shapes: dict[tuple[str, int, int | None], str] = {}

    # -- messages ------------------------------------------------------------------------

    def handle(self, msg: SSEMessage, out: list[Event]) -> None:
        data = msg.data
        if self._ended:
            self.report_at(out, msg, "data after the end of the stream")
            return
        if len(data) < 16 and data.strip() == _DONE:  # short test first: no copy per chunk
            self._on_done(msg, out)
            return
        chunk = self._decode(msg, out)
        if chunk is not None:
            self._apply(msg, chunk, out)

    def _decode(
        self, msg: SSEMessage, out: list[Event]
    ) -> wire.ChatChunk | wire.LooseChatChunk | None:
        """The chunk, or ``None`` when the payload was handled as not being one."""
        data = msg.data
        try:
            return _DECODE_CHUNK(data)
        except msgspec.ValidationError:
            pass  # a shape the fast view does not read: the tolerant one may
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            return self._undecodable(msg, _why(exc), out)
        try:
            return wire.LOOSE_CHUNK.decode(data)
        except msgspec.ValidationError as exc:
            if _not_json_object(data) and msg.event not in ("message", "error"):
                out.append(_OTHER_EVENT(msg.index, msg.event, bytes(data)))  # e.g. a numeric ping
            elif msg.event == "error":
                self._on_error(msg, None, out)
            else:
                self.payload_error(out, msg, f"not a chat.completion.chunk: {exc}")
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            return self._undecodable(msg, _why(exc), out)
        return None

    def _undecodable(
        self, msg: SSEMessage, why: str, out: list[Event]
    ) -> wire.ChatChunk | wire.LooseChatChunk | None:
        """A payload msgspec cannot read. A lone surrogate escape is valid JSON: the stdlib
        reads it. Otherwise, on an SSE event other than ``message`` it is not a chunk at all
        (sse-starlette's ``event: ping`` carries a timestamp): passed through; on ``error`` it
        is the provider's error text; on ``message`` it is a bad payload."""
        data = msg.data
        if _surrogates.has_escape(data):
            with contextlib.suppress(ValueError, msgspec.ValidationError):
                chunk: wire.ChatChunk | wire.LooseChatChunk = _surrogates.decode(
                    data, wire.ChatChunk, wire.LooseChatChunk)
                return chunk
        if msg.event == "error":
            self._on_error(msg, None, out)
        elif msg.event != "message":
            out.append(_OTHER_EVENT(msg.index, msg.event, bytes(data)))
        else:
            self.payload_error(out, msg, why)
        return None

    def handle_run(self, run: PayloadRun, out: list[Event], strict: bool) -> int:
        """The hot path: a run of plain ``data:`` events, most of them argument continuations
        or text. Those two shapes are applied inline, without a message object or a call per
        layer; every other payload (and any decode problem) goes through ``_apply``/``handle``,
        so behaviour is the same as event by event. What the inline shapes exclude matters as
        much as what they include: a finish reason (and the usage a choice may carry with it),
        ``delta.function_call`` beside text, anything but one plain fragment. Returns how many
        payloads were applied (fewer than all only when strict mode must raise after one)."""
        names = run.names
        if self._ended or (names is not None and names.count("message") != len(names)):
            return super().handle_run(run, out, strict)  # named events other than the default
        absent = _ABSENT
        decode = _DECODE_CHUNK
        states = self._choices
        before = self.problems
        index = run.index
        payloads = run.payloads
        templates = self._templates
        chunk: wire.ChatChunk | None
        string = template_string
        previous: Template | None = None  # the template the previous payload matched
        guess: Template | None = None  # the one that followed it last time
        open_template: Template | None = None  # the template of the last argument delta
        # the buffer typed as the list it is: mypyc appends to it without a method lookup
        open_args: list[str] = NO_ARGS  # and its call's buffer and index
        open_index = 0
        missed = 0  # payloads not read through a template (the rest are template hits)
        reported = 0  # hits already added to _template_hits
        for k in range(len(payloads)):  # mypyc turns enumerate() into a loop only without a start
            data = payloads[k]
            i = index + k
            # a payload like one seen before: only its text is read. The template that
            # followed the previous one last time is tried first (interleaved choices take
            # turns), then the others
            confirm = None  # an unchecked template this payload matched: checked by the decode
            template = guess
            if template is None or not (
                data.startswith(template.head) and data.endswith(template.tail)
            ):
                template = None
                for candidate in templates:
                    if data.startswith(candidate.head) and data.endswith(candidate.tail):
                        template = candidate
                        break
            if template is not None:
                if len(data) >= template.inline_at:
                    try:
                        text = string(data[template.start : len(data) - template.cut])
                    except template_errors:
                        text = None
                elif template.confirmable:  # the full decode below checks it, for free
                    text = None
                    confirm = template
                else:
                    text = template.read(data)
                if text is not None:
                    if template is not guess and previous is not None:
                        previous.follower = template  # the guess was wrong: learn the turn
                    previous = template
                    guess = template.follower
                    # typed, the tag unpacks as a C struct (an Any would be iterated)
                    field, c, key = cast("tuple[str, int, int | None]", template.tag)
                    if field is _ARGUMENTS:
                        if template is not open_template:  # not the last such delta's call
                            live = states[c]
                            call = live.last if key is None else live.by_index.get(key)
                            if call is not None and call.started and not call.ended:
                                open_template = template  # open until another path runs
                                open_args = call.args
                                open_index = call.index
                        if template is open_template:
                            if text:
                                open_args.append(text)
                                if len(open_args) > _COMPACT_AT:
                                    cast(ArgumentBuffer, open_args).compact()
                                out.append(_ARGUMENTS_DELTA(i, c, open_index, text))
                            continue
                        # else the full path says what is wrong
                    else:
                        if text:
                            if field is _CONTENT:
                                out.append(_TEXT_DELTA(i, c, text))
                            elif field is _REFUSAL:
                                out.append(_REFUSAL_DELTA(i, c, text))
                            else:
                                out.append(_REASONING_DELTA(i, c, text, field))
                        continue
            previous = guess = None
            missed += 1
            if len(data) < 16:  # [DONE], or a payload too short to be a chunk worth a shortcut
                chunk = None
            else:
                try:
                    chunk = decode(data) if self._started else _decode_first(data)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    chunk = None
            if (
                chunk is not None
                and self._started
                and ((usage := chunk.usage) is absent or len(usage) == 4)  # absent or null
                and chunk.x_groq is absent
                and chunk.error is absent
                and (choices := chunk.choices) is not None
                and len(choices) == 1
                and (delta := (choice := choices[0]).delta) is not None
                and choice.finish_reason is None
                and (state := states.get(c := choice.index)) is not None
            ):
                fragments = delta.tool_calls
                content = delta.content
                if fragments is None:
                    # function_call: the legacy functions API (rare), read by _choice. The
                    # texts in _texts' order; CHUNK reads content only as a string.
                    if delta.function_call is None:
                        if delta.reasoning_content:
                            out.append(_REASONING_DELTA(i, c, delta.reasoning_content,
                                                        "reasoning_content"))
                        if delta.reasoning:
                            out.append(_REASONING_DELTA(i, c, delta.reasoning, "reasoning"))
                        if content:
                            out.append(_TEXT_DELTA(i, c, content))
                        if delta.refusal:
                            out.append(_REFUSAL_DELTA(i, c, delta.refusal))
                        if confirm is not None:  # its template is there: nothing to learn
                            kind = confirm.tag[0]
                            confirm.confirm(data, None if kind is _ARGUMENTS
                                            else getattr(delta, kind))
                        elif self._learning:
                            kind = _text_kind(delta)
                            self._learn(data, kind, kind and getattr(delta, kind), c, None,
                                        k + 1 - missed - reported)
                            reported = k + 1 - missed
                        continue
                elif (
                    len(fragments) == 1
                    and not content
                    and not delta.reasoning_content
                    and not delta.reasoning
                    and not delta.refusal
                    and (frag := fragments[0]).id is None
                    and (fn := frag.function) is not None
                    and fn.name is None
                    and frag.type is None
                    and frag.extra_content is absent
                ):
                    key = frag.index
                    call = state.last if key is None else state.by_index.get(key)
                    args = fn.arguments
                    if call is not None and call.started and not call.ended and (
                        type(args) is str
                    ):
                        if args:
                            buffer = call.args
                            buffer.append(args)
                            if len(buffer) > _COMPACT_AT:
                                buffer.compact()
                            out.append(_ARGUMENTS_DELTA(i, c, call.index, args))
                        if confirm is not None:  # its template is there: nothing to learn
                            confirm.confirm(data, args if confirm.tag[0] is _ARGUMENTS
                                            else None)
                        elif self._learning:
                            self._learn(data, _ARGUMENTS, args, c, key,
                                        k + 1 - missed - reported)
                            reported = k + 1 - missed
                        continue
            open_template = None  # the full path may end or replace any call
            msg = message_at(run, k)
            if chunk is None:
                if data == _DONE:
                    self._on_done(msg, out)
                elif not data or data.isspace():
                    out.append(_OTHER_EVENT(i, "message", data))
                else:
                    self.handle(msg, out)  # decodes again to report what is wrong
            else:
                self._apply(msg, chunk, out)
            if strict and self.problems != before:
                self._template_hits += k + 1 - missed - reported
                return k + 1
            if self._ended and k + 1 < len(payloads):  # [DONE] mid-run: the rest is reported
                self._template_hits += k + 1 - missed - reported
                return k + 1 + super().handle_run(rest_from(run, k + 1), out, strict)
        self._template_hits += len(payloads) - missed - reported
        return len(payloads)

    def _learn(self, data: bytes, kind: str | None, text: str | None, c: int, key: int | None,
               hits: int) -> None:
        """Make a template from a payload the hot path just applied (it missed the templates
        there are), from the second payload of a shape (choices interleave theirs); ``text``
        is the field's text there, so the template's first match is checked by its full
        decode (``Template.confirm``). After ``_BUILDS`` builds, a stream goes on learning only
        while its templates are read ``_PAYOFF`` times per build, and after ``_MISSES`` only if
        one was ever read. A payload ``make`` gives no template for ends learning: padding
        new on every payload, or a key twice (logprobs), come back in the stream's next ones,
        and a stream that learns pays for it on every payload it reads in full."""
        self._template_hits += hits
        if kind is None:
            return
        tag = (kind, c, key)
        seen = self._shapes
        state = seen.get(tag)
        if state is None:  # one payload of a shape is no run yet: wait for a second
            if len(seen) < _SHAPES:
                seen[tag] = _SEEN
            return
        if state is _MADE and not self._template_hits:
            self._template_misses += 1  # this shape's template missed its next payload
        templates = self._templates
        if (self._template_builds >= _BUILDS and self._template_hits < (
                _PAYOFF * self._template_builds)) or (
                self._template_misses >= _MISSES and not self._template_hits):
            self._stop_learning()
            return
        self._template_builds += 1
        template = make(data, _KEYS[kind], _DECODE_CHUNK, _READERS[kind], tag, text)
        if template is None:  # padding made anew on every payload, or the key twice (logprobs
            self._stop_learning()  # repeat "content"): so will the stream's next payloads
            return
        seen[tag] = _MADE
        templates[:] = [t for t in templates if t.tag != tag][: _TEMPLATES - 1]
        templates.insert(0, template)

    def _stop_learning(self) -> None:
        self._learning = False
        # templates that never matched (servers that change an id on every payload) would
        # only cost every later payload a scan
        self._templates[:] = [t for t in self._templates if t.matched]

    def _apply(
        self, msg: SSEMessage, chunk: wire.ChatChunk | wire.LooseChatChunk, out: list[Event]
    ) -> None:
        """Everything a decoded chunk says, in order: text, fragments, finish, usage, errors."""
        if not self._started:
            self._metadata(msg, chunk, out)
        choices = chunk.choices
        if choices:
            for choice in choices:
                self._choice(msg, choice, out)
        usage = chunk.usage
        if (
            (usage is not _ABSENT and len(usage) != 4)  # 4 bytes: null, or nothing _rest reads
            or chunk.x_groq is not _ABSENT
            or chunk.error is not _ABSENT
            or choices is None
            or msg.event == "error"
        ):
            self._rest(msg, chunk, out)

    def _metadata(
        self, msg: SSEMessage, chunk: wire.ChatChunk | wire.LooseChatChunk, out: list[Event]
    ) -> None:
        """StreamStarted from the first chunk that has an id or model (C14: Azure's first
        chunk has empty ones), or without them at the first chunk with choices."""
        meta: wire.FirstChunk | wire.ChunkIds
        if type(chunk) is wire.FirstChunk:
            meta = chunk  # read with the chunk (the run's path)
        else:
            try:
                meta = _surrogates.view(wire.IDS, msg.data)
            except (msgspec.DecodeError, UnicodeDecodeError):
                meta = wire.ChunkIds()  # a field of an odd type: metadata is optional
        if meta.id or meta.model or chunk.choices:
            self.started(out, msg.index, meta.id or None, meta.model or None)

    def _rest(
        self, msg: SSEMessage, chunk: wire.ChatChunk | wire.LooseChatChunk, out: list[Event]
    ) -> None:
        """The rare parts of a chunk: usage, errors, payloads that are not chunks at all."""
        usage = wire.raw_value(chunk.usage)
        if usage is None and (groq := wire.raw_value(chunk.x_groq)) is not None:
            with contextlib.suppress(msgspec.DecodeError):  # x_groq not an object: no usage
                usage = wire.raw_value(wire.GROQ_EXTRA.decode(groq).usage)
        if usage is not None:
            self._usage(msg, usage, out)
        error = wire.raw_value(chunk.error)
        is_error = error is not None or msg.event == "error"
        if not is_error and chunk.choices is None:
            try:
                meta = _surrogates.view(wire.META, msg.data)
                is_error = meta.object == "error"  # vLLM's error payload
            except (msgspec.DecodeError, UnicodeDecodeError):
                is_error = False
        if is_error:
            self._on_error(msg, error, out)
        elif chunk.choices is None and usage is None:
            self._other(msg, out)

    def _usage(self, msg: SSEMessage, usage: bytes, out: list[Event]) -> None:
        value = _load(usage)
        if isinstance(value, dict):
            out.append(_USAGE(msg.index, value))
        elif value is _BAD:
            self.payload_error(out, msg, "invalid UTF-8 in usage")

    def _choice(
        self, msg: SSEMessage, choice: wire.Choice | wire.LooseChoice, out: list[Event]
    ) -> None:
        c = choice.index
        state = self._choices.get(c)
        if state is None:
            state = self._choices[c] = _Choice(c)
        delta = choice.delta
        if delta is not None:
            if delta.content or delta.reasoning_content or delta.reasoning or delta.refusal:
                self._texts(msg, c, delta, out)
            fragments = delta.tool_calls
            if fragments:
                if not isinstance(fragments, list):  # TGI <= 3.1: one object (LOOSE_CHUNK)
                    self.report_at(out, msg, "tool_calls sent as one object instead of a list")
                    fragments = [fragments]
                i = msg.index
                for frag in fragments:
                    # Hot path: a continuation that only carries arguments for a call already
                    # started (nearly every fragment). Anything else takes _fragment.
                    fn = frag.function
                    if (
                        frag.id is None
                        and fn is not None
                        and fn.name is None
                        and frag.type is None
                        and frag.extra_content is _ABSENT
                    ):
                        key = frag.index
                        call = state.last if key is None else state.by_index.get(key)
                        args = fn.arguments
                        if (
                            call is not None
                            and call.started
                            and not call.ended
                            and (args is None or type(args) is str)
                        ):
                            if args:
                                call.args.add(args)
                                out.append(_ARGUMENTS_DELTA(i, c, call.index, args))
                            continue
                    self._fragment(msg, state, frag, out)
            elif delta.function_call is not None:  # never beside tool_calls: an echo there
                self._legacy(msg, state, delta.function_call, out)
        if choice.finish_reason:
            self._finish_choice(msg, state, choice.finish_reason, out)
            # Moonshot/Kimi: usage inside the choice that ends. Read only with the finish reason,
            # so the hot path (chunks without one) needs no check for it.
            if choice.usage is not _ABSENT and (usage := wire.raw_value(choice.usage)):
                self._usage(msg, usage, out)

    def _legacy(
        self,
        msg: SSEMessage,
        state: _Choice,
        fn: wire.FunctionDelta | wire.LooseFunctionDelta,
        out: list[Event],
    ) -> None:
        """The deprecated functions API: one call per choice, streamed as ``function_call``
        pieces without id or index. It is the fragment of call index 0, so it follows the
        same correlation and finality (``finish_reason: function_call``, ``[DONE]``)."""
        frag: wire.ToolCallDelta | wire.LooseToolCallDelta
        if isinstance(fn, wire.FunctionDelta):
            frag = wire.ToolCallDelta(index=0, function=fn)
        else:
            frag = wire.LooseToolCallDelta(index=0, function=fn)
        self._fragment(msg, state, frag, out)

    def _texts(
        self, msg: SSEMessage, c: int, delta: wire.Delta | wire.LooseDelta, out: list[Event]
    ) -> None:
        i = msg.index
        if delta.reasoning_content:
            out.append(_REASONING_DELTA(i, c, delta.reasoning_content, "reasoning_content"))
        if delta.reasoning:
            out.append(_REASONING_DELTA(i, c, delta.reasoning, "reasoning"))
        content = delta.content
        if content:
            if isinstance(content, str):
                out.append(_TEXT_DELTA(i, c, content))
            else:
                self._content_parts(msg, c, content, out)
        if delta.refusal:
            out.append(_REFUSAL_DELTA(i, c, delta.refusal))

    def _content_parts(
        self, msg: SSEMessage, c: int, parts: list[wire.ContentPart], out: list[Event]
    ) -> None:
        """List content (C17): text parts are text; Mistral's ``thinking`` parts and
        Databricks' ``reasoning`` parts (a ``summary`` list of ``summary_text`` parts) are
        reasoning. A part of another type is text if it has some, else passed through as an
        ``OtherEvent`` (``content.<type>``): nothing is dropped unsaid."""
        i = msg.index
        for part in parts:
            kind = part.type
            if kind == "thinking" or kind == "reasoning":
                field = part.thinking if kind == "thinking" else part.summary
                raw = wire.raw_value(field)  # Raw() when absent: never ``None``
                if raw is None:
                    text, source = part.text or "", kind
                else:
                    value = _load(raw)
                    if value is _BAD:
                        self.payload_error(out, msg, f"invalid UTF-8 in a {kind} part")
                        continue
                    text = _flatten_text(value)
                    source = "thinking" if kind == "thinking" else "summary"
                if text:
                    out.append(_REASONING_DELTA(event_index=i, choice=c, text=text, source=source))
            elif part.text:
                out.append(_TEXT_DELTA(event_index=i, choice=c, text=part.text))
            elif kind != "text":
                out.append(_OTHER_EVENT(event_index=i, type=f"content.{kind}",
                                        raw=bytes(msg.data)))

    # -- tool call fragments -------------------------------------------------------------

    def _fragment(
        self,
        msg: SSEMessage,
        state: _Choice,
        frag: wire.ToolCallDelta | wire.LooseToolCallDelta,
        out: list[Event],
    ) -> None:
        fid = frag.id or None
        fn = frag.function
        name = (fn.name or None) if fn is not None else None
        args = self._arguments(msg, fn, out)

        call = self._find(state, frag.index, fid, name)
        if call is None:
            call = self._open_call(msg, state, frag.index, fid, name, out)
        elif call.ended:
            if not args and name in (None, call.name):
                return  # C10: an empty fragment adds nothing, even after the call was final
            self.report_at(
                out, msg,
                f"a fragment for call {call.index} of choice {state.index} after it was final",
                call=call, data=args)
            return
        else:
            if fid is not None and call.call_id is None:
                call.call_id = fid
                state.by_id[fid] = call
            if name is not None and call.name is None:
                call.name = name
            elif name is not None and name != call.name:  # taken once, but never dropped unsaid
                self.report_at(out, msg, f"another name for call {call.index} of choice "
                               f"{state.index}", call=call, data=name)
        if frag.type == "custom" and not call.started:
            call.type = "custom"
        raw = frag.extra_content  # absent on nearly every fragment: no call for it then
        extra = None if raw is _ABSENT else wire.raw_value(raw)
        if extra is not None:
            value = _load(extra)
            if value is _BAD:
                self.payload_error(out, msg, "invalid UTF-8 in extra_content")
            else:
                call.extra = {**(call.extra or {}), "extra_content": value}

        if call.started:
            if args:
                call.args.add(args)
                out.append(_ARGUMENTS_DELTA(event_index=msg.index, choice=state.index,
                                            index=call.index, delta=args))
            return
        call.args.add(args)
        if call.name is not None:  # arguments may come before the name (C09): start now
            call.started = True
            out.append(_CALL_STARTED(event_index=msg.index, choice=state.index, index=call.index,
                                     call_id=call.call_id, name=call.name, type=call.type))
            if not call.args.empty:
                out.append(_ARGUMENTS_DELTA(event_index=msg.index, choice=state.index,
                                            index=call.index, delta=call.args.text()))

    def _find(
        self, state: _Choice, index: int | None, fid: str | None, name: str | None
    ) -> OpenCall | None:
        """The call a fragment belongs to, ``None`` for a new one (the module docstring)."""
        if index is not None:
            call = state.by_index.get(index)
            if call is None:
                loose = state.loose
                if (
                    loose is not None
                    and not loose.ended
                    and fid in (None, loose.call_id)
                    and name in (None, loose.name)
                ):
                    state.loose = None  # opened without an index, continued with one
                    state.by_index[index] = loose
                    return loose
                return None  # an index never seen: a new call, even if its id repeats
            if fid is None or call.call_id is None or call.call_id == fid or name is None:
                return call  # a nameless fragment with another id continues (Poolside)
            return None  # C03: same index, new id and a name: a new call
        last = state.last
        if fid is None:
            return last
        if last is not None and (last.call_id == fid or (last.call_id is None and not last.ended)):
            return last
        return state.by_id.get(fid)

    def _open_call(
        self,
        msg: SSEMessage,
        state: _Choice,
        key: int | None,
        fid: str | None,
        name: str | None,
        out: list[Event],
    ) -> OpenCall:
        if state.finished:
            self.report_protocol(
                out, f"a new call in choice {state.index} after its finish_reason",
                event_index=msg.index, byte_offset=msg.offset, event=msg.event, raw=msg.data,
                call_id=fid, index=state.count)
        for previous in list(state.open):  # another call starts: the open ones are final
            self._end(out, msg, state, previous)
        call = self.new_call(OpenCall("chat", state.index, state.count, fid, name))
        state.count += 1
        state.open.append(call)
        state.last = call
        state.loose = call if key is None else None
        if key is not None:
            state.by_index[key] = call
        if fid is not None:
            state.by_id[fid] = call
        return call

    def _arguments(
        self, msg: SSEMessage, fn: wire.FunctionDelta | wire.LooseFunctionDelta | None,
        out: list[Event]
    ) -> str:
        if fn is None:
            return ""
        args = fn.arguments
        if isinstance(args, str):
            return args
        raw = wire.raw_value(args) if args is not None else None
        if raw is None:
            return ""
        # C12: arguments sent as JSON, not a string: keep the exact text
        if raw[:1] == b'"':
            text = _load(raw)
            if text is _BAD:
                self.payload_error(out, msg, "invalid UTF-8 in arguments")
                return raw.decode("utf-8", "replace")
            return str(text)
        text = raw.decode("utf-8", "replace")
        self.report_at(out, msg, "arguments sent as a JSON value instead of a string", data=text)
        return text

    # -- ends ----------------------------------------------------------------------------

    def _end(self, out: list[Event], msg: SSEMessage, state: _Choice, call: OpenCall) -> None:
        state.open.remove(call)
        self.done(out, msg.index, call, byte_offset=msg.offset)

    def _finish_choice(
        self, msg: SSEMessage, state: _Choice, reason: str, out: list[Event]
    ) -> None:
        if state.finished:
            return  # a repeated finish_reason adds nothing
        state.finished = True
        self.finish_reasons[state.index] = reason
        cut = CUT_REASONS.get(reason.lower())
        for call in list(state.open):
            state.open.remove(call)
            if cut is None:
                self.done(out, msg.index, call, byte_offset=msg.offset)
            else:
                self.cut(out, msg.index, call, cut)
        out.append(_CHOICE_DONE(event_index=msg.index, choice=state.index, finish_reason=reason))

    def _on_done(self, msg: SSEMessage, out: list[Event]) -> None:
        for state in self._choices.values():
            for call in list(state.open):
                self._end(out, msg, state, call)
        self.stream_done(out, msg.index, "error" if self._errored else "done")

    def _on_error(self, msg: SSEMessage, error: bytes | None, out: list[Event]) -> None:
        message, kind, code = _error_fields(msg.data, error)
        for state in self._choices.values():
            state.open.clear()
        self.provider_error(out, msg.index, ProviderError(
            message, api="chat", code=code, type=kind, event_index=msg.index,
            byte_offset=msg.offset, raw=bytes(msg.data)))

    def _other(self, msg: SSEMessage, out: list[Event]) -> None:
        """A payload that is not a chunk (keep-alives, vendor events): passed through, typed by
        its SSE event name, or by its own ``type`` on a plain ``message`` event."""
        probe = _load(msg.data)
        kind = probe.get("type") if isinstance(probe, dict) else None
        if isinstance(kind, str) and kind.startswith("response."):
            self.report_at(out, msg, "a Responses API event on a Chat Completions stream "
                           "(wrong endpoint or api=?)")
            return
        name = kind if msg.event == "message" and isinstance(kind, str) and kind else msg.event
        out.append(_OTHER_EVENT(event_index=msg.index, type=name, raw=bytes(msg.data)))

    def status_at_eof(self, rest: Unterminated) -> str:
        if self._errored:
            return "error"
        states = self._choices.values()
        if states and all(s.finished for s in states) and not rest.truncated:
            return "finished"  # every choice finished, no [DONE] (e.g. Writer)
        return "truncated"


def _error_fields(data: bytes | bytearray, error: bytes | None
                  ) -> tuple[str, str | None, str | None]:
    """Message, type and code of an error object, or of a top-level error payload."""
    if error is not None:
        if error[:1] != b"{":
            value = _load(error)
            return (excerpt(error) if value is _BAD else str(value)), None, None
        try:
            body = wire.ERROR_BODY.decode(error)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return excerpt(error), None, None
    else:
        try:
            body = wire.ERROR_BODY.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return excerpt(data), None, None
    code = body.code
    return (body.message or excerpt(data), body.type,
            None if code is None else str(code))


def _flatten_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_flatten_text(v) for v in value)
    if isinstance(value, dict):
        text = value.get("text")
        if isinstance(text, str):
            return text
        return _flatten_text(value.get("thinking", ""))
    return ""
