"""fcstream: rebuild LLM tool calls from streamed Chat Completions and Responses output, and hand
each call over the moment the stream's structure proves it finished."""

from . import _native  # noqa: F401  (first: it picks the compiled modules or their sources)
from ._call import ArgumentBuffer, ToolCall
from ._dispatch import CallOutcome, DispatchResult, arun_calls, run_calls
from ._errors import (
    ArgumentsError,
    ContentTypeError,
    DefinitionError,
    DispatchError,
    FcstreamError,
    HTTPError,
    HTTPStatusError,
    IncompleteStreamError,
    PayloadError,
    ProtocolError,
    ProviderError,
    StreamFormatError,
    StrictSchemaError,
    TurnError,
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
from ._http import AsyncEventStream, EventStream, astream, stream
from ._iterate import acollect, aiter_calls, aiter_events, collect, iter_calls, iter_events
from ._parser import StreamParser
from ._preview import ArgumentsPreview
from ._responses import expand_parallel
from ._result import StreamResult
from ._server import Fault, ReplayServer
from ._sse import SSEFramer, SSEMessage
from ._tools import Tool, allowed_tools, strict_schema, tool_choice, tools_for
from ._turn import error_result, next_turn_chat, next_turn_responses

__version__ = "0.1.0"

__all__ = [
    "ArgumentBuffer",
    "ArgumentsDelta",
    "ArgumentsError",
    "ArgumentsPreview",
    "AsyncEventStream",
    "CallDone",
    "CallIncomplete",
    "CallOutcome",
    "CallStarted",
    "ChoiceDone",
    "ContentTypeError",
    "DefinitionError",
    "DispatchError",
    "DispatchResult",
    "ErrorEvent",
    "Event",
    "EventStream",
    "Fault",
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
    "ReplayServer",
    "SSEFramer",
    "SSEMessage",
    "StreamDone",
    "StreamFormatError",
    "StreamParser",
    "StreamResult",
    "StreamStarted",
    "StrictSchemaError",
    "TextDelta",
    "Tool",
    "ToolCall",
    "TurnError",
    "Usage",
    "UsageError",
    "acollect",
    "aiter_calls",
    "aiter_events",
    "allowed_tools",
    "arun_calls",
    "astream",
    "collect",
    "error_result",
    "expand_parallel",
    "iter_calls",
    "iter_events",
    "next_turn_chat",
    "next_turn_responses",
    "run_calls",
    "stream",
    "strict_schema",
    "tool_choice",
    "tools_for",
]

def _claim_public_names() -> None:
    """Show public classes and functions as ``fcstream.X`` (reprs, docs, pickling paths)."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) or (callable(obj) and hasattr(obj, "__qualname__")):
            obj.__module__ = __name__


_claim_public_names()
