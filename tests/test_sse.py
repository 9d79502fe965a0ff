"""SSEFramer against the WHATWG "event stream interpretation" rules, one rule per test."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import fcstream
from fcstream import SSEFramer, SSEMessage, StreamFormatError
from fcstream._runs import messages_of, offset_at, rest_from
from fcstream._sse import PayloadRun, Unterminated

from .feed import byte_by_byte, split_at, whatwg

BOM = b"\xef\xbb\xbf"


def frame(
    chunks: Sequence[bytes | bytearray | memoryview], **kwargs: int
) -> tuple[list[SSEMessage], Unterminated]:
    framer = SSEFramer(**kwargs)
    out: list[SSEMessage] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out, framer.finish()


def datas(chunks: Sequence[bytes]) -> list[bytes]:
    return [m.data for m in frame(chunks)[0]]


def every_split(data: bytes) -> list[list[bytes]]:
    """Whole, byte by byte, and split in two at every offset."""
    ways = [[data], byte_by_byte(data)]
    ways.extend(split_at(data, [i]) for i in range(len(data) + 1))
    return ways


def same_for_every_split(data: bytes) -> tuple[list[SSEMessage], Unterminated]:
    expected = frame([data])
    for chunks in every_split(data):
        assert frame(chunks) == expected, chunks
    return expected


# -- line endings ----------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings_frame_the_same(eol: bytes) -> None:
    text = b"event: a\ndata: 1\ndata: 2\n\n: c\n\ndata: 3\n\n".replace(b"\n", eol)
    messages, rest = same_for_every_split(text)
    assert [(m.event, m.data) for m in messages] == [("a", b"1\n2"), ("message", b"3")]
    assert rest == Unterminated(b"", len(text), False)


def test_mixed_line_endings_in_one_stream() -> None:
    text = b"data: a\r\ndata: b\rdata: c\n\r\n\rdata: d\n\n"
    messages, _ = same_for_every_split(text)
    assert [m.data for m in messages] == [b"a\nb\nc", b"d"]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # counted twice, the LF would be a blank line and dispatch "a" alone
    assert datas([b"data: a\r", b"\ndata: b\r\n\r\n"]) == [b"a\nb"]
    assert datas([b"data: a\r", b"", b"\ndata: b\r\n\r\n"]) == [b"a\nb"]  # empty read between


def test_lone_cr_at_chunk_end_then_a_chunk_without_lf() -> None:
    assert datas([b"data: a\r", b"data: b\r\r"]) == [b"a\nb"]


def test_cr_then_lf_after_a_blank_line_split() -> None:
    # the blank line is CR + LF split across chunks: one dispatch, then the next block
    messages, _ = frame([b"data: a\r\n\r", b"\ndata: b\n\n"])
    assert [(m.data, m.offset) for m in messages] == [(b"a", 0), (b"b", 11)]


def test_lf_only_stream_never_needs_cr_handling() -> None:
    messages, _ = frame([b"data: a\n\ndata: b\n", b"\n"])
    assert [m.data for m in messages] == [b"a", b"b"]


def test_cr_in_a_memoryview_chunk_is_seen() -> None:
    messages, _ = frame([memoryview(b"data: a\rdata: b\r\r")])
    assert [m.data for m in messages] == [b"a\nb"]


def test_bytearray_and_memoryview_chunks() -> None:
    chunks: list[bytes | bytearray | memoryview] = [
        bytearray(b"data: a"),
        memoryview(b"\n\ndata: b\n\n"),
    ]
    assert [m.data for m in frame(chunks)[0]] == [b"a", b"b"]


# -- BOM ---------------------------------------------------------------------------------------


def test_leading_bom_is_stripped() -> None:
    messages, _ = same_for_every_split(BOM + b"data: x\n\n")
    assert [(m.data, m.offset) for m in messages] == [(b"x", 3)]


def test_bom_split_across_chunks_is_stripped() -> None:
    assert datas([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [b"x"]
    assert datas([b"\xef\xbb", b"\xbf", b"data: x\n\n"]) == [b"x"]


def test_second_bom_is_not_stripped() -> None:
    # the first line's field name becomes "\ufeffdata", which is no known field
    messages, rest = frame([BOM + BOM + b"data: x\n\ndata: y\n\n"])
    assert [m.data for m in messages] == [b"y"]
    assert rest.data == b""


def test_bom_later_in_the_stream_is_not_stripped() -> None:
    assert datas([b"data: a\n\n" + BOM + b"data: b\n\n"]) == [b"a"]


def test_bom_prefix_that_is_not_a_bom_is_kept() -> None:
    messages, rest = frame([b"\xef\xbb", b"x\n\ndata: y\n\n"])
    assert [m.data for m in messages] == [b"y"]
    assert rest == Unterminated(b"", 14, False)


def test_stream_of_only_a_partial_bom() -> None:
    assert frame([b"\xef\xbb"]) == ([], Unterminated(b"", 0, False))
    assert frame([BOM]) == ([], Unterminated(b"", 3, False))


# -- fields ------------------------------------------------------------------------------------


def test_comments_are_ignored() -> None:
    text = b": ping\n\n:\n\n: OPENROUTER PROCESSING\ndata: a\n: inside\ndata: b\n\n"
    messages, rest = same_for_every_split(text)
    assert [m.data for m in messages] == [b"a\nb"]
    assert rest.truncated is False


def test_comment_before_the_first_field_is_not_part_of_the_block() -> None:
    messages, _ = frame([b": ping\ndata: a\n\n"])
    assert messages[0].offset == 7


def test_comments_alone_do_not_grow_the_buffer() -> None:
    framer = SSEFramer()
    for _ in range(5000):
        assert framer.feed(b": keep-alive\n") == []
    assert len(framer._buf) < 64
    assert framer.finish() == Unterminated(b"", 5000 * 13, False)


def test_field_without_colon_has_an_empty_value() -> None:
    assert datas([b"data\n\n"]) == [b""]
    assert datas([b"data\ndata\n\n"]) == [b"\n"]
    assert datas([b"data\ndata: x\n\n"]) == [b"\nx"]
    messages, _ = frame([b"event\ndata: x\n\n"])
    assert messages[0].event == "message"


def test_empty_data_is_still_dispatched() -> None:
    messages, _ = frame([b"data:\n\ndata: \n\n"])
    assert [m.data for m in messages] == [b"", b""]


def test_only_one_leading_space_is_stripped() -> None:
    assert datas([b"data:  two\n\n"]) == [b" two"]
    assert datas([b"data:no-space\n\n"]) == [b"no-space"]
    assert datas([b"data:\tx\n\n"]) == [b"\tx"]
    assert datas([b"data: x \n\n"]) == [b"x "]
    messages, _ = frame([b"event:  e\ndata: x\n\n"])
    assert messages[0].event == " e"


def test_colon_in_the_value_is_kept() -> None:
    assert datas([b'data: {"a": "b:c"}\n\n']) == [b'{"a": "b:c"}']


def test_multi_line_data_is_joined_with_lf() -> None:
    assert datas([b"data: a\ndata: b\ndata: c\n\n"]) == [b"a\nb\nc"]
    assert datas([b"data: a\ndata:\ndata: c\n\n"]) == [b"a\n\nc"]


def test_unknown_fields_are_ignored() -> None:
    messages, _ = frame([b"foo: bar\ndata: x\nDATA: y\nData: z\n\n"])
    assert [(m.event, m.data) for m in messages] == [("message", b"x")]


def test_field_names_are_exact() -> None:
    # "data " (with a space) is not "data"
    assert datas([b"data : x\n\ndata: y\n\n"]) == [b"y"]


# -- id ----------------------------------------------------------------------------------------


def test_id_persists_and_empty_id_resets_it() -> None:
    text = b"id: 5\ndata: a\n\ndata: b\n\nid:\ndata: c\n\nid: 6\ndata: d\n\nid\ndata: e\n\n"
    messages, _ = same_for_every_split(text)
    assert [(m.data, m.id) for m in messages] == [
        (b"a", "5"),
        (b"b", "5"),
        (b"c", ""),
        (b"d", "6"),
        (b"e", ""),
    ]


def test_id_with_nul_is_ignored() -> None:
    messages, _ = frame([b"id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\n"])
    assert [m.id for m in messages] == ["1", "1"]


def test_id_set_in_a_block_without_data_persists() -> None:
    framer = SSEFramer()
    messages = framer.feed(b"id: 7\n\ndata: a\n\n")
    assert [m.id for m in messages] == ["7"]
    assert framer.last_event_id == "7"


def test_id_never_set_is_empty() -> None:
    messages, _ = frame([b"data: a\n\n"])
    assert messages[0].id == ""


# -- retry -------------------------------------------------------------------------------------


def test_retry_only_when_all_ascii_digits() -> None:
    framer = SSEFramer()
    cases = [
        (b"retry: 1000\n", 1000),
        (b"retry: 10a\n", 1000),
        (b"retry: -1\n", 1000),
        (b"retry: 1.5\n", 1000),
        (b"retry:\n", 1000),
        (b"retry\n", 1000),
        ("retry: \u0661\u0662\n".encode(), 1000),  # Arabic-Indic digits are not ASCII
        (b"retry: 2000 \n", 1000),
        (b"retry:  2000\n", 1000),  # the second space is part of the value
        (b"retry: 0\n", 0),
        (b"retry: 0042\n", 42),
    ]
    for line, expected in cases:
        framer.feed(line)
        assert framer.retry == expected, line
    assert framer.feed(b"data: x\n\n")[0].retry == 42


def test_retry_defaults_to_none() -> None:
    messages, _ = frame([b"data: x\n\n"])
    assert messages[0].retry is None


# -- event type and dispatch -------------------------------------------------------------------


def test_event_type_defaults_to_message_and_resets_after_dispatch() -> None:
    messages, _ = frame([b"event: foo\ndata: a\n\ndata: b\n\nevent:\ndata: c\n\n"])
    assert [(m.event, m.data) for m in messages] == [
        ("foo", b"a"),
        ("message", b"b"),
        ("message", b"c"),
    ]


def test_event_type_resets_even_when_the_block_has_no_data() -> None:
    messages, _ = frame([b"event: ping\n\ndata: b\n\n"])
    assert [(m.event, m.data) for m in messages] == [("message", b"b")]


def test_block_without_data_is_not_dispatched() -> None:
    text = b"event: ping\n\nevent: ping\nid: 3\nretry: 5\n\n"
    messages, rest = frame([text])
    assert messages == []
    assert rest == Unterminated(b"", len(text), False)


def test_last_event_type_wins_within_a_block() -> None:
    messages, _ = frame([b"event: a\nevent: b\ndata: x\n\n"])
    assert messages[0].event == "b"


def test_several_blank_lines_dispatch_once() -> None:
    messages, _ = frame([b"data: a\n\n\n\n\ndata: b\n\n"])
    assert [(m.data, m.index, m.offset) for m in messages] == [(b"a", 0, 0), (b"b", 1, 12)]


def test_offsets_and_indexes_of_each_message() -> None:
    text = b"data: a\n\n: c\n\nevent: e\ndata: bb\n\nevent: ping\n\ndata: ccc\r\n\r\n"
    messages, rest = same_for_every_split(text)
    assert [(m.index, m.offset, m.data) for m in messages] == [
        (0, 0, b"a"),
        (1, 14, b"bb"),
        (2, 46, b"ccc"),
    ]
    for m in messages:
        assert text[m.offset :].startswith((b"data", b"event"))
    assert rest.offset == len(text)


def test_utf8_split_across_chunks_stays_bytes() -> None:
    text = "data: caf\u00e9 \u2603\n\n".encode()
    for chunks in every_split(text):
        assert [m.data.decode() for m in frame(chunks)[0]] == ["caf\u00e9 \u2603"]


def test_non_utf8_bytes_pass_through_as_data() -> None:
    assert datas([b"data: \xff\xfe\n\n"]) == [b"\xff\xfe"]


def test_empty_chunks_are_fine() -> None:
    framer = SSEFramer()
    assert framer.feed(b"") == []
    assert framer.feed(b"data: a\n") == []
    assert framer.feed(b"") == []
    assert [m.data for m in framer.feed(b"\n")] == [b"a"]


# -- end of input ------------------------------------------------------------------------------


def test_unterminated_final_block_is_reported_not_dispatched() -> None:
    messages, rest = same_for_every_split(b"data: a\n\ndata: b")
    assert [m.data for m in messages] == [b"a"]
    assert rest == Unterminated(b"data: b", 9, True)


def test_final_block_without_blank_line_is_reported() -> None:
    messages, rest = frame([b"data: a\n\ndata: b\n"])
    assert [m.data for m in messages] == [b"a"]
    assert rest == Unterminated(b"data: b\n", 9, True)


def test_final_block_ending_in_cr_is_reported() -> None:
    messages, rest = frame([b"data: a\r\rdata: b\r"])
    assert [m.data for m in messages] == [b"a"]
    assert rest == Unterminated(b"data: b\r", 9, True)


def test_unterminated_field_line_is_a_truncation() -> None:
    assert frame([b"data: a\n\nevent: x"])[1] == Unterminated(b"event: x", 9, True)


def test_unterminated_comment_is_not_a_truncation() -> None:
    assert frame([b"data: a\n\n: bye"])[1] == Unterminated(b": bye", 9, False)


def test_multi_line_unterminated_block_keeps_all_its_bytes() -> None:
    _, rest = frame([b"data: a\n\nevent: e\ndata: b\ndata: c"])
    assert rest == Unterminated(b"event: e\ndata: b\ndata: c", 9, True)


def test_empty_stream() -> None:
    assert frame([]) == ([], Unterminated(b"", 0, False))


def test_counters_and_properties() -> None:
    framer = SSEFramer()
    text = b"retry: 10\nid: 9\ndata: a\n\ndata: b\n\ndata: c"
    framer.feed(text)
    assert framer.dispatched == 2
    assert framer.bytes_fed == len(text)
    assert framer.last_event_id == "9"
    assert framer.retry == 10


# -- size cap ----------------------------------------------------------------------------------


def test_size_cap_raises_and_keeps_messages_completed_before() -> None:
    framer = SSEFramer(max_event_bytes=100)
    with pytest.raises(StreamFormatError) as info:
        framer.feed(b"data: a\n\ndata: b\n\ndata: " + b"x" * 200 + b"\n\n")
    assert [m.data for m in info.value.events] == [b"a", b"b"]
    assert info.value.byte_offset == 18
    assert info.value.excerpt.startswith("data: xxx")
    with pytest.raises(StreamFormatError):  # sticky
        framer.feed(b"data: c\n\n")


def test_size_cap_on_a_line_fed_in_pieces() -> None:
    framer = SSEFramer(max_event_bytes=100)
    assert [m.data for m in framer.feed(b"data: a\n\n")] == [b"a"]
    for _ in range(10):
        assert framer.feed(b"data: xxxx") == []  # 100 bytes open: not over the cap yet
    with pytest.raises(StreamFormatError) as info:
        framer.feed(b"data: xxxx")
    assert info.value.byte_offset == 9
    assert info.value.events == []
    with pytest.raises(StreamFormatError):
        framer.feed(b"\n\n")


def test_size_cap_counts_every_data_line_of_the_event() -> None:
    framer = SSEFramer(max_event_bytes=100)
    with pytest.raises(StreamFormatError):
        framer.feed(b"data: 0123456789\n" * 20 + b"\n")


def test_events_under_the_cap_pass() -> None:
    body = b"x" * 90
    messages, _ = frame([b"data: " + body + b"\n\n"] * 3, max_event_bytes=100)
    assert [m.data for m in messages] == [body] * 3


# -- scale: correctness and a bounded buffer, never timing -------------------------------------


def test_one_megabyte_line_fed_one_byte_at_a_time() -> None:
    body = bytes(range(32, 127)) * (1_000_000 // 95)
    data = b"data: " + body + b"\n\n"
    framer = SSEFramer()
    out: list[SSEMessage] = []
    feed = framer.feed
    for i in range(len(data)):
        out.extend(feed(data[i : i + 1]))
    assert len(out) == 1
    assert out[0].data == body
    assert len(framer._buf) < 16


@pytest.mark.parametrize("head", [b"", b"event: big\n", b"id: 3\n"])
@pytest.mark.parametrize("read", [4096, 65_537, 300_000])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_a_big_event_between_small_ones_frames_the_same_in_any_reads(
    head: bytes, read: int, eol: bytes
) -> None:
    """An open block over the re-read size is completed in the buffer (its payload copied
    once); the small events around it still come out the same and in order."""
    small = b"data: a\n\nevent: e\ndata: b\n\n"
    big = head + b"data: " + b"x" * 200_000 + b"\n\n"
    small, big = small.replace(b"\n", eol), big.replace(b"\n", eol)
    data = small + big + small + big + small
    whole = frame([data])
    lf = frame([data.replace(b"\r\n", b"\n")])[0]  # the same events, other offsets
    assert [(m.event, m.data, m.id) for m in whole[0]] == [(m.event, m.data, m.id) for m in lf]
    assert [m.data[:1] for m in whole[0]] == [b"a", b"b", b"x", b"a", b"b", b"x", b"a", b"b"]
    assert frame([data[i : i + read] for i in range(0, len(data), read)]) == whole
    assert frame(split_at(data, [len(small) + len(big) - 1, len(small) + len(big) + 3])) == whole


def lend(chunks: Sequence[bytes], **kwargs: int) -> tuple[list[SSEMessage], Unterminated]:
    """``frame`` through ``feed_items``, the parser's way in: payloads may be lent."""
    framer = SSEFramer(**kwargs)
    out: list[SSEMessage] = []
    for chunk in chunks:
        for item in framer.feed_items(chunk):
            out.extend(messages_of(item) if isinstance(item, PayloadRun) else [item])
    return out, framer.finish()


@pytest.mark.parametrize("head", [b"", b"event: big\n", b"id: 3\n", b": note\n"])
@pytest.mark.parametrize("read", [4096, 65_537])
@pytest.mark.parametrize("space", [b" ", b""])
def test_a_big_payload_is_lent_as_the_framers_own_buffer(
    head: bytes, read: int, space: bytes
) -> None:
    """``feed_items`` (the parser's way in) gives a big event completed in the buffer that
    buffer as its payload (no copy): the same events as ``feed``, which copies it to bytes,
    and what is read afterwards never changes a payload already handed over (compared once
    everything was read)."""
    small = b"data: a\n\nevent: e\ndata: b\n\n"
    big = head + b"data:" + space + b"x" * 200_000 + b"\n\n"
    data = small + big + small + big + small
    reads = [data[i : i + read] for i in range(0, len(data), read)]
    lent = lend(reads)
    plain = frame(reads)
    assert lent == plain == frame([data])
    handed = [m.data for m in lent[0] if type(m.data) is bytearray]
    assert handed == [b"x" * 200_000] * 2
    assert {type(m.data) for m in plain[0]} == {bytes}


@pytest.mark.parametrize(("cut", "payload"), [(b"data:", b"x"), (b"data:", b""), (b"data: ", b"")])
def test_a_lent_payload_may_start_in_the_read_that_completes_it(
    cut: bytes, payload: bytes
) -> None:
    """A block made big by its ``event`` line, its short data line cut right after the field
    name: the space that may follow comes in the last read, and is dropped as the rules say."""
    block = b"event: " + b"n" * 70_000 + b"\n" + cut
    rest = (b" " if cut == b"data:" and payload else b"") + payload + b"\n\ndata: after\n\n"
    reads = [block[:40_000], block[40_000:], rest]
    got = lend(reads)
    assert got == frame(reads) == frame([block + rest])
    assert [m.data for m in got[0]] == [payload, b"after"]
    assert type(got[0][0].data) is bytearray


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["CRLF", "LF"])
def test_a_big_block_of_another_shape_is_copied_by_the_line_loop(eol: bytes) -> None:
    """Two data lines, or CRLF line ends: the line loop reads the block (a copy)."""
    big = (b"data: " + b"y" * 100_000 + eol) * 2 + eol
    reads = [big[i : i + 4096] for i in range(0, len(big), 4096)]
    got = lend(reads)
    assert got == frame(reads)
    assert [type(m.data) for m in got[0]] == [bytes]


@pytest.mark.parametrize("cap", [149_999, 150_000])
def test_a_lent_payload_is_capped_as_the_line_loop_caps_it(cap: int) -> None:
    """The cap counts the event's data: 150,000 bytes are one over a cap of 149,999 and fit
    one of 150,000, lent or not."""
    big = b"event: e\ndata: " + b"z" * 150_000 + b"\n\n"
    reads = [big[i : i + 4096] for i in range(0, len(big), 4096)]

    def outcome(run: Any) -> Any:
        try:
            return run(reads, max_event_bytes=cap)
        except StreamFormatError as exc:
            return str(exc), exc.byte_offset

    lent = outcome(lend)
    assert lent == outcome(frame)
    assert isinstance(lent[0], str) == (cap == 149_999)


@pytest.mark.parametrize("between", [
    b": keep-alive\n\n",  # a comment after a plain block: the run stops after that block
    b"\n\n\n",  # blank lines
    b"retry: 50\n\n",
    b"data: c\nid: 5\n\n",  # a block with another line: the run stops before it
    b"data: c\ndata: d\n\n",
    b"data: c\n: note\n\n",
])
def test_an_odd_block_after_plain_events_ends_their_run_there(between: bytes) -> None:
    """One split takes the plain blocks before the odd one as a run (not the line loop for
    the whole read); the events are the line loop's, in order."""
    plain = b"".join(b"data: {\"n\":%d}\n\n" % n for n in range(3))
    data = plain + between + plain
    items = SSEFramer().feed_items(data)
    assert isinstance(items[0], PayloadRun)
    assert items[0].payloads == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    assert items[0].size == len(plain)
    messages, rest = frame([data])
    expected = frame(byte_by_byte(data))
    assert (messages, rest) == expected
    assert [m.data for m in messages] == [d for _, d, _, _ in whatwg(data)]


@pytest.mark.parametrize("first", [0, 1])
@pytest.mark.parametrize("extra", [b"\n", b"\n\n", b"\n\n\n"])
def test_stray_blank_lines_between_plain_blocks(first: int, extra: bytes) -> None:
    """A blank line more after a plain block dispatches nothing. The split at ``\\n\\ndata:``
    leaves that block's payload ending in its line end: it is still a plain event, and every
    run the framer hands out holds events (an empty one crashed the parser)."""
    blocks = [b'data: {"n":%d}\n\n' % n for n in range(4)]
    data = b"".join(block + (extra if n >= first else b"") for n, block in enumerate(blocks))
    items = SSEFramer().feed_items(data)
    assert all(m.data for item in items
               for m in (messages_of(item) if isinstance(item, PayloadRun) else [item]))
    assert all(item.payloads for item in items if isinstance(item, PayloadRun))
    messages, rest = frame([data])
    assert (messages, rest) == frame(byte_by_byte(data))
    assert [m.data for m in messages] == [d for _, d, _, _ in whatwg(data)]
    assert [m.data for m in messages] == [b'{"n":%d}' % n for n in range(4)]
    parser = fcstream.StreamParser(strict=False)
    parser.feed(data)
    parser.finish()


@pytest.mark.parametrize(("step", "eol"), [(1, b"\n"), (3, b"\n"), (1, b"\r\n"), (3, b"\r")])
def test_many_tiny_events_in_tiny_chunks_keep_the_buffer_small(step: int, eol: bytes) -> None:
    count = 10_000 if step == 3 else 4_000
    data = b"".join(b"data: %d" % i + eol + eol for i in range(count))
    framer = SSEFramer()
    seen = 0
    largest = 0
    for i in range(0, len(data), step):
        for message in framer.feed(data[i : i + step]):
            assert message.data == b"%d" % seen
            assert message.index == seen
            seen += 1
        largest = max(largest, len(framer._buf))
    assert seen == count
    assert largest < 64
    assert framer.finish() == Unterminated(b"", len(data), False)


def test_more_event_names_than_the_name_cache_holds() -> None:
    """The fast split decodes each ``event:`` name once and keeps up to 256; past that the
    names are still right, decoded where they are read."""
    names = [f"kind.{i}" for i in range(600)]
    data = b"".join(b"event: %s\ndata: {}\n\n" % n.encode() for n in names)
    for reads in ([data], [data[i : i + 4096] for i in range(0, len(data), 4096)],
                  [b"event: %s\ndata: {}\n\n" % n.encode() for n in names]):
        messages, rest = frame(reads)
        assert [m.event for m in messages] == names
        assert rest.data == b""


OPEN_ENDINGS = [
    b"data: {\"a\":1}\n\ndata: {\"b\"",  # a data line cut short
    b"data: {\"a\":1}\n\ndata: {\"b\":2}\n",  # a whole line, no blank line yet
    b"data: {\"a\":1}\n\nevent: kind\n",  # only the event line of the next block
    b"event: one\ndata: 1\n\nevent: two\ndata: {\"x\"",
    b"event: one\ndata: 1\n\nevent: two\nid: 7\ndata: 2",  # id applies before dispatch
    b"data: 1\n\ndata: 2\nretry: 50\ndata: 3",  # so does retry
    b"data: 1\n\ndata: 2\nid\n",  # id with no colon: an empty id
    b"data: 1\n\ndata: 2\n: note\ndata: 3",  # a comment inside the open block
    b"data: 1\n\ndata: 2\ndata: 3\n",
    b"id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: {",  # the last id shows at once
    b"id: 1\ndata: 1\n\nid: 2\n",
]


@pytest.mark.parametrize("data", OPEN_ENDINGS)
def test_a_read_ending_in_an_open_block_frames_as_line_by_line(data: bytes) -> None:
    """A read that ends inside a block may leave that block unread in the buffer until the
    next read completes it: what the framer shows between reads (last id, retry, events) and
    at the end (the open block, whether it is a truncation) must not change."""
    whole = data + b"\n\ndata: after\n\n"
    for cut in range(1, len(whole)):
        fast, slow = SSEFramer(), SSEFramer()
        got = fast.feed(whole[:cut])
        want = [m for byte in byte_by_byte(whole[:cut]) for m in slow.feed(byte)]
        assert got == want, cut
        assert (fast.last_event_id, fast.retry, fast.bytes_fed) == (
            slow.last_event_id, slow.retry, slow.bytes_fed), cut
        assert fast.feed(whole[cut:]) == [m for b in byte_by_byte(whole[cut:])
                                          for m in slow.feed(b)], cut
        assert fast.finish() == slow.finish(), cut
    for end in range(1, len(data) + 1):  # input ends inside the open block
        assert frame([data[:end]]) == frame(byte_by_byte(data[:end])), end


@pytest.mark.parametrize(
    "block",
    [b"data: x\n" * 2000 + b"\n", b"event: e\n" + b"data: x\n" * 2000 + b"\n",
     b"data: x\n: c\n" * 1000 + b"\n"],
    ids=["data lines", "named", "with comments"],
)
def test_a_long_block_fed_byte_by_byte_is_read_once(block: bytes) -> None:
    """Linear time, counted rather than timed: every byte reaches the line loop at most twice
    (an open block under 64 KB is read again from its first byte when a read completes it).
    An LF at the start of a read used to be taken for the end of the open block, which was
    then read again at every line: quadratic."""
    handed: list[int] = []

    class Counting(SSEFramer):  # a subclass, not a patched class: compiled code calls it too
        def _general(self, data: bytes | bytearray | memoryview,
                     out: list[SSEMessage | PayloadRun]) -> None:
            handed.append(len(data))
            super()._general(data, out)

    framer = Counting()
    messages = [m for chunk in byte_by_byte(block + b"data: end\n\n") for m in framer.feed(chunk)]
    rest = framer.finish()
    assert handed  # the count saw the reads
    assert [m.data for m in messages][-1] == b"end"
    assert messages[0].data == b"\n".join([b"x"] * (block.count(b"data: x")))
    assert rest.data == b""
    assert sum(handed) <= 2 * len(block) + 64


def test_offsets_after_event_names_that_are_not_ascii() -> None:
    """Offsets count bytes: a name's UTF-8 length, not its characters."""
    data = "event: é.delta\ndata: 1\n\nevent: ok\ndata: 2\n\nevent: ü\ndata: 3\n\n".encode()
    messages, _ = same_for_every_split(data)
    assert [m.offset for m in messages] == [0, 25, 44]
    assert [data[m.offset :].split(b"\n")[0] for m in messages] == [
        "event: é.delta".encode(), b"event: ok", "event: ü".encode()]


@pytest.mark.parametrize("size", [100, 70_000])
def test_crlf_blocks_cut_next_to_their_line_ends(size: int) -> None:
    """A read that ends between a CR and its LF, or inside the blank line, in small and big
    (completed in the buffer) blocks alike."""
    block = b"event: e\r\ndata: " + b"x" * size + b"\r\n\r\n"
    data = b"data: a\r\n\r\n" + block + block + b"data: z\r\n\r\n"
    whole = frame([data])
    assert [m.data[:1] for m in whole[0]] == [b"a", b"x", b"x", b"z"]
    ends = [i for i in range(len(data)) if data[i : i + 1] in (b"\r", b"\n")]
    for end in ends:
        for cut in (end, end + 1):
            assert frame(split_at(data, [cut])) == whole, cut
            assert frame(split_at(data, [cut - 1, cut, cut + 2])) == whole, cut


@pytest.mark.parametrize("count", [1, 2, 17, 40])
@pytest.mark.parametrize("shape", [
    b"data: {}\n\n", b"data:x\n\n", b"event: e\xc3\xa9\ndata: {}\n\n", b"id: 7\ndata: {}\n\n",
    b"data: {}\r\n\r\n", b"event: e\r\ndata: {}\r\n\r\n", b"data: {}\nevent: e\xc3\xa9\n\n",
    b"data: {}\r\nevent: e\r\n\r\n", b"data: {}\nid: 7\n\n",
])
def test_every_block_offset_in_a_run_asked_in_any_order(count: int, shape: bytes) -> None:
    """A run works an offset out from its start, from the last block asked, or from its end:
    each way gives where the block starts, as the line loop finds it, in any order."""
    blocks = [shape.replace(b"{}", b'{"n":%d}' % (i * i)) for i in range(count)]
    data = b"".join(blocks)
    expected = [m.offset for m in frame([bytearray(data)])[0]]  # type: ignore[list-item]
    assert expected == [sum(map(len, blocks[:k])) for k in range(count)]
    for k in range(count):  # a fresh run for each block: nothing summed before
        (run,) = SSEFramer().feed_items(data)
        assert isinstance(run, PayloadRun)
        assert offset_at(run, k) == expected[k]
        assert offset_at(rest_from(run, k), 0) == expected[k]
        if k + 1 < count:
            assert offset_at(rest_from(run, k), 1) == expected[k + 1]
        (run,) = SSEFramer().feed_items(data)
        rest = rest_from(run, k)  # its last block, counted back from the rest's own size
        assert offset_at(rest, count - k - 1) == expected[-1]
    (run,) = SSEFramer().feed_items(data)
    assert [offset_at(run, k) for k in reversed(range(count))] == expected[::-1]
    (run,) = SSEFramer().feed_items(data)  # forward, back, then forward again from there
    order = [*range(0, count, 3), *range(count - 1, -1, -2), *range(1, count, 2)]
    assert [offset_at(run, k) for k in order] == [expected[k] for k in order]
