"""openai SDK stream objects as fcstream sources (duck-typed; ``openai`` is never imported).

Filled in by the clients work (issue 7); until then no object is recognised here.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import Any

__all__ = ["async_items", "sync_items"]


def sync_items(source: Any) -> Iterable[Any] | None:
    """Items to feed for an openai SDK sync stream, or ``None`` if ``source`` is not one."""
    return None


def async_items(source: Any) -> AsyncIterable[Any] | None:
    """Items to feed for an openai SDK async stream, or ``None`` if ``source`` is not one."""
    return None
