"""The error tree: who inherits from whom, fields, str() built from fields, equality by fields."""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest

import fcstream
from fcstream import (
    ArgumentsError,
    ContentTypeError,
    FcstreamError,
    HTTPError,
    HTTPStatusError,
    IncompleteStreamError,
    PayloadError,
    ProtocolError,
    ProviderError,
    StreamFormatError,
    ToolCall,
    UsageError,
    _errors,
)
from fcstream._errors import EXCERPT_BYTES, excerpt

TREE = {
    UsageError: (FcstreamError, RuntimeError),
    StreamFormatError: (FcstreamError,),
    PayloadError: (FcstreamError,),
    ProtocolError: (PayloadError,),
    ArgumentsError: (FcstreamError, ValueError),
    ProviderError: (FcstreamError,),
    HTTPError: (FcstreamError,),
    HTTPStatusError: (HTTPError,),
    ContentTypeError: (HTTPError,),
    IncompleteStreamError: (FcstreamError,),
}


def error_classes() -> list[type[FcstreamError]]:
    return [
        obj
        for _, obj in inspect.getmembers(_errors, inspect.isclass)
        if issubclass(obj, FcstreamError) and obj.__module__ in ("fcstream", _errors.__name__)
    ]


@pytest.mark.parametrize(("cls", "bases"), TREE.items(), ids=lambda x: getattr(x, "__name__", ""))
def test_subclass_relations(cls: type[FcstreamError], bases: tuple[type, ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)
    assert issubclass(cls, FcstreamError)
    assert issubclass(cls, Exception)


def test_siblings_are_not_related() -> None:
    assert not issubclass(ProviderError, PayloadError)
    assert not issubclass(StreamFormatError, PayloadError)
    assert not issubclass(ArgumentsError, PayloadError)
    assert not issubclass(PayloadError, ValueError)
    assert not issubclass(UsageError, ValueError)


def test_every_error_class_is_public_and_drawn_in_the_docstring() -> None:
    doc = _errors.__doc__ or ""
    for cls in error_classes():
        assert getattr(fcstream, cls.__name__) is cls
        assert f"+- {cls.__name__}" in doc or cls is FcstreamError, cls.__name__
        assert cls.__doc__


def test_excerpt_is_bounded_and_printable() -> None:
    assert excerpt(b"abc") == "abc"
    long = excerpt(b"x" * 10_000)
    assert long == "x" * EXCERPT_BYTES + "..."
    assert excerpt(b"\xff\xfeok") == "\ufffd\ufffdok"
    assert excerpt("y" * 500, limit=10) == "y" * 10 + "..."
    assert excerpt(memoryview(b"mv")) == "mv"


# -- fields and str() --------------------------------------------------------------------------


def payload_error(**overrides: object) -> PayloadError:
    fields: dict[str, object] = {
        "api": "chat",
        "event_index": 3,
        "byte_offset": 120,
        "event": "message",
        "excerpt": '{"choices":',
    }
    fields.update(overrides)
    return PayloadError("invalid JSON", **fields)  # type: ignore[arg-type]


def test_payload_error_fields_and_str() -> None:
    error = payload_error()
    assert (error.api, error.event_index, error.byte_offset, error.event, error.excerpt) == (
        "chat",
        3,
        120,
        "message",
        '{"choices":',
    )
    assert str(error) == "chat event 3, byte 120: invalid JSON: '{\"choices\":'"
    assert error.events == []


def test_payload_error_str_without_offset_or_api() -> None:
    error = payload_error(api=None, byte_offset=-1)
    assert str(error) == "unknown API event 3: invalid JSON: '{\"choices\":'"


def test_protocol_error_fields() -> None:
    error = ProtocolError(
        "a fragment for call 0 after it was final",
        api="chat",
        event_index=7,
        byte_offset=900,
        call_id="call_a",
        index=0,
        data="1}",
    )
    assert (error.call_id, error.index, error.data) == ("call_a", 0, "1}")
    assert str(error).startswith("chat event 7, byte 900: a fragment for call 0")
    assert "call_id='call_a'" in repr(error)


def test_stream_format_error_str() -> None:
    error = StreamFormatError("an event exceeds max_event_bytes=10", byte_offset=5, excerpt="dat")
    assert str(error) == "an event exceeds max_event_bytes=10 (byte 5: 'dat')"


def test_arguments_error_str() -> None:
    error = ArgumentsError(
        "arguments hold 2 JSON values, not one",
        call_id="call_1",
        name="f",
        index=0,
        values_found=2,
        position=14,
        excerpt="",
    )
    assert str(error) == (
        "call 0 ('f', id 'call_1'): arguments hold 2 JSON values, not one at character 14: ''"
    )


def test_provider_error_str() -> None:
    error = ProviderError(
        "overloaded", api="chat", code="503", type="server_error", event_index=2, raw=b"{}"
    )
    assert str(error) == "provider error at event 2 (server_error, 503): overloaded"
    assert str(ProviderError("boom", api=None)) == "provider error: boom"
    assert error.raw == b"{}"


def test_http_errors_str() -> None:
    error = HTTPStatusError(
        "not an event stream", status_code=502, content_type="text/html", body_excerpt="<html>"
    )
    assert str(error) == "not an event stream (HTTP 502, content type 'text/html'): '<html>'"
    assert isinstance(error, HTTPError)


def test_incomplete_stream_error_keeps_the_calls() -> None:
    call = ToolCall(call_id="a", name="f", arguments="{", index=0, complete=False, extra={"k": 1})
    error = IncompleteStreamError("input ended", calls=(call,), reason="truncated")
    assert error.calls == [call]
    assert error == IncompleteStreamError("input ended", calls=[call], reason="truncated")
    assert hash(error) == hash(IncompleteStreamError("input ended", calls=[], reason="truncated"))


def test_usage_error_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError):
        raise UsageError("feed() after finish()")


# -- equality ----------------------------------------------------------------------------------


def test_equal_when_fields_are_equal() -> None:
    assert payload_error() == payload_error()
    assert hash(payload_error()) == hash(payload_error())
    assert payload_error() != payload_error(event_index=4)
    assert payload_error() != payload_error(byte_offset=-1)


def test_events_do_not_take_part_in_equality() -> None:
    a, b = payload_error(), payload_error()
    a.events = ["something"]
    assert a == b


def test_different_classes_are_never_equal() -> None:
    protocol = ProtocolError(
        "invalid JSON",
        api="chat",
        event_index=3,
        byte_offset=120,
        excerpt='{"choices":',
    )
    assert protocol != payload_error()
    assert payload_error() != "invalid JSON"
    assert payload_error() != ValueError("invalid JSON")


def test_errors_in_frozen_events_compare_and_hash() -> None:
    event = fcstream.ErrorEvent(event_index=3, error=payload_error())
    assert event == fcstream.ErrorEvent(event_index=3, error=payload_error())
    assert len({event, fcstream.ErrorEvent(event_index=3, error=payload_error())}) == 1


# -- copying and pickling (worker processes send errors back pickled) ---------------------------


def samples() -> list[FcstreamError]:
    call = ToolCall(call_id="a", name="f", arguments="{", index=0, complete=False)
    return [
        UsageError("feed() after finish()"),
        StreamFormatError("too big", byte_offset=9, excerpt="data: x"),
        payload_error(),
        ProtocolError("late", api="chat", event_index=2, byte_offset=5, call_id="a", data="1}"),
        ArgumentsError(
            "bad", call_id="a", name="f", index=0, values_found=0, position=0, excerpt="{"
        ),
        ProviderError("overloaded", api="chat", code="503", event_index=2, raw=b"{}"),
        HTTPStatusError("no", status_code=502, content_type="text/html", body_excerpt="<"),
        ContentTypeError("no", status_code=200, content_type="application/json", body_excerpt=""),
        IncompleteStreamError("ended", calls=[call], reason="truncated"),
    ]


@pytest.mark.parametrize("error", samples(), ids=lambda e: type(e).__name__)
def test_errors_survive_pickle_and_copy(error: FcstreamError) -> None:
    error.events = ["kept"]
    for clone in (
        pickle.loads(pickle.dumps(error)),
        copy.copy(error),
        copy.deepcopy(error),
    ):
        assert type(clone) is type(error)
        assert clone == error
        assert str(clone) == str(error)
        assert clone.events == ["kept"]
        assert clone.args == error.args
