"""ArgumentsPreview: a partial view of streaming arguments that is never a finality signal."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fcstream import ArgumentsPreview

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
objects = st.dictionaries(st.text(max_size=6), json_values, max_size=5)


def preview_of(*fragments: str) -> ArgumentsPreview:
    preview = ArgumentsPreview()
    for fragment in fragments:
        preview.feed(fragment)
    return preview


def test_closed_object_reads_back() -> None:
    p = preview_of('{"city": "Par', 'is", "days": [1, 2', "]}")
    assert p.value() == {"city": "Paris", "days": [1, 2]}
    assert p.looks_complete


def test_open_string_is_closed_for_display() -> None:
    assert preview_of('{"city": "Par').value() == {"city": "Par"}


def test_dangling_key_and_partial_literal_fall_back_to_last_member() -> None:
    assert preview_of('{"a": 1, "b"').value() == {"a": 1}
    assert preview_of('{"a": "x", "b": tr').value() == {"a": "x"}
    assert preview_of('{"a').value() == {}


def test_escape_split_across_fragments() -> None:
    p = preview_of('{"q": "a\\', '"b"}')
    assert p.value() == {"q": 'a"b'}
    assert p.looks_complete


def test_looks_complete_is_not_finality() -> None:
    # F1: a closed object followed by a second one. The preview says "looks complete" after the
    # first, and stops saying so when more arrives: exactly why it must never trigger a tool.
    p = preview_of('{"city": "Paris"}')
    assert p.looks_complete
    p.feed('{"city": "Rome"}')
    assert not p.looks_complete


def test_nothing_yet() -> None:
    assert preview_of().value() is None
    assert preview_of("  ").value() is None
    assert not preview_of().looks_complete


@given(objects, st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_any_chunking_same_view(value: dict[str, Any], cuts: list[int]) -> None:
    text = json.dumps(value, ensure_ascii=False)
    points = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    whole = preview_of(text)
    chunked = preview_of(*pieces)
    assert chunked.value() == whole.value() == value
    assert chunked.looks_complete
    assert whole.looks_complete


@given(objects, st.integers(min_value=0, max_value=400))
def test_every_prefix_gives_a_value_or_none(value: dict[str, Any], cut: int) -> None:
    text = json.dumps(value)
    prefix = text[: min(cut, len(text))]
    got = preview_of(prefix).value()
    assert got is None or isinstance(got, dict)
    if prefix != text:
        assert not preview_of(prefix).looks_complete or prefix.rstrip() == text
