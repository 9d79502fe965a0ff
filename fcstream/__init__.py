"""fcstream: rebuild LLM tool calls from streamed Chat Completions and Responses output, and hand
each call over the moment the stream's structure proves it finished."""

from ._call import ArgumentBuffer, ToolCall
from ._errors import (
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
    UsageError,
)
from ._events import (
    ArgumentsDelta,
    CallDone,
    CallIncomplete,
    CallStarted,
    ChoiceDone,
    ErrorEvent,
    Event,
    HostedToolEvent,
    OtherEvent,
    ReasoningDelta,
    RefusalDelta,
    StreamDone,
    StreamStarted,
    TextDelta,
    Usage,
)
from ._iterate import acollect, aiter_calls, aiter_events, collect, iter_calls, iter_events
from ._parser import StreamParser
from ._preview import ArgumentsPreview
from ._result import StreamResult
from ._sse import SSEFramer, SSEMessage

__version__ = "0.1.0"

__all__ = [
    "ArgumentBuffer",
    "ArgumentsDelta",
    "ArgumentsError",
    "ArgumentsPreview",
    "CallDone",
    "CallIncomplete",
    "CallStarted",
    "ChoiceDone",
    "ContentTypeError",
    "ErrorEvent",
    "Event",
    "FcstreamError",
    "HTTPError",
    "HTTPStatusError",
    "HostedToolEvent",
    "IncompleteStreamError",
    "OtherEvent",
    "PayloadError",
    "ProtocolError",
    "ProviderError",
    "ReasoningDelta",
    "RefusalDelta",
    "SSEFramer",
    "SSEMessage",
    "StreamDone",
    "StreamFormatError",
    "StreamParser",
    "StreamResult",
    "StreamStarted",
    "TextDelta",
    "ToolCall",
    "Usage",
    "UsageError",
    "acollect",
    "aiter_calls",
    "aiter_events",
    "collect",
    "iter_calls",
    "iter_events",
]

def _claim_public_names() -> None:
    """Show public classes and functions as ``fcstream.X`` (reprs, docs, pickling paths)."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__"):
            obj.__module__ = __name__


_claim_public_names()
