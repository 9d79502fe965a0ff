"""The whole suite: sections run in order, each adding its part to one JSON-ready dict.

Sections (``--only`` picks some): ``corpus`` (every recording, every candidate), ``shapes``
(the recorded corpus rewritten in other framings, fcstream only), ``sweeps``
(scaling slopes), ``earliness`` (hand-over event per call; paced wall time), ``preview``
(partial JSON), ``memory`` (tracemalloc peak / argument bytes), ``e2e`` (loopback, fcstream
against the openai SDK client), ``concurrency`` (1 to 1000 async streams on one server).

``summary()`` reduces the results to the headline numbers and the targets' verdicts.
"""

from __future__ import annotations

import math
import platform
import socket
from pathlib import Path
from typing import Any

from ._measure import Progress, time_workload
from ._peers import suite_candidates
from ._timing import Settings
from ._workloads import CORPUS, ROOT, Api, Workload, _api_of, corpus, make_stream

__all__ = ["SECTIONS", "TARGETS", "machine", "run_sections", "summary"]

SECTIONS = ("corpus", "shapes", "sweeps", "earliness", "preview", "memory", "e2e", "concurrency")

TARGETS = {
    "floor_ratio_corpus": ("<=", 1.3),
    "sdk_ratio_corpus": (">=", 100.0),
    "e2e_ratio_vs_sdk": (">=", 10.0),
    "max_slope_fcstream": ("<=", 1.05),
    "memory_ratio": ("<=", 3.0),
}


def fixture_workloads(tiny: bool = False) -> list[Workload]:
    """Every recording under fixtures/ (``fixtures/streams`` only when tiny), per API."""
    base = ROOT / "fixtures" / ("streams" if tiny else "")
    by_api: dict[str, list[Any]] = {"chat": [], "responses": []}
    for path in sorted(base.rglob("*.sse")):
        data = path.read_bytes()
        rel = path.relative_to(ROOT / "fixtures")
        by_api[_api_of(path, data)].append(make_stream(f"fixtures/{rel}", data))
    out = []
    for api, streams in by_api.items():
        a: Api = api  # type: ignore[assignment]
        where = "fixtures/streams" if tiny else "fixtures"
        out.append(Workload(f"{api} {where} ({len(streams)} recordings)", a, tuple(streams)))
    return out


def corpus_workloads(tiny: bool = False) -> list[Workload]:
    shared = [] if tiny or not CORPUS.is_dir() else [corpus("chat"), corpus("responses")]
    return [w for w in shared + fixture_workloads(tiny) if w.streams]


def machine() -> dict[str, Any]:
    import os

    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def _git_state(where: Path) -> str:
    """``", git <commit>"`` of the checkout whose top is ``where`` (plus a warning when the
    code measured has edits not committed), or ``""`` for anything else: a report then says
    which code it measured."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True,
                              text=True, timeout=10, check=True)
        return done.stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")) != where.resolve():
            return ""  # an installed copy that happens to sit inside some checkout
        commit = git("rev-parse", "--short", "HEAD")
        edited = git("status", "--porcelain", "--", "fcstream", "benchmarks", "fixtures",
                     ":(exclude)benchmarks/results")
    except (OSError, subprocess.SubprocessError):
        return ""
    return f", git {commit}" + (", with edits not committed" if edited else "")


def versions() -> dict[str, str]:
    import importlib.metadata as md

    import fcstream
    from fcstream import _native

    package = Path(fcstream.__file__).parent
    out = {
        "fcstream": f"{fcstream.__version__} ({package}{_git_state(package.parent)})",
        "fcstream code": _native.REASON,  # "compiled with mypyc", or why the sources run
    }
    for dist in (
        "msgspec", "httpx", "httpx-sse", "openai", "pydantic", "langchain-core",
        "partial-json-parser", "matplotlib",
    ):  # fmt: skip
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "MISSING (not installed)"
    return out


def run_sections(
    sections: list[str], settings: Settings, progress: Progress, *, tiny: bool = False
) -> dict[str, Any]:
    quick = settings.name == "quick"
    results: dict[str, Any] = {}
    if "corpus" in sections:
        progress("corpus: every recording, every candidate")
        results["corpus"] = [
            time_workload(w, settings, suite_candidates(w.api), progress)
            for w in corpus_workloads(tiny)
        ]
    if "shapes" in sections and not tiny and CORPUS.is_dir():
        from ._shapes import shapes

        results["shapes"] = shapes(settings, progress)
    if "sweeps" in sections:
        from ._sweeps import run_sweeps

        results["sweeps"] = run_sweeps(settings, progress, tiny=tiny)
    if "earliness" in sections:
        from ._earliness import event_earliness, paced_earliness

        progress("earliness: hand-over event per call")
        results["earliness"] = event_earliness(corpus_workloads(tiny), progress)
        if not tiny:
            results["earliness"]["paced"] = paced_earliness(5.0 if quick else 10.0, progress)
    if "preview" in sections:
        from ._memory import preview

        progress("preview: ArgumentsPreview against partial-json-parser")
        results["preview"] = preview(quick, progress, tiny=tiny)
    if "memory" in sections:
        from ._memory import memory

        progress("memory: tracemalloc peak / argument bytes kept")
        results["memory"] = memory(quick, progress, tiny=tiny)
    if "e2e" in sections or "concurrency" in sections:
        from ._e2e import concurrency, end_to_end, server

        srv = server(tiny)
        try:
            if "e2e" in sections:
                progress(f"e2e: loopback, {srv.base_url}")
                results["e2e"] = end_to_end(srv, quick, progress, tiny=tiny)
            if "concurrency" in sections:
                levels = (1, 10) if tiny else (1, 10, 100) if quick else (1, 10, 100, 1000)
                traced = levels[:3]
                progress(f"concurrency: {levels} async streams")
                results["concurrency"] = concurrency(srv, levels, traced, progress)
        finally:
            srv.close()
    return results


# -- summary ---------------------------------------------------------------------------------


def _ratio_over(workloads: list[dict[str, Any]], num: str, den: str) -> float | None:
    """sum(best of role ``num``) / sum(best of role ``den``) over workloads where both ran."""
    a = b = 0.0
    for w in workloads:
        rows = {r.get("role"): r for r in w["rows"] if "best_ns" in r}
        if num in rows and den in rows:
            a += rows[num]["best_ns"]
            b += rows[den]["best_ns"]
    return a / b if b else None


CHUNKED = "fcstream, 1-4 KB chunks"


def _ratio_named(workloads: list[dict[str, Any]], num: str, den_name: str) -> float | None:
    """Like ``_ratio_over`` with the denominator picked by row name: the SDK reads the same
    1-4 KB chunks as the ``CHUNKED`` row, so that ratio compares equal input shapes."""
    a = b = 0.0
    for w in workloads:
        top = {r.get("role"): r for r in w["rows"] if "best_ns" in r}
        den = next((r for r in w["rows"] if r["name"] == den_name and "best_ns" in r), None)
        if num in top and den is not None:
            a += top[num]["best_ns"]
            b += den["best_ns"]
    return a / b if b else None


def _verdict(key: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "not measured"
    op, target = TARGETS[key]
    ok = value <= target if op == "<=" else value >= target
    return "met" if ok else "MISSED"


def summary(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    corpus_rows = results.get("corpus") or []
    if corpus_rows:
        out["floor_ratio_corpus"] = _ratio_over(corpus_rows, "fcstream", "floor")
        out["sdk_ratio_corpus"] = _ratio_over(corpus_rows, "sdk", "fcstream")
        out["sdk_ratio_corpus_same_chunks"] = _ratio_named(corpus_rows, "sdk", CHUNKED)
        per_api = {}
        for w in corpus_rows:
            per_api[w["name"]] = {
                "floor_ratio": _ratio_over([w], "fcstream", "floor"),
                "sdk_ratio": _ratio_over([w], "sdk", "fcstream"),
            }
        out["corpus_by_workload"] = per_api
    e2e = results.get("e2e")
    if e2e:
        fc = sdk = 0.0
        for api in ("chat", "responses"):
            rows = [r for r in e2e["rows"] if r["api"] == api and "cpu_s" in r]
            f = next((r for r in rows if r["name"].startswith("fcstream.stream")), None)
            s = next((r for r in rows if r["name"].startswith("openai")), None)
            if f and s:
                fc += f["cpu_s"]
                sdk += s["cpu_s"]
                out[f"e2e_ratio_vs_sdk_{api}"] = s["cpu_s"] / f["cpu_s"]
        out["e2e_ratio_vs_sdk"] = sdk / fc if fc else None
    sweeps = results.get("sweeps")
    if sweeps:
        fc_slopes = {
            f"{s['api']} {s['sweep']}": s["slopes"][name]["slope"]
            for s in sweeps
            for name in s["slopes"]
            if s["slopes"][name]["role"] == "fcstream" and s["slopes"][name]["slope"] is not None
        }
        out["max_slope_fcstream"] = max(fc_slopes.values()) if fc_slopes else None
        out["slopes_fcstream"] = fc_slopes
        out["flagged_slopes"] = [
            f"{s['api']} {s['sweep']}: {name} {v['slope']:.2f}"
            for s in sweeps
            for name, v in s["slopes"].items()
            if v["flag"]
        ]
    memory = results.get("memory")
    if memory:
        out["memory_ratio"] = max(m["ratio"] for m in memory if m["ratio"])
        out["memory_ratio_by_workload"] = {m["workload"]: m["ratio"] for m in memory}
    early = results.get("earliness")
    if early:
        out["earliness"] = early["summary"]
    conc = results.get("concurrency")
    if conc:
        out["concurrency_all_ok"] = all(
            c["streams_ok"] == c["concurrent"] and not c["mixed_or_wrong"] for c in conc
        )
    out["targets"] = {
        key: {
            "value": out.get(key),
            "target": f"{op} {t:g}",
            "verdict": _verdict(key, out.get(key)),
        }
        for key, (op, t) in TARGETS.items()
    }
    return out
