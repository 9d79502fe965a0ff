"""The benchmark suite runs and writes its report (never a timing assertion).

Runs ``benchmarks/run.py --tiny --only corpus`` (fixtures/streams only, a few seconds) in a
subprocess and checks the JSON's shape: the summary keys the report promises, finite numbers,
every row either timed or saying why not.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_KEYS = (
    "floor_ratio_corpus",
    "sdk_ratio_corpus",
    "e2e_ratio_vs_sdk",
    "max_slope_fcstream",
    "memory_ratio",
)


def test_tiny_corpus_run_writes_report(tmp_path: Path) -> None:
    pytest.importorskip("msgspec")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--tiny",
            "--only",
            "corpus",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (path,) = tmp_path.glob("*-tiny.json")
    doc = json.loads(path.read_text())
    assert path.with_suffix(".md").is_file()
    summary = doc["summary"]
    assert set(SUMMARY_KEYS) <= set(summary["targets"])
    for key in ("floor_ratio_corpus", "sdk_ratio_corpus"):
        value = summary[key]
        assert isinstance(value, float)
        assert math.isfinite(value)
        assert value > 0
    assert doc["versions"]["fcstream"]
    if (ROOT / ".git").exists():  # the report names the commit it measured
        assert ", git " in doc["versions"]["fcstream"]
    assert doc["machine"]["cpus"]
    for workload in doc["results"]["corpus"]:
        for row in workload["rows"]:
            assert "best_ns" in row or row["status"], row["name"]
            if "best_ns" in row:
                assert all(math.isfinite(t) and t > 0 for t in row["times_ns"])


def test_the_report_names_a_commit_only_for_the_checkout_itself(tmp_path: Path) -> None:
    from benchmarks._suite import _git_state

    assert _git_state(tmp_path) == ""  # not a checkout
    if (ROOT / ".git").exists():
        assert _git_state(ROOT).startswith(", git ")
        assert _git_state(ROOT / "fixtures") == ""  # inside the checkout, not its top
