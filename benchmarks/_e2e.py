"""End to end over loopback: fcstream's client path against the openai SDK client, on the same
``fcstream.ReplayServer`` at full speed (no pacing, 4-16 KB writes), and many concurrent async
streams on one server.

CPU is the client thread's own (``time.thread_time``): the server runs in other threads of the
same process and serves the same bytes to both, so counting it would only dilute the ratio.
Rows, each one request read to the end and its calls rebuilt:

- ``fcstream.stream``: ``httpx.Client`` + httpx-sse + ``StreamParser.feed_event``;
- ``fcstream.iter_events (bytes)``: ``httpx.Client.stream`` bytes into ``StreamParser.feed``;
- ``openai SDK client``: ``client.chat.completions.create(stream=True)`` with every chunk given
  to ``ChatCompletionStreamState`` (what rebuilds the calls), or ``client.responses.create(
  stream=True)`` read to the end (its ``.done`` events carry whole calls).

Concurrency: N ``fcstream.astream`` requests at once on one ``httpx.AsyncClient`` (N
connections), each checked against the recording's own calls: a call from another stream, or a
missing one, counts as mixed. Memory: the ``tracemalloc`` peak of the whole run (client and
server threads) divided by N, in a second, traced run (tracing slows everything down, so it is
not timed).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import tracemalloc
from typing import Any

import fcstream
from fcstream import ReplayServer, StreamParser

from ._measure import Progress
from ._sweeps import sweep_workload
from ._workloads import KB, MB, ROOT

__all__ = ["concurrency", "end_to_end", "server"]

CHUNKING = (4096, 16384)
FIXTURES = ("chat-parallel-3", "responses-parallel-3", "chat-single", "responses-single")


def _recordings(tiny: bool) -> dict[str, bytes]:
    size = 4 * KB if tiny else 16 * KB
    rec = {
        "e2e-chat": sweep_workload("chat", 4, size).streams[0].data,
        "e2e-responses": sweep_workload("responses", 4, size).streams[0].data,
    }
    for stem in FIXTURES:
        rec[stem] = (ROOT / "fixtures" / "streams" / f"{stem}.sse").read_bytes()
    return rec


def server(tiny: bool = False) -> ReplayServer:
    """The one loopback server of the run (started; close it when done)."""
    return ReplayServer(_recordings(tiny), chunking=CHUNKING).start()


def _path(api: str) -> str:
    return "/chat/completions" if api == "chat" else "/responses"


def _body(model: str) -> dict[str, Any]:
    return {"model": model, "stream": True, "messages": [{"role": "user", "content": "x"}]}


def _fc_stream(srv: ReplayServer, client: Any, api: str, model: str) -> int:
    with fcstream.stream(client, "POST", srv.base_url + _path(api), json=_body(model)) as events:
        for _ in events:
            pass
        return len(events.calls)


def _fc_bytes(srv: ReplayServer, client: Any, api: str, model: str) -> int:
    parser = StreamParser()
    with client.stream("POST", srv.base_url + _path(api), json=_body(model)) as response:
        for _ in fcstream.iter_events(response, parser=parser):
            pass
    return len(parser.calls)


def _sdk(srv: ReplayServer, client: Any, api: str, model: str) -> int:
    if api == "chat":
        from openai.lib.streaming.chat import ChatCompletionStreamState

        state: Any = ChatCompletionStreamState()
        stream = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "x"}], stream=True
        )
        for chunk in stream:
            state.handle_chunk(chunk)
        message = state.current_completion_snapshot.choices[0].message
        return len(message.tool_calls or [])
    n = 0
    for event in client.responses.create(model=model, input="x", stream=True):
        if event.type == "response.function_call_arguments.done":
            n += 1
    return n


def end_to_end(
    srv: ReplayServer, quick: bool, progress: Progress, *, tiny: bool = False
) -> dict[str, Any]:
    import httpx

    repeat = 2 if tiny else 5 if quick else 11
    rows: list[dict[str, Any]] = []
    http = httpx.Client(timeout=60)
    try:
        from openai import OpenAI

        sdk_client: Any = OpenAI(base_url=srv.base_url, api_key="x", max_retries=0)
        sdk_error = ""
    except Exception as exc:
        sdk_client, sdk_error = None, f"{type(exc).__name__}: {exc}"
    try:
        for api in ("chat", "responses"):
            model = f"e2e-{api}"
            data = next(r.data for r in srv.recordings if r.stem == model)
            events = data.count(b"\n\n")
            runners: list[tuple[str, Any, Any]] = [
                ("fcstream.stream (httpx + httpx-sse)", _fc_stream, http),
                ("fcstream.iter_events (httpx bytes)", _fc_bytes, http),
                ("openai SDK client", _sdk, sdk_client),
            ]
            for name, fn, client in runners:
                row: dict[str, Any] = {
                    "api": api,
                    "name": name,
                    "events": events,
                    "bytes": len(data),
                }
                rows.append(row)
                if client is None:
                    row["status"] = f"MISSING: openai SDK ({sdk_error})"
                    continue
                try:
                    calls = fn(srv, client, api, model)  # warm-up (connection, imports)
                    walls, cpus = [], []
                    for _ in range(repeat):
                        w0, c0 = time.perf_counter(), time.thread_time()
                        fn(srv, client, api, model)
                        cpus.append(time.thread_time() - c0)
                        walls.append(time.perf_counter() - w0)
                except Exception as exc:
                    row["status"] = f"ERROR: {type(exc).__name__}: {exc}"[:200]
                    continue
                wall, cpu = statistics.median(walls), statistics.median(cpus)
                row.update(
                    calls=calls,
                    wall_s=wall,
                    cpu_s=cpu,
                    cpu_min_s=min(cpus),
                    events_per_s=events / wall if wall else None,
                    cpu_s_per_mb=cpu / (len(data) / MB) if data else None,
                    runs=repeat,
                )
            fc = next(
                r for r in rows if r["api"] == api and r["name"].startswith("fcstream.stream")
            )
            for r in rows:
                if r["api"] == api and "cpu_s" in r and "cpu_s" in fc:
                    r["cpu_over_fcstream"] = r["cpu_s"] / fc["cpu_s"] if fc["cpu_s"] else None
            sdk_row = next(
                (r for r in rows if r["api"] == api and r["name"].startswith("openai")), None
            )
            progress(
                f"  e2e {api}: {events:,} events, {len(data) / MB:.2f} MB; fcstream "
                f"{fc.get('cpu_s', 0) * 1e3:.0f} ms CPU, SDK "
                + (
                    f"{sdk_row['cpu_s'] * 1e3:.0f} ms CPU"
                    if sdk_row and "cpu_s" in sdk_row
                    else "-"
                )
            )
    finally:
        http.close()
        if sdk_client is not None:
            sdk_client.close()
    return {"chunking": list(CHUNKING), "rows": rows}


# -- concurrency ---------------------------------------------------------------------------


def _expected() -> dict[str, list[tuple[str | None, str]]]:
    out = {}
    for stem in FIXTURES:
        parser = StreamParser()
        parser.feed((ROOT / "fixtures" / "streams" / f"{stem}.sse").read_bytes())
        parser.finish()
        out[stem] = [(c.name, c.arguments) for c in parser.calls]
    return out


async def _one(client: Any, srv: ReplayServer, stem: str) -> list[tuple[str | None, str]]:
    api = "chat" if stem.startswith("chat") else "responses"
    async with fcstream.astream(
        client, "POST", srv.base_url + _path(api), json=_body(stem)
    ) as events:
        async for _ in events:
            pass
        return [(c.name, c.arguments) for c in events.calls]


async def _many(srv: ReplayServer, n: int, limit: int | None) -> dict[str, Any]:
    import httpx

    expected = _expected()
    stems = [FIXTURES[i % len(FIXTURES)] for i in range(n)]
    gate = asyncio.Semaphore(limit) if limit else None

    async def task(client: Any, stem: str) -> list[tuple[str | None, str]]:
        if gate is None:
            return await _one(client, srv, stem)
        async with gate:
            return await _one(client, srv, stem)

    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(120)) as client:
        start = time.perf_counter()
        results = await asyncio.gather(*(task(client, s) for s in stems), return_exceptions=True)
        wall = time.perf_counter() - start
    errors = [r for r in results if isinstance(r, BaseException)]
    ok = [
        r == expected[s]
        for r, s in zip(results, stems, strict=True)
        if not isinstance(r, BaseException)
    ]
    return {
        "wall_s": wall,
        "streams_ok": sum(ok),
        "mixed_or_wrong": len(ok) - sum(ok),
        "errors": len(errors),
        "first_error": f"{type(errors[0]).__name__}: {errors[0]}"[:160] if errors else "",
    }


def concurrency(
    srv: ReplayServer, levels: tuple[int, ...], traced: tuple[int, ...], progress: Progress
) -> list[dict[str, Any]]:
    events_per = {
        s: (ROOT / "fixtures" / "streams" / f"{s}.sse").read_bytes().count(b"\n\n")
        for s in FIXTURES
    }
    out = []
    for n in levels:
        total_events = sum(events_per[FIXTURES[i % len(FIXTURES)]] for i in range(n))
        res = asyncio.run(_many(srv, n, None))
        row: dict[str, Any] = {
            "concurrent": n,
            **res,
            "events": total_events,
            "events_per_s": total_events / res["wall_s"],
        }
        if n in traced:
            tracemalloc.start()
            try:
                asyncio.run(_many(srv, n, None))
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            row["peak_bytes"] = peak
            row["peak_bytes_per_stream"] = peak / n
        out.append(row)
        mem = (
            f", {row['peak_bytes_per_stream'] / KB:.0f} KB/stream peak"
            if "peak_bytes" in row
            else ""
        )
        progress(
            f"  concurrency {n}: {res['wall_s']:.2f} s, {res['streams_ok']}/{n} ok, "
            f"{res['mixed_or_wrong']} mixed, {res['errors']} errors{mem}"
        )
    return out
