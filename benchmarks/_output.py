"""The run's files: raw JSON (numbers, versions, machine), a markdown report, PNG plots.

``<out>/<YYYY-MM-DD>-<host>.json`` holds everything measured; the ``.md`` beside it is made
from that JSON only (``markdown(doc)``), so a report can be rebuilt from a saved run. Plots use
matplotlib's Agg backend; without matplotlib they are reported as missing.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

__all__ = ["headline_table", "markdown", "plots", "write"]


def _f(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float) and abs(value) >= 1000:
        return f"{value:,.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def headline_table(doc: dict[str, Any]) -> list[str]:
    """Per library: us per SSE event (best run) on each corpus workload, and x fcstream."""
    corpus = [w for w in doc["results"].get("corpus", []) if "corpus" in w["name"]]
    corpus = corpus or doc["results"].get("corpus", [])
    if not corpus:
        return []
    names: list[str] = []
    for w in corpus:
        for r in w["rows"]:
            if r["name"] not in names:
                names.append(r["name"])
    head = ["library / path"]
    for w in corpus:
        head += [f"{w['name']}: us/event", "x fcstream"]
    rows = []
    for name in names:
        cells = [name]
        for w in corpus:
            r = next((x for x in w["rows"] if x["name"] == name), None)
            if r is None:
                cells += ["n/a", "-"]  # a peer of the other API
                continue
            if "best_ns" not in r:
                why = r.get("status", "")
                cells += ["MISSING" if why.startswith("MISSING") else "skipped", "-"]
                continue
            cells += [_f(r["best_us_per_event"]), _f(r["over_fcstream"], 1, "x")]
        rows.append(cells)
    return _table(head, rows)


def _targets(doc: dict[str, Any]) -> list[str]:
    s = doc["summary"]
    rows = []
    for key, t in s.get("targets", {}).items():
        rows.append([f"`{key}`", _f(t["value"], 2), t["target"], t["verdict"]])
    return _table(["summary key", "measured", "target", "verdict"], rows)


def _corpus(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for w in doc["results"].get("corpus", []):
        out += ["", f"### {w['name']}", ""]
        out.append(
            f"{w['streams']} streams timed, {w['events']:,} SSE events, {w['bytes']:,} bytes "
            f"({w['seconds']:.1f} s)."
        )
        excluded = list(w["excluded"].items())
        if excluded:
            out.append(
                f"{len(excluded)} recording(s) excluded from every row because some candidate "
                "failed on them (first reasons):"
            )
        for stream, why in excluded[:8]:
            out.append(f"- `{stream}`: {why}")
        if len(excluded) > 8:
            out.append(f"- ... and {len(excluded) - 8} more (the JSON lists them all)")
        out.append("")
        rows = []
        for r in w["rows"]:
            if "best_ns" not in r:
                rows.append([r["name"], r.get("status", ""), "", "", "", "", "", "", ""])
                continue
            rows.append(
                [
                    r["name"],
                    _f(r["best_us_per_event"]),
                    _f(r["us_per_event"]),
                    f"{r['spread'] * 100:.0f}%",
                    _f(r["best_ns"] / w["bytes"]),
                    _f(r["x_floor"], 2, "x"),
                    _f(r["over_fcstream"], 1, "x"),
                    str(r["runs"]),
                    r.get("check", ""),
                ]
            )
        out += _table(
            ["candidate", "us/event (best)", "us/event (median)", "spread", "ns/byte (best)",
             "x floor", "x fcstream", "runs", "calls"],
            rows,
        )  # fmt: skip
    return out


def _shapes(doc: dict[str, Any]) -> list[str]:
    """Per API and shape: fcstream's time per event, whole and per read, against the shape
    the corpus was recorded in."""
    runs = doc["results"].get("shapes") or []
    if not runs:
        return []
    out = ["", "The recorded corpus rewritten in the framings other servers use (same events "
           "and calls; see `benchmarks/_shapes.py`). x recorded = time / the same row's time "
           "on the corpus as recorded.", ""]
    names = [r["name"] for r in runs[0]["rows"]]
    for api in ("chat", "responses"):
        mine = [w for w in runs if w["api"] == api]
        if not mine:
            continue
        base = {r["name"]: r.get("best_ns") for r in mine[0]["rows"]}
        rows = []
        for w in mine:
            cells = [w["shape"]]
            for name in names:
                r = next((x for x in w["rows"] if x["name"] == name), {})
                ratio = r["best_ns"] / base[name] if "best_ns" in r and base.get(name) else None
                cells += [_f(r.get("best_us_per_event")), _f(ratio, 2, "x")]
            rows.append(cells)
        head = [f"{api} corpus, framed as"]
        for name in names:
            head += [f"{name}: us/event", "x recorded"]
        out += [*_table(head, rows), ""]
    return out[:-1]


def _sweeps(doc: dict[str, Any]) -> list[str]:
    sweeps = doc["results"].get("sweeps")
    if not sweeps:
        return []
    names: list[str] = []
    for s in sweeps:
        for n in s["slopes"]:
            if n not in names:
                names.append(n)
    rows = []
    for s in sweeps:
        cells = [f"{s['api']} {s['sweep']} (vs {s['axis']})"]
        for n in names:
            v = s["slopes"].get(n)
            if v is None or v["slope"] is None:
                cells.append("-")
            else:
                cells.append(_f(v["slope"]) + (" **>1.1**" if v["flag"] else ""))
        rows.append(cells)
    out = ["", "Slope of log(time) on log(size), least squares over the sweep's points (1.00 is"
           " linear; **>1.1** flagged). Peers too slow for the larger points are fitted on the"
           " points they ran.", ""]  # fmt: skip
    out += _table(["sweep", *names], rows)
    out += ["", "Points (median us/event of fcstream and the floor; x floor: best runs):", ""]
    rows = []
    for s in sweeps:
        for p in s["points"]:
            by_role = {r.get("role"): r for r in p["rows"] if "best_ns" in r}
            fc, fl = by_role.get("fcstream"), by_role.get("floor")
            rows.append(
                [
                    p["name"],
                    f"{p['events']:,}",
                    f"{p['bytes']:,}",
                    _f(fc["us_per_event"]) if fc else "-",
                    _f(fl["us_per_event"]) if fl else "-",
                    _f(fc["x_floor"], 2, "x") if fc else "-",
                ]
            )
    out += _table(["workload", "events", "bytes", "fcstream us/event", "floor us/event",
                   "x floor"], rows)  # fmt: skip
    return out


def _earliness(doc: dict[str, Any]) -> list[str]:
    e = doc["results"].get("earliness")
    if not e:
        return []
    s = e["summary"]
    out = [
        "",
        f"{s['calls']} calls in {s['recordings']} recordings (shared corpus and fixtures). "
        f"fcstream hands a call over at the same SSE event as the openai SDK's stream helpers "
        f"for {s['fcstream_same_as_sdk']}, earlier for {s['fcstream_before_sdk']}, later for "
        f"{s['fcstream_after_sdk']}; the SDK never finished {s['sdk_never']} of them (it raised "
        f"on {s.get('sdk_crashed_recordings', '?')} recordings, or sent no done event). "
        f"{s['fcstream_before_stream_end']} of {s['calls']} calls are handed over"
        f" before the stream's last event, on average {_f(s['mean_events_before_end'], 1)} events"
        f" before it ({_f(100 * (s['mean_fraction_of_stream'] or 0), 0)}% into the stream). "
        "LangChain aggregation and naive accumulation finish calls only at the end of the stream."
        f" LangChain's mid-stream `tool_calls` is a partial parse: it already showed the final "
        f"value of {s.get('langchain_preview_complete', '?')} calls, for "
        f"{s.get('langchain_preview_before_fcstream', '?')} of them before fcstream's `CallDone`"
        " (usually 1-2 events: the arguments are whole before the event that proves the call "
        "ended). That is a preview, as fcstream's `ArgumentsPreview.looks_complete` is: the text "
        "may still grow, so neither is a finished call.",
    ]
    paced = e.get("paced")
    if paced:
        out += ["", f"Paced replay ({paced['pace_ms']:g} ms per SSE event), seconds from the "
                "request to each call's hand-over:", ""]  # fmt: skip
        rows = []
        for api, st in paced["streams"].items():
            for lib in ("fcstream", "openai_sdk", "langchain", "naive"):
                v = st[lib]
                if "error" in v:
                    rows.append([api, lib, v["error"], "-"])
                    continue
                rows.append([api, lib, ", ".join(f"{t:.2f}" for t in v["ready_s"]), _f(v["end_s"])])
        out += _table(["stream", "library", "calls ready at (s)", "stream end (s)"], rows)
    return out


def _preview(doc: dict[str, Any]) -> list[str]:
    p = doc["results"].get("preview")
    if not p:
        return []
    keys = [
        ("fcstream_looks_complete_every_delta", "fcstream looks_complete every delta"),
        ("fcstream_value_every_delta", "fcstream value() every delta"),
        ("fcstream_feed_value_at_end", "fcstream feed, value() once"),
        ("partial_json_parser_every_delta", "partial-json-parser loads() every delta"),
    ]
    rows = []
    for r in p["rows"]:
        rows.append(
            [f"{r['arg_bytes'] // 1000} KB", f"{r['deltas']:,}"]
            + [_f(r[k] * 1e3 if r[k] else None, 2) for k, _ in keys]
        )
    rows.append(["slope", ""] + [_f(p["slopes"].get(k)) for k, _ in keys])
    out = ["", f"One call, {p['fragment_chars']}-character deltas; total ms for the whole call "
           f"(partial-json-parser {p['partial_json_parser']}).", ""]  # fmt: skip
    return out + _table(["arguments", "deltas"] + [label + " (ms)" for _, label in keys], rows)


def _memory(doc: dict[str, Any]) -> list[str]:
    m = doc["results"].get("memory")
    if not m:
        return []
    rows = [
        [
            r["workload"],
            f"{r['arg_bytes'] / 1e6:.2f}",
            f"{r['peak_bytes'] / 1e6:.2f}",
            _f(r["ratio"], 2, "x"),
            f"{r['peak_while_feeding'] / 1e6:.2f}",
            f"{r['held_before_finish'] / 1e6:.2f}",
            f"{r['kept_after_finish'] / 1e6:.2f}",
        ]
        for r in m
    ]
    out = ["", "tracemalloc while `StreamParser` is fed 4 KB reads (events dropped), then "
           "`finish()`; MB = 10^6 bytes.", ""]  # fmt: skip
    return out + _table(
        ["workload", "arguments kept (MB)", "peak (MB)", "peak / kept", "peak before finish (MB)",
         "held before finish (MB)", "kept after finish (MB)"],
        rows,
    )  # fmt: skip


def _e2e(doc: dict[str, Any]) -> list[str]:
    e = doc["results"].get("e2e")
    out: list[str] = []
    if e:
        rows = []
        for r in e["rows"]:
            if "cpu_s" not in r:
                rows.append([r["api"], r["name"], r.get("status", ""), "", "", "", ""])
                continue
            rows.append(
                [
                    r["api"],
                    r["name"],
                    f"{r['events']:,}",
                    _f(r["events_per_s"], 0),
                    _f(r["cpu_s_per_mb"], 3),
                    _f(r["cpu_s"] * 1e3, 1),
                    _f(r.get("cpu_over_fcstream"), 1, "x"),
                ]
            )
        out += ["", "One request read to the end, median of runs; CPU = the client thread's "
                "(`thread_time`), the server's threads excluded.", ""]  # fmt: skip
        out += _table(["api", "client", "events", "events/s", "CPU s/MB", "CPU ms",
                       "CPU x fcstream"], rows)  # fmt: skip
    c = doc["results"].get("concurrency")
    if c:
        rows = [
            [
                str(r["concurrent"]),
                _f(r["wall_s"]),
                _f(r["events_per_s"], 0),
                f"{r['streams_ok']}/{r['concurrent']}",
                str(r["mixed_or_wrong"]),
                str(r["errors"]),
                _f(r["peak_bytes_per_stream"] / 1e3, 0) if "peak_bytes" in r else "-",
            ]
            for r in c
        ]
        out += ["", "### Concurrent async streams (`fcstream.astream`, one ReplayServer)", ""]
        out += _table(["streams", "wall s", "events/s", "calls correct", "mixed", "errors",
                       "peak KB per stream"], rows)  # fmt: skip
    return out


def markdown(doc: dict[str, Any], images: dict[str, str]) -> str:
    m = doc["machine"]
    v = doc["versions"]
    lines = [
        f"# fcstream benchmarks: {doc['date']} on {m['hostname']}",
        "",
        f"{doc['mode']} mode, {doc['seconds']:.0f} s; {m['python']}, {m['platform']}, "
        f"{m['cpus']} CPUs. Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        f"Reproduce: `{doc['command']}`. Each row runs after warm-up with gc off; best = the "
        "fastest run, median and spread ((max - min) / median) over the runs; ratios (x floor, "
        "x fcstream, slopes) use best runs: on a shared machine interference only adds time.",
        "",
        "## Summary",
        "",
        *_targets(doc),
    ]
    head = headline_table(doc)
    if head:
        lines += ["", "## Time per SSE event on the recorded corpus", "", *head]
    for key, title in (("per_event", "time per event"), ("scaling", "scaling"),
                       ("earliness", "earliness")):  # fmt: skip
        if key in images:
            lines += ["", f"![{title}]({images[key]})"]
    sections = [
        ("Corpus, every candidate", _corpus(doc)),
        ("Other framings of the corpus", _shapes(doc)),
        ("Scaling sweeps", _sweeps(doc)),
        ("Earliness", _earliness(doc)),
        ("Partial JSON preview", _preview(doc)),
        ("Memory", _memory(doc)),
        ("End to end over loopback", _e2e(doc)),
    ]
    for title, body in sections:
        if body:
            lines += ["", f"## {title}", *body]
    missing = doc.get("missing") or []
    if missing:
        lines += ["", "## Missing peers", ""] + [f"- {x}" for x in missing]
    notes = doc["summary"].get("flagged_slopes")
    if notes:
        lines += ["", "Flagged slopes (> 1.1): " + "; ".join(notes) + "."]
    return "\n".join(lines) + "\n"


# -- plots -----------------------------------------------------------------------------------


def _color(row: dict[str, Any]) -> str:
    if row["name"].startswith("fcstream"):
        return "tab:blue"
    return "tab:gray" if row["role"] == "floor" else "tab:orange"


def plots(doc: dict[str, Any], out: Path, stem: str) -> tuple[dict[str, str], str]:
    """PNG files; returns ({kind: file name}, why none if matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        return {}, f"matplotlib missing: {exc}"
    images: dict[str, str] = {}
    corpus = doc["results"].get("corpus") or []
    if corpus:
        ncols = min(2, len(corpus))
        nrows = math.ceil(len(corpus) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(6 * ncols, 4 * nrows), squeeze=False)
        for ax in axes.flat[len(corpus) :]:
            ax.set_visible(False)
        for ax, w in zip(axes.flat, corpus, strict=False):
            rows = [r for r in w["rows"] if "us_per_event" in r]
            names = [r["name"].replace(" (", "\n(") for r in rows]
            vals = [r["best_us_per_event"] for r in rows]
            colors = [_color(r) for r in rows]
            ax.barh(names[::-1], vals[::-1], color=colors[::-1])
            ax.set_xscale("log")
            ax.set_xlabel("us per SSE event (best run, log scale)")
            ax.set_title(w["name"], fontsize=9)
            ax.tick_params(axis="y", labelsize=7)
        fig.tight_layout()
        images["per_event"] = f"{stem}-per-event.png"
        fig.savefig(out / images["per_event"], dpi=110)
        plt.close(fig)
    sweeps = [s for s in doc["results"].get("sweeps") or [] if s["sweep"] == "arguments"]
    if sweeps:
        fig, axes = plt.subplots(1, len(sweeps), figsize=(6 * len(sweeps), 4.5), squeeze=False)
        for ax, s in zip(axes[0], sweeps, strict=True):
            for name, v in s["slopes"].items():
                xs, ys = [], []
                for p in s["points"]:
                    r = next((x for x in p["rows"] if x["name"] == name and "best_ns" in x), None)
                    if r is not None:
                        xs.append(p["bytes"])
                        ys.append(r["best_ns"] / 1e6)
                if xs:
                    slope = f"{v['slope']:.2f}" if v["slope"] is not None else "-"
                    ax.plot(xs, ys, marker="o", label=f"{name} (slope {slope})")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("stream bytes (one call, 1 KB .. of arguments)")
            ax.set_ylabel("ms per stream (best run)")
            ax.set_title(f"{s['api']}: time against size", fontsize=9)
            ax.legend(fontsize=6)
        fig.tight_layout()
        images["scaling"] = f"{stem}-scaling.png"
        fig.savefig(out / images["scaling"], dpi=110)
        plt.close(fig)
    paced = (doc["results"].get("earliness") or {}).get("paced")
    if paced:
        libs = ("fcstream", "openai_sdk", "langchain", "naive")
        fig, axes = plt.subplots(len(paced["streams"]), 1, figsize=(8, 2.4 * len(paced["streams"])),
                                 squeeze=False)  # fmt: skip
        for ax, (api, st) in zip(axes[:, 0], paced["streams"].items(), strict=True):
            for y, lib in enumerate(libs):
                v = st[lib]
                if "ready_s" not in v:
                    continue
                ax.scatter(v["ready_s"], [y] * len(v["ready_s"]), marker="|", s=300)
                ax.plot([0, v["end_s"]], [y, y], color="lightgray", zorder=0)
            ax.set_yticks(range(len(libs)), libs)
            ax.set_xlabel("seconds from request (calls ready: ticks; gray: stream)")
            ax.set_title(f"{api}: paced replay, {paced['pace_ms']:g} ms per event", fontsize=9)
        fig.tight_layout()
        images["earliness"] = f"{stem}-earliness.png"
        fig.savefig(out / images["earliness"], dpi=110)
        plt.close(fig)
    return images, ""


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "machine"


def write(doc: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write the JSON, the PNGs and the markdown; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{doc['date']}-{_safe(doc['machine']['hostname'])}"
    if doc["mode"] != "full":
        stem += f"-{doc['mode']}"
    images, why = plots(doc, out, stem)
    if why:
        doc.setdefault("missing", []).append(f"plots: {why}")
    doc["images"] = images
    paths = {"json": out / f"{stem}.json", "md": out / f"{stem}.md"}
    paths["json"].write_text(json.dumps(doc, indent=1, sort_keys=False, default=str) + "\n")
    paths["md"].write_text(markdown(doc, images))
    for kind, name in images.items():
        paths[kind] = out / name
    return paths


def readme_section(doc: dict[str, Any], results_dir: str) -> str:
    """The README's "## Benchmarks" section for ``doc``: the targets, the corpus table, one
    plot (paths relative to the README, ``results_dir`` being where the run was written)."""
    stem = f"{doc['date']}-{_safe(doc['machine']['hostname'])}"
    if doc["mode"] != "full":
        stem += f"-{doc['mode']}"
    m = doc["machine"]
    lines = [
        "## Benchmarks",
        "",
        f"From one {doc['mode']} run ({doc['date']}, {m['cpus']} CPUs shared with other work, "
        f"{m['python']}); every number, the versions and the machine are in "
        f"[{results_dir}/{stem}.json]({results_dir}/{stem}.json), every table in "
        f"[{results_dir}/{stem}.md]({results_dir}/{stem}.md).",
        "",
        *_targets(doc),
        "",
        "Time per SSE event on the recorded corpus (best of the runs; x fcstream = time / "
        "fcstream's time, so the openai SDK's row reads as how many times slower it is):",
        "",
        *headline_table(doc),
    ]
    image = doc.get("images", {}).get("per_event")
    if image:
        lines += ["", f"![time per SSE event by library]({results_dir}/{image})"]
    lines += [
        "",
        "Reproduce (from a source checkout with the `bench` extra installed):",
        "",
        "```",
        "fcstream bench            # full run, several minutes; --quick: under 2 minutes",
        "python benchmarks/run.py --quick --only corpus e2e",
        "```",
    ]
    return "\n".join(lines) + "\n"
