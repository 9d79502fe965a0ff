"""Responses API: fcstream per SSE event against the floor (split + msgspec view of
type/delta/item), naive json.loads accumulation and the openai SDK's own path from bytes
(``Stream`` + ``ResponseStream``/``ResponseStreamState.handle_event``).

Workloads: every Responses recording of the shared corpus, then synthetic streams: one call
with 10 KB, 100 KB and 1 MB of arguments in 4-character fragments, 1 to 64 parallel calls of
1 KB. Targets (issue 4): within 1.5x of the floor, at least 100x faster than the SDK, linear.

If fcstream's Responses parser is not there yet, its rows say so (MISSING) and the others run.

    python benchmarks/bench_responses.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks._report import run_api, versions
from benchmarks._timing import Settings, settings_from_argv


def main(settings: Settings) -> None:
    run_api("responses", settings)


if __name__ == "__main__":
    chosen = settings_from_argv(sys.argv[1:], "bench_responses.py")
    print(versions(), f"| {chosen.name} mode")
    main(chosen)
