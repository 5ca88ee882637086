"""Benchmark h: 1,000 small tasks through DaskBackend against raw ``client.submit``.

Both run on the same LocalCluster (2 worker processes of 1 thread each), in alternating
rounds, so that both see the same cluster state; each round submits 1,000 tasks and
waits until every one has ended. ``DaskBackend.map`` submits the batch at once;
``DaskBackend.run`` is also timed, one call per task, like the raw loop.

Run with ``python benchmarks/bench_dask.py`` (``--rounds N``, ``--tasks N``).
Prints a Markdown table of medians.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Any

from jobwidgets.dask import DaskBackend


def small(x: int) -> int:
    return x + 1


def raw_submit(client: Any, tasks: int) -> float:
    start = time.perf_counter()
    futures = [client.submit(small, i, pure=False) for i in range(tasks)]
    client.gather(futures)
    return time.perf_counter() - start


def through_map(backend: DaskBackend, tasks: int) -> float:
    start = time.perf_counter()
    jobs = backend.map(small, range(tasks))
    for job in jobs:
        job.wait_for_final_state(timeout=300)
    elapsed = time.perf_counter() - start
    assert all(job.done() for job in jobs)
    return elapsed


def through_run(backend: DaskBackend, tasks: int) -> float:
    start = time.perf_counter()
    jobs = [backend.run(small, i) for i in range(tasks)]
    for job in jobs:
        job.wait_for_final_state(timeout=300)
    elapsed = time.perf_counter() - start
    assert all(job.done() for job in jobs)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"raw": [], "map": [], "run": []}
    with DaskBackend(n_workers=2, threads_per_worker=1) as backend:
        client = backend.client
        client.wait_for_workers(2)
        raw_submit(client, 100)  # warm up both paths
        through_map(backend, 100)
        for _ in range(args.rounds):
            times["raw"].append(raw_submit(client, args.tasks))
            times["map"].append(through_map(backend, args.tasks))
            times["run"].append(through_run(backend, args.tasks))
    raw = statistics.median(times["raw"])
    print(f"Python {platform.python_version()}, {args.tasks} tasks, {args.rounds} rounds\n")
    print("| way | median wall time | ratio to raw | all rounds (s) |")
    print("|---|---|---|---|")
    for name, label in [
        ("raw", "raw `client.submit` loop"),
        ("map", "`DaskBackend.map`"),
        ("run", "`DaskBackend.run` loop"),
    ]:
        median = statistics.median(times[name])
        rounds = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"| {label} | {median:.3f} s | {median / raw:.2f} | {rounds} |")


if __name__ == "__main__":
    main()
