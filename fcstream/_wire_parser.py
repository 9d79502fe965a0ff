"""What the parser reads of a payload before it knows the API: the probe that decides it, and
a whole JSON error body sent instead of a stream.

Kept out of ``_parser`` (compiled by mypyc, which stores a class body's annotations as runtime
classes: msgspec would read ``str | None`` as ``type``).
"""

from __future__ import annotations

from typing import Final

import msgspec

__all__ = ["ERROR_BODY", "PROBE", "ErrorDetail", "ErrorEnvelope", "Probe"]


class Probe(msgspec.Struct, gc=False):
    type: str | None = None
    choices: msgspec.Raw = msgspec.Raw()
    sequence_number: msgspec.Raw = msgspec.Raw()


PROBE: Final = msgspec.json.Decoder(Probe)


class ErrorDetail(msgspec.Struct, gc=False):
    message: str | None = None
    type: str | None = None
    code: str | int | None = None


class ErrorEnvelope(msgspec.Struct, gc=False):
    error: ErrorDetail | str


ERROR_BODY: Final = msgspec.json.Decoder(ErrorEnvelope)
