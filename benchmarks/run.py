"""Every benchmark in one run: ``python benchmarks/run.py [--quick]``.

Also run by ``fcstream bench`` through ``runpy`` with ``sys.argv`` set, so it works both as a
script (``run_path``) and as a module (``run_module("benchmarks.run")``). Prints the versions,
one table per workload (chat, then Responses), the scaling sweeps, then every target line.

The repository is appended to ``sys.path``, not prepended, so ``PYTHONPATH=/tmp/copy`` times a
scratch copy of ``fcstream`` (the versions line prints which one ran).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script or via runpy.run_path
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_chat, bench_responses, bench_scaling
from benchmarks._report import summary, versions
from benchmarks._timing import settings_from_argv


def main(argv: list[str] | None = None) -> int:
    settings = settings_from_argv(sys.argv[1:] if argv is None else argv, "benchmarks/run.py")
    start = time.perf_counter()
    print(versions(), f"| {settings.name} mode")
    print(
        "us/event and ns/byte: best run; median: median run; x floor: best / floor's best;"
        " SDK/this: openai SDK's best / this row's best; calls: rebuilt calls vs fcstream's"
    )
    bench_chat.main(settings)
    bench_responses.main(settings)
    bench_scaling.main(settings)
    print("")
    print("== targets ==")
    for line in summary():
        print("   " + line)
    print(f"\n({settings.name} mode, {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
