"""Results back: the next turn's input for each API, with calls and results paired one to one.

A turn where a call has no result, a result names no call, or one call has two results is
answered by the provider with an opaque 400. Here it is a :class:`TurnError` naming the ids,
before anything is sent.

Results are given either as result items (``ToolCall.result()``, :func:`error_result`, a
dispatcher's ``.items``; in either API's shape) or as a mapping ``call_id -> output``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, overload

import msgspec

from ._call import Api, ToolCall
from ._errors import TurnError, UsageError

__all__ = ["error_result", "next_turn_chat", "next_turn_responses"]

Results = Sequence[Mapping[str, Any]] | Mapping[str, Any]
"""Result items (list, duplicates detectable) or a mapping ``call_id -> output``."""

_OUTPUT_TYPES: Final = frozenset({"function_call_output", "custom_tool_call_output"})
_ENCODE: Final = msgspec.json.Encoder()


def error_result(call: ToolCall, message: str, *, api: Api | None = None) -> dict[str, Any]:
    """A result item telling the model what went wrong, so it can correct the call and retry.

    The output is ``"Error: <message>"``; ``api`` defaults to the call's own.
    """
    return call.result(f"Error: {message}", api=api)


def next_turn_chat(
    calls: Sequence[ToolCall],
    results: Results,
    *,
    assistant_text: str | None = None,
    extras: bool = True,
) -> list[dict[str, Any]]:
    """The messages to append for a Chat Completions tool turn: one assistant message with
    every call (in call order), then one ``{"role": "tool", ...}`` message per call, in the same
    order whatever order the results came in.

    ``assistant_text`` is the text the model sent beside the calls (``content``, else null).
    ``extras`` echoes provider call metadata kept in ``ToolCall.extra`` (Gemini rejects a turn
    without its ``extra_content`` thought signature). Result items in the Responses shape are
    accepted and rewritten. Raises :class:`TurnError` when calls and results do not pair up and
    :class:`UsageError` for calls from several choices (``n > 1``: send one choice's calls).
    """
    choices = {c.choice for c in calls}
    if len(choices) > 1:
        raise UsageError(f"calls from choices {sorted(choices)}: a turn continues one choice")
    outputs = _pair(calls, results)
    tool_calls = []
    for call in calls:
        item = call.to_chat()
        if extras and call.extra:
            item.update({k: v for k, v in call.extra.items() if k not in item})
        tool_calls.append(item)
    messages: list[dict[str, Any]] = []
    if calls:
        messages.append({"role": "assistant", "content": assistant_text, "tool_calls": tool_calls})
    for call in calls:
        given = outputs[call.call_id or ""]
        if given.get("role") == "tool":
            messages.append(dict(given))
        else:
            messages.append(
                {"role": "tool", "tool_call_id": call.call_id, "content": _output_of(given)}
            )
    return messages


@overload
def next_turn_responses(
    calls: Sequence[ToolCall],
    results: Results,
    *,
    previous_response_id: None = None,
    item_ids: bool | Callable[[ToolCall], str] = False,
) -> list[dict[str, Any]]: ...


@overload
def next_turn_responses(
    calls: Sequence[ToolCall],
    results: Results,
    *,
    previous_response_id: str,
    item_ids: bool | Callable[[ToolCall], str] = False,
) -> dict[str, Any]: ...


def next_turn_responses(
    calls: Sequence[ToolCall],
    results: Results,
    *,
    previous_response_id: str | None = None,
    item_ids: bool | Callable[[ToolCall], str] = False,
) -> list[dict[str, Any]] | dict[str, Any]:
    """The input items for a Responses tool turn.

    Without ``previous_response_id``: the call items (``function_call``/``custom_tool_call``,
    in call order) followed by one output item per call, in the same order, to append to the
    input you sent. Reasoning and message items of the response are not calls: when you do not
    chain by id, append them from the response yourself (reasoning models need them).

    With ``previous_response_id``: the short form, ``{"previous_response_id": ...,
    "input": [outputs...]}``, to pass as keyword arguments; the server already has the calls.

    ``item_ids`` adds an ``id`` to each output item (some compatible gateways require one):
    ``True`` makes ``"fco_<call_id>"``, a function makes whatever it returns; ids already on
    the items are kept. Raises :class:`TurnError` when calls and results do not pair up.
    """
    outputs = _pair(calls, results)
    items: list[dict[str, Any]] = []
    for call in calls:
        given = outputs[call.call_id or ""]
        if given.get("type") in _OUTPUT_TYPES:
            item = dict(given)
        else:
            kind = "custom_tool_call_output" if call.type == "custom" else "function_call_output"
            item = {"type": kind, "call_id": call.call_id, "output": _output_of(given)}
        if item_ids and "id" not in item:
            item["id"] = item_ids(call) if callable(item_ids) else f"fco_{call.call_id}"
        items.append(item)
    if previous_response_id is not None:
        return {"previous_response_id": previous_response_id, "input": items}
    return [*(call.to_responses() for call in calls), *items]


def _output_of(given: Mapping[str, Any]) -> Any:
    """The output of a result item in either shape, or a mapping's value (as text)."""
    if "content" in given and given.get("role") == "tool":
        return given["content"]
    if "output" in given and given.get("type") in _OUTPUT_TYPES:
        return given["output"]
    value = given["value"]
    return value if isinstance(value, str) else _ENCODE.encode(value).decode()


def _pair(calls: Sequence[ToolCall], results: Results) -> dict[str, Mapping[str, Any]]:
    """call_id -> the result item (or ``{"value": output}`` for mapping input); TurnError if
    calls and results do not pair up one to one."""
    without_id = [pos for pos, call in enumerate(calls) if not call.call_id]
    ids = [call.call_id for call in calls if call.call_id]
    duplicate: list[str] = []
    seen: set[str] = set()
    for cid in ids:
        if cid in seen and cid not in duplicate:
            duplicate.append(cid)
        seen.add(cid)
    by_id: dict[str, Mapping[str, Any]] = {}
    if isinstance(results, Mapping):
        if results.get("role") == "tool" or results.get("type") in _OUTPUT_TYPES:
            raise UsageError("pass result items as a list, or a mapping call_id -> output")
        for cid, output in results.items():
            by_id[str(cid)] = {"value": output}
    else:
        for pos, item in enumerate(results):
            cid = _result_id(item, pos)
            if cid in by_id and cid not in duplicate:
                duplicate.append(cid)
            by_id[cid] = item
    missing = [cid for cid in dict.fromkeys(ids) if cid not in by_id]
    unknown = [cid for cid in by_id if cid not in seen]
    if missing or unknown or duplicate or without_id:
        raise TurnError(
            "calls and results do not pair up one to one (the provider would reject this turn)",
            missing=missing,
            unknown=unknown,
            duplicate=duplicate,
            without_id=without_id,
        )
    return by_id


def _result_id(item: Any, pos: int) -> str:
    if not isinstance(item, Mapping):
        raise UsageError(f"result {pos} is a {type(item).__name__}, not a result item")
    if item.get("role") == "tool" and isinstance(item.get("tool_call_id"), str):
        return str(item["tool_call_id"])
    if item.get("type") in _OUTPUT_TYPES and isinstance(item.get("call_id"), str):
        return str(item["call_id"])
    raise UsageError(
        f"result {pos} is not a result item: expected {{'role': 'tool', 'tool_call_id': ...}} "
        f"(chat) or {{'type': 'function_call_output', 'call_id': ...}} (Responses), got "
        f"keys {sorted(item)}"
    )
