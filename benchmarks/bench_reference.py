"""How far above the floor must any event-producing parser sit on the recorded corpus?

Times four candidates on each API's corpus, interleaved (one pass of each per round, so a
burst of interference on this shared machine hits all of them alike), best of ``--rounds``:
the floor (split + msgspec view), floor + accumulate, floor + typed events (``_lean``: decode
every payload into fcstream's view Structs and build fcstream's events, nothing else) and
fcstream. Prints each one's time per SSE event and its ratio to the floor, and fcstream's
ratio to the typed-events reference: what its SSE rules, checks, quirks and per-stream set-up
cost beyond the least such a parser does.

    python benchmarks/bench_reference.py [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks._candidates import (
    _fcstream_whole,
    _floor_acc_chat,
    _floor_acc_responses,
    _floor_chat,
    _floor_responses,
)
from benchmarks._lean import lean_chat, lean_responses
from benchmarks._measure import loop
from benchmarks._workloads import Api, Stream, corpus

Run = Callable[[Stream], Any]
ROWS: dict[Api, dict[str, Run]] = {
    "chat": {"floor": _floor_chat, "floor + accumulate": _floor_acc_chat,
             "floor + typed events": lean_chat, "fcstream": _fcstream_whole},
    "responses": {"floor": _floor_responses, "floor + accumulate": _floor_acc_responses,
                  "floor + typed events": lean_responses, "fcstream": _fcstream_whole},
}


def interleaved(runs: dict[str, Run], streams: tuple[Stream, ...], rounds: int
                ) -> dict[str, int]:
    """Best nanoseconds per candidate for one pass over ``streams``."""
    passes = {name: loop(run, streams) for name, run in runs.items()}
    best = dict.fromkeys(runs, sys.maxsize)
    gc.disable()
    try:
        for _ in range(rounds):
            for name, one_pass in passes.items():
                start = time.perf_counter_ns()
                one_pass()
                best[name] = min(best[name], time.perf_counter_ns() - start)
    finally:
        gc.enable()
    return best


def main(rounds: int) -> None:
    for api, runs in ROWS.items():
        workload = corpus(api)
        best = interleaved(runs, workload.streams, rounds)
        floor = best["floor"]
        print(f"{workload.name}: {workload.events:,} events, best of {rounds} rounds")
        for name, ns in best.items():
            print(f"  {name:22s} {ns / workload.events / 1000:6.2f} us/event  "
                  f"{ns / floor:5.2f}x floor")
        ratio = best["fcstream"] / best["floor + typed events"]
        print(f"  fcstream / floor + typed events: {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    main(parser.parse_args().rounds)
