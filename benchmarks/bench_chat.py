"""Chat Completions: how much does fcstream cost per SSE event, against the floor (split +
msgspec view decode), naive json.loads accumulation and the openai SDK's own path from bytes?

Workloads: every chat recording of the shared corpus (per-file runs, summed: total time over
total events), then synthetic streams: one call with 10 KB, 100 KB and 1 MB of arguments in
4-character fragments, and 1 to 64 parallel calls of 1 KB. Targets (issue 3): within 1.5x of
the floor, at least 100x faster than the SDK, and linear (1 MB costs per byte what 10 KB does,
within 1.3x).

    python benchmarks/bench_chat.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks._report import run_api, versions
from benchmarks._timing import Settings, settings_from_argv


def main(settings: Settings) -> None:
    run_api("chat", settings)


if __name__ == "__main__":
    chosen = settings_from_argv(sys.argv[1:], "bench_chat.py")
    print(versions(), f"| {chosen.name} mode")
    main(chosen)
