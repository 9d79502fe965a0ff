"""A call while it is still streaming: mutable, private, frozen into a ``ToolCall`` when final."""

from __future__ import annotations

from typing import Any, Final

from ._call import Api, ArgumentBuffer, CallType, ToolCall

__all__ = ["OpenCall"]

# mypyc reads a Final module name from a C static, and any other global (an imported class
# included) from the module's dict on every use: the classes this module makes, bound once.
_ARGUMENT_BUFFER: Final = ArgumentBuffer
_TOOL_CALL: Final[type[ToolCall]] = ToolCall


class OpenCall:
    """What an accumulator knows about one call so far.

    ``started`` turns true once ``CallStarted`` was emitted (chat waits for a name, C09);
    ``ended`` once ``CallDone``/``CallIncomplete`` was; ``frozen`` keeps the final object.
    """

    __slots__ = (
        "api",
        "args",
        "call_id",
        "choice",
        "ended",
        "extra",
        "frozen",
        "index",
        "item_id",
        "name",
        "output_index",
        "started",
        "type",
    )

    def __init__(
        self,
        api: Api,
        choice: int,
        index: int,
        call_id: str | None = None,
        name: str | None = None,
        type: CallType = "function",
        item_id: str | None = None,
        output_index: int | None = None,
    ) -> None:  # positional: one call is made per tool call, keywords cost a name match each
        self.api: Api = api
        self.choice = choice
        self.index = index
        self.call_id = call_id
        self.name = name
        self.type: CallType = type
        self.item_id = item_id
        self.output_index = output_index
        self.args = _ARGUMENT_BUFFER()
        self.extra: dict[str, Any] | None = None
        self.started = False
        self.ended = False
        self.frozen: ToolCall | None = None

    def freeze(self, *, complete: bool) -> ToolCall:
        """The call as a frozen ``ToolCall``; kept, so ``.calls`` returns the same object."""
        self.frozen = self._build(complete)
        self.ended = True
        return self.frozen

    def snapshot(self) -> ToolCall:
        """The call as it stands: the final object once ended, else an incomplete copy."""
        return self.frozen if self.frozen is not None else self._build(False)

    def _build(self, complete: bool) -> ToolCall:
        return _TOOL_CALL(
            call_id=self.call_id,
            name=self.name,
            arguments=self.args.text(),
            index=self.index,
            choice=self.choice,
            api=self.api,
            item_id=self.item_id,
            type=self.type,
            complete=complete,
            extra=self.extra,
        )
