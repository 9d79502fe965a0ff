"""Benchmarks for fcstream: scripts that print tables and write reports, never tests that
assert timings.

Layout (each module one job):

- ``_timing``: best-of/median timing with warm-up, gc off while timed, time budgets; the
  candidates of one table (and a sweep's points) timed side by side, their runs in turns;
- ``_workloads``: the streams (corpus recordings read in place, synthetic streams);
- ``_candidates``: the parsers compared (fcstream, the floor, naive json.loads, the openai SDK);
- ``_peers``: fcstream's async path and langchain-core's chunk aggregation;
- ``_report``: the per-issue printed tables (``bench_chat``, ``bench_responses``,
  ``bench_scaling``: one question each);
- ``_measure``: one workload, every candidate, as JSON-ready rows; progress lines;
- ``_sweeps``: the scaling sweeps and their log-log slopes;
- ``_earliness``: the SSE event (and paced wall time) at which each library hands a call over;
- ``_memory``: tracemalloc peak against argument bytes; partial-JSON preview costs;
- ``_e2e``: loopback end to end against the openai SDK client; concurrent async streams;
- ``_suite``: the sections in order and the summary; ``_output``: JSON, markdown, PNG plots;
- ``run``: ``fcstream bench [--quick] [--out DIR] [--only SECTION...]`` (also
  ``python benchmarks/run.py``, run by the CLI through ``runpy``).
"""
