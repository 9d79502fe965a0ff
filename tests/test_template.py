"""Payload templates (fcstream/_template.py): a payload read through a template gives exactly
what its full decode gives, and anything that is not the template's shape takes the full decode.

Each stream is parsed twice, with templates and with them switched off, and the events, errors
and calls must be equal. The payloads are built to look like a template's as closely as
possible while meaning something else: a quote that is not escaped in the slot, a trailing
backslash, bad UTF-8, a lone surrogate escape, another field after the text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fcstream import StreamParser, TextDelta
from fcstream._chat import ChatAccumulator
from fcstream._events import Event
from fcstream._template import make

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

HEAD = b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
FIRST = HEAD + b'"delta":{"role":"assistant","content":""},"finish_reason":null}]}'
CALL = (HEAD + b'"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function",'
        b'"function":{"name":"f","arguments":""}}]},"finish_reason":null}]}')


def text_chunk(token: bytes, tail: bytes = b"") -> bytes:
    """A content payload with ``token`` as the raw bytes between the content's quotes."""
    return HEAD + b'"delta":{"content":"' + token + b'"' + tail + b'},"finish_reason":null}]}'


def args_chunk(token: bytes, index: int = 0) -> bytes:
    return (HEAD + b'"delta":{"tool_calls":[{"index":%d,"function":{"arguments":"' % index
            + token + b'"}}]},"finish_reason":null}]}')


def sse(payloads: list[bytes]) -> bytes:
    return b"".join(b"data: " + p + b"\n\n" for p in payloads)


def parse(data: bytes, *, templates: bool, reads: int = 1) -> tuple[list[Event], list[Any], int]:
    """Events (errors included), calls and template builds; ``reads`` splits the stream."""
    parser = StreamParser("chat", strict=False)
    acc = parser._acc
    assert isinstance(acc, ChatAccumulator)
    acc._learning = templates
    events: list[Event] = []
    step = max(1, len(data) // reads)
    for at in range(0, len(data), step):
        events.extend(parser.feed(data[at : at + step]))
    events.extend(parser.finish())
    return events, parser.calls, acc._template_builds


def same_both_ways(data: bytes, reads: int = 1) -> list[Event]:
    with_templates = parse(data, templates=True, reads=reads)
    without = parse(data, templates=False, reads=reads)
    assert with_templates[:2] == without[:2]
    return with_templates[0]


def texts(events: list[Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, TextDelta)]


def test_a_text_stream_is_read_through_a_template() -> None:
    words = [b"Hello", b" wor", b"ld", b"!"] * 20
    data = sse([FIRST, *map(text_chunk, words)]) + b"data: [DONE]\n\n"
    events = same_both_ways(data)
    assert "".join(texts(events)) == "Hello world!" * 20
    acc = StreamParser("chat")
    acc.feed(data)
    chat = acc._acc
    assert isinstance(chat, ChatAccumulator)
    assert chat._template_hits >= 70  # the templates were really used
    assert chat._template_builds <= 2


# the slot's raw bytes: each looks like one string token but some are not
TRICKY = [
    b'a\\"b',  # an escaped quote: one token
    b'a\\\\',  # a trailing escaped backslash: one token
    b'\\u00e9\\n\\t\\/',  # escapes msgspec reads
    b'x","refusal":"y',  # an unescaped quote: content x and a refusal y
    b'x","content":"y',  # the key twice: the last one wins
    b'a\\',  # a backslash escaping the closing quote: not JSON
    b'\\ud83d',  # a lone surrogate escape: JSON, read by the stdlib
    b'\\ud83d\\ude00',  # a surrogate pair: one emoji
    b"\xff\xfe",  # not UTF-8
    b"",  # empty text: no event
    "é漢字🙂".encode(),
]


@pytest.mark.parametrize("token", TRICKY, ids=repr)
def test_payloads_that_look_like_the_template_mean_what_their_json_says(token: bytes) -> None:
    payloads = [FIRST, text_chunk(b"a"), text_chunk(b"b"), text_chunk(token), text_chunk(b"c")]
    events = same_both_ways(sse(payloads) + b"data: [DONE]\n\n")
    reference = msgspec.json.decode(payloads[3]) if token not in (b"a\\", b"\xff\xfe",
                                                                  b"\\ud83d") else None
    if reference is not None:
        delta = reference["choices"][0]["delta"]
        if delta["content"]:
            assert delta["content"] in texts(events)


def test_a_field_after_the_text_is_not_hidden_by_the_template() -> None:
    payloads = [FIRST, text_chunk(b"a"), text_chunk(b"b"), text_chunk(b"c", b',"refusal":"no"')]
    events = same_both_ways(sse(payloads))
    assert [type(e).__name__ for e in events].count("RefusalDelta") == 1


@given(st.lists(st.text(max_size=6), min_size=1, max_size=30), st.integers(1, 7))
def test_any_texts_read_the_same_with_and_without_templates(words: list[str], reads: int) -> None:
    tokens = [json.dumps(w)[1:-1].encode() for w in words]
    data = sse([FIRST, *map(text_chunk, tokens)]) + b"data: [DONE]\n\n"
    events = same_both_ways(data, reads)
    assert "".join(texts(events)) == "".join(words)


@given(st.lists(st.lists(st.text(max_size=5), max_size=15), min_size=1, max_size=4))
def test_arguments_of_several_calls_read_the_same_with_and_without_templates(
    pieces: list[list[str]],
) -> None:
    payloads = []
    for i, texts_of_call in enumerate(pieces):
        payloads.append(CALL.replace(b'"index":0,"id":"call_1"', b'"index":%d,"id":"c%d"' % (i, i)))
        payloads.extend(args_chunk(json.dumps(t)[1:-1].encode(), i) for t in texts_of_call)
    data = sse(payloads) + b"data: [DONE]\n\n"
    _, calls, _ = parse(data, templates=True)
    assert calls == parse(data, templates=False)[1]
    assert [c.arguments for c in calls] == ["".join(t) for t in pieces]
    assert all(c.complete for c in calls)


def test_a_fragment_for_a_finished_call_is_reported_not_read_through_the_template() -> None:
    payloads = [CALL, args_chunk(b"{"), args_chunk(b"}"),
                HEAD + b'"delta":{},"finish_reason":"tool_calls"}]}', args_chunk(b"late")]
    events = same_both_ways(sse(payloads))
    assert any(type(e).__name__ == "ErrorEvent" for e in events)


def test_obfuscation_padding_ends_learning() -> None:
    """Padding made anew on every payload (OpenAI's ``obfuscation``) would leave no template
    matching: the stream reads every payload in full from its first repeat on, and reads it
    right (one that is not JSON is still reported)."""
    def padded(token: bytes, pad: bytes) -> bytes:
        return text_chunk(token)[:-1] + b',"obfuscation":"' + pad + b'"}'

    payloads = [FIRST] + [padded(b"w%d" % i, b"p" * (i % 7)) for i in range(40)]
    payloads.append(padded(b"x", b'q","content":"sneaky'))  # a second content: msgspec's call
    payloads.append(padded(b"y", b"\\"))  # not JSON
    data = sse(payloads) + b"data: [DONE]\n\n"
    events = same_both_ways(data)
    assert texts(events) == [f"w{i}" for i in range(40)] + ["x"]
    assert any(type(e).__name__ == "ErrorEvent" for e in events)
    parser = StreamParser("chat", strict=False)
    parser.feed(data)
    acc = parser._acc
    assert isinstance(acc, ChatAccumulator)
    assert (acc._learning, acc._templates, acc._template_hits) == (False, [], 0)
    assert acc._template_builds == 1  # the one attempt, which found the padding


def test_a_key_seen_twice_gives_no_template() -> None:
    data = text_chunk(b"a", b',"x":{"content":"b"}')
    assert make(data, b'"content":', msgspec.json.decode, lambda c: c, None) is None


def test_a_template_whose_slot_is_not_the_field_read_never_matches() -> None:
    data = text_chunk(b"a")
    template = make(data, b'"content":', msgspec.json.decode, lambda c: "something else", None)
    assert template is not None
    assert template.read(text_chunk(b"b")) is None  # the check failed at the first match
    assert template.read(text_chunk(b"c")) is None


def test_a_template_is_confirmed_by_a_payload_decoded_in_full() -> None:
    """The owner decodes the first matching payload anyway: the field it read there checks
    the template, with no probe decodes. A slot that holds the source's text again proves
    nothing yet; a field that is not the slot's text fails the template."""
    data = text_chunk(b"a")
    template = make(data, b'"content":', msgspec.json.decode, lambda c: "a", None, "a")
    assert template is not None
    assert template.confirmable
    template.confirm(text_chunk(b"a"), "a")  # the same text: nothing learned
    assert template.confirmable
    assert not template.matched
    template.confirm(text_chunk(b"b"), "b")
    assert template.matched
    assert not template.confirmable
    assert template.read(text_chunk(b"c\\n")) == "c\n"
    wrong = make(data, b'"content":', msgspec.json.decode, lambda c: "a", None, "a")
    assert wrong is not None
    wrong.confirm(text_chunk(b"b"), "a")  # the field read did not follow the slot
    assert not wrong.matched
    assert not wrong.confirmable
    assert wrong.read(text_chunk(b"b")) is None
    assert wrong.read(text_chunk(b"c")) is None


def test_a_payload_with_padding_makes_no_template() -> None:
    data = text_chunk(b"a", b',"obfuscation":"xyz"')
    assert make(data, b'"content":', msgspec.json.decode, lambda c: c, None, "a") is None
    escaped = text_chunk(b'a \\"obfuscation\\": b')  # the key's bytes inside a string
    assert make(escaped, b'"content":', msgspec.json.decode, lambda c: c, None) is not None


def test_streams_whose_bytes_always_change_stop_building_templates() -> None:
    payloads = [FIRST] + [text_chunk(b"w").replace(b'"created":1', b'"created":%d' % i)
                          for i in range(200)]
    events, _, builds = parse(sse(payloads), templates=True)
    assert len(texts(events)) == 200
    assert builds == 2  # two templates missed their next payload and none ever matched


def test_a_shape_whose_key_repeats_ends_learning() -> None:
    """Log probabilities repeat ``"content":``: no template can be made for such payloads, nor
    for the stream's next ones, so the stream stops learning (which costs every payload read
    in full) after one try."""
    logprobs = b',"logprobs":{"content":[]}'
    payloads = [FIRST] + [text_chunk(b"w%d" % i, logprobs) for i in range(50)]
    events, _, builds = parse(sse(payloads), templates=True)
    assert texts(events) == [f"w{i}" for i in range(50)]
    assert builds == 1
    parser = StreamParser("chat")
    parser.feed(sse(payloads))
    acc = parser._acc
    assert isinstance(acc, ChatAccumulator)
    assert not acc._learning


def test_a_stream_whose_templates_were_read_keeps_learning_after_a_miss() -> None:
    """Once a template paid off, a changed byte (``created`` ticking over) only means a new
    template: the stream goes on reading through templates."""
    first = [text_chunk(b"a%d" % i) for i in range(20)]
    later = [text_chunk(b"b%d" % i).replace(b'"created":1', b'"created":2') for i in range(20)]
    parser = StreamParser("chat", strict=False)
    acc = parser._acc
    assert isinstance(acc, ChatAccumulator)
    events = parser.feed(sse([FIRST, *first, *later])) + parser.finish()
    assert texts(events) == [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)]
    assert acc._template_builds == 2
    assert acc._template_hits >= 34  # both halves read through a template


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs ../shared/corpus")
def test_every_chat_recording_reads_the_same_with_and_without_templates() -> None:
    paths = sorted(CORPUS.glob("*/*chat*.sse"))
    assert paths
    for path in paths:
        same_both_ways(path.read_bytes())


@pytest.mark.parametrize("ending", [b'"st"', b"true", b'"\\""', b"1234"])
def test_a_tail_of_the_same_length_but_other_bytes_is_not_the_template(ending: bytes) -> None:
    """``"finish_reason":null`` and ``"finish_reason":"st"`` have the same length: only the
    tail's bytes tell them apart, and the finish must not be lost."""
    words = [text_chunk(b"w%d" % i) for i in range(5)]
    last = text_chunk(b"end").replace(b'"finish_reason":null', b'"finish_reason":' + ending)
    assert len(last) == len(text_chunk(b"end"))
    events = same_both_ways(sse([FIRST, *words, last]))
    if ending.startswith(b'"'):  # a string: a finish reason beside the text
        assert texts(events)[-1] == "end"
        assert [type(e).__name__ for e in events].count("ChoiceDone") == 1
    else:  # not a string: the payload is reported, not read through the template
        assert texts(events)[-1] == "w4"
        assert any(type(e).__name__ == "ErrorEvent" for e in events)


def test_a_template_that_failed_its_check_refuses_even_a_payload_with_its_bytes() -> None:
    data = text_chunk(b"a")
    template = make(data, b'"content":', msgspec.json.decode, lambda c: None, None)
    assert template is not None
    assert template.read(data) is None
    assert template.read(b"\x00fcstream: failed its check" + data[len(template.head):]) is None
    assert template.read(data) is None


@given(st.lists(st.tuples(st.integers(0, 5), st.text(max_size=4)), max_size=80))
def test_interleaved_choices_read_the_same_with_and_without_templates(
    pieces: list[tuple[int, str]],
) -> None:
    def chunk(choice: int, token: bytes) -> bytes:
        return text_chunk(token).replace(b'"choices":[{"index":0,', b'"choices":[{"index":%d,'
                                         % choice)

    firsts = [FIRST.replace(b'"choices":[{"index":0,', b'"choices":[{"index":%d,' % c)
              for c in range(6)]
    body = [chunk(c, json.dumps(t)[1:-1].encode()) for c, t in pieces]
    events = same_both_ways(sse([*firsts, *body]) + b"data: [DONE]\n\n")
    for c in range(6):
        got = "".join(e.text for e in events if isinstance(e, TextDelta) and e.choice == c)
        assert got == "".join(t for choice, t in pieces if choice == c)


def test_choices_taking_turns_are_read_through_their_templates() -> None:
    rounds = [text_chunk(b"w%d" % r).replace(b'"choices":[{"index":0,',
                                             b'"choices":[{"index":%d,' % c)
              for r in range(30) for c in range(6)]
    parser = StreamParser("chat", strict=False)
    parser.feed(sse([FIRST, *rounds]))
    acc = parser._acc
    assert isinstance(acc, ChatAccumulator)
    assert acc._template_hits >= 6 * 26


def test_a_template_on_another_field_with_the_same_key_fails_its_confirmation() -> None:
    """The delta's key is written with an escape, so ``"content":`` names another object's
    field: the template's slot is that field. The payload that confirms it shows the text did
    not follow the slot, and the texts stay what the JSON says."""
    payloads = [FIRST] + [
        HEAD + b'"delta":{"cont\\u0065nt":"t"},"finish_reason":null}],'
        b'"x":{"content":"v%d"}}' % i for i in range(12)
    ]
    events = same_both_ways(sse(payloads))
    assert texts(events) == ["t"] * 12
    parser = StreamParser("chat", strict=False)
    parser.feed(sse(payloads))
    acc = parser._acc
    assert isinstance(acc, ChatAccumulator)
    assert acc._template_builds == 2  # two templates failed: the stream stopped learning
    assert acc._template_hits == 0
