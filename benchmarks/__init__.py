"""Benchmarks for fcstream: scripts that print tables, never tests that assert timings.

Layout (each module one job, reused by the later full suite):

- ``_timing``: best-of/median timing with warm-up, gc off while timed, time budgets;
- ``_workloads``: the streams (corpus recordings read in place, synthetic streams);
- ``_candidates``: the parsers compared (fcstream, the floor, naive json.loads, the openai SDK);
- ``_report``: running candidates over workloads, checking their calls agree, printing tables;
- ``bench_chat``, ``bench_responses``, ``bench_scaling``: one question each;
- ``run``: ``python benchmarks/run.py [--quick]`` runs them all (also via ``runpy``).
"""
