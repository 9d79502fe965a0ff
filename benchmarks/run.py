"""The benchmark suite in one run: ``fcstream bench [--quick] [--out DIR] [--only SECTION...]``.

Also ``python benchmarks/run.py ...`` (``fcstream bench`` runs this file through ``runpy`` with
``sys.argv`` set). Progress goes to stderr, one line per section and workload with the elapsed
time; the summary and the headline table go to stdout; the files go to ``--out`` (default
``benchmarks/results/``): ``<date>-<host>.json`` (raw numbers, versions, machine), ``.md`` (the
report's tables) and PNG plots. A quick run's files end in ``-quick``.

``--quick`` finishes in under two minutes on two cores; ``--tiny`` (with ``--only``) is the
seconds-long smoke run the tests use. The per-issue table scripts (``bench_chat.py``,
``bench_responses.py``, ``bench_scaling.py``) still run on their own.

The repository is appended to ``sys.path``, not prepended, so ``PYTHONPATH=/tmp/copy`` times a
scratch copy of ``fcstream`` (the JSON's versions say which one ran).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script or via runpy.run_path
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks._measure import Progress
from benchmarks._output import headline_table, write
from benchmarks._suite import SECTIONS, machine, run_sections, summary, versions
from benchmarks._timing import FULL, QUICK

RESULTS = Path(__file__).resolve().parent / "results"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fcstream bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and points (< 2 minutes)")
    p.add_argument(
        "--tiny",
        action="store_true",
        help="smallest workloads only (fixtures/streams, tiny sweeps): a smoke run for tests",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help=f"output directory ({RESULTS})")
    p.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        metavar="SECTION",
        help=f"run only these sections: {', '.join(SECTIONS)}",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument(
        "--rebuild",
        type=Path,
        metavar="JSON",
        help="measure nothing: rewrite the markdown and plots of a saved run's JSON",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    # The SDK's pydantic models warn when serializing quirky recordings (tool_calls as a dict,
    # content parts): noise for a benchmark, whose calls check reports any real difference.
    warnings.filterwarnings("ignore", category=UserWarning, module="pydantic")
    if args.rebuild is not None:
        doc = json.loads(args.rebuild.read_text())
        _print_summary(doc, write(doc, args.rebuild.parent))
        return 0
    settings = QUICK if (args.quick or args.tiny) else FULL
    mode = "tiny" if args.tiny else settings.name
    sections = list(args.only or SECTIONS)
    progress = Progress(quiet=args.quiet)
    progress(f"fcstream bench: {mode} mode, sections {', '.join(sections)}")
    started = time.perf_counter()
    results = run_sections(sections, settings, progress, tiny=args.tiny)
    argv_text = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    doc = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "time_utc": dt.datetime.now(dt.UTC).strftime("%H:%M:%S"),
        "mode": mode,
        "sections": sections,
        "command": f"fcstream bench {argv_text}".strip(),
        "machine": machine(),
        "versions": versions(),
        "seconds": time.perf_counter() - started,
        "summary": summary(results),
        "results": results,
        "missing": _missing(results),
    }
    paths = write(doc, args.out)
    progress(f"done in {doc['seconds']:.1f} s")
    _print_summary(doc, paths)
    return 0


def _missing(results: dict[str, Any]) -> list[str]:
    """Every peer reported missing anywhere in the run (also printed, never silent)."""
    out: list[str] = []
    for w in results.get("corpus") or []:
        for r in w["rows"]:
            if r.get("status", "").startswith("MISSING") and r["status"] not in out:
                out.append(f"{r['name']}: {r['status']}")
    return sorted(set(out))


def _print_summary(doc: dict[str, Any], paths: dict[str, Path]) -> None:
    s = doc["summary"]
    print(f"fcstream bench ({doc['mode']} mode, {doc['seconds']:.0f} s)")
    for key, t in s.get("targets", {}).items():
        value = t["value"]
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"  {key:<20} {shown:>10}  target {t['target']:<8} {t['verdict']}")
    for line in headline_table(doc):
        print("  " + line)
    for line in doc.get("missing") or []:
        print(f"  missing: {line}")
    for kind, path in paths.items():
        print(f"  {kind}: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
