"""Benchmark k (progress and logs); run with ``make bench`` or ``python benchmarks/bench_logs.py``.

k1. a captured ``print`` in a thread job against a plain ``print`` to a file, per line,
    in the same run (alternating rounds, medians);
k2. ``set_progress`` called 1,000,000 times in a process job (and in a Dask task, with
    ``--dask``): wall time, and progress messages that reach the kernel's job;
k3. a thread job printing 1,000,000 lines: peak memory (tracemalloc) above the baseline
    against the log's bound, and how many ``log_lines`` changes views are told of.

Prints a Markdown table of the results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
from typing import Any

from jobwidgets import LocalBackend, current_job
from jobwidgets.logs import DEFAULT_MAX_BYTES

LINES = 200_000


def print_lines(count: int) -> None:
    for i in range(count):
        print("a line of output", i)


def print_lines_to(count: int, path: str) -> None:
    with open(path, "w") as file:
        for i in range(count):
            print("a line of output", i, file=file)


def progress_many(count: int) -> int:
    job = current_job()
    assert job is not None
    for i in range(count):
        job.set_progress(i / count)
    return count


def k1(rounds: int) -> dict[str, float]:
    captured, plain = [], []
    with LocalBackend(1) as backend, tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.txt")
        for _ in range(rounds):
            start = time.perf_counter()
            backend.run(print_lines_to, LINES, path).result()
            plain.append((time.perf_counter() - start) / LINES)
            start = time.perf_counter()
            backend.run(print_lines, LINES).result()
            captured.append((time.perf_counter() - start) / LINES)
    ours, theirs = statistics.median(captured), statistics.median(plain)
    return {"captured_us": ours * 1e6, "plain_us": theirs * 1e6, "ratio": ours / theirs}


def k2(backend: Any, label: str) -> dict[str, Any]:
    job = backend.run(progress_many, 1_000_000)
    seen: list[Any] = []
    job.observe(lambda change: seen.append(change["new"]), "progress")
    start = time.perf_counter()
    job.result(timeout=600)
    seconds = time.perf_counter() - start
    return {"where": label, "seconds": seconds, "messages": len(seen), "rate": len(seen) / seconds}


def k3() -> dict[str, Any]:
    with LocalBackend(1) as backend:
        backend.run(print_lines, 10).result()  # warm: the capture is installed
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        job = backend.run(print_lines, 1_000_000)
        counts: list[int] = []
        job.observe(lambda change: counts.append(change["new"]), "log_lines")
        start = time.perf_counter()
        job.result(timeout=600)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return {
        "peak_mib": peak / 2**20,
        "bound_mib": DEFAULT_MAX_BYTES / 2**20,
        "changes": len(counts),
        "rate": len(counts) / seconds,
        "kept": len(job.log_records()),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dask", action="store_true", help="also k2 on a Dask LocalCluster")
    options = parser.parse_args()
    one = k1(options.rounds)
    with LocalBackend(1, "process") as processes:
        processes.run(print_lines, 1).result()  # the worker is up
        two = [k2(processes, "process job")]
    if options.dask:
        from jobwidgets.dask import DaskBackend

        with DaskBackend(n_workers=1, threads_per_worker=1) as dask_backend:
            dask_backend.run(print_lines, 1).result()
            two.append(k2(dask_backend, "Dask task"))
    three = k3()
    print("| # | what | result | target |")
    print("|---|---|---|---|")
    print(
        f"| k | captured `print` in a thread job vs plain `print` to a file, per line "
        f"(median of {options.rounds} rounds of {LINES:,} lines) | {one['captured_us']:.2f} µs "
        f"vs {one['plain_us']:.2f} µs: **{one['ratio']:.2f}x** | ≤ 3x |"
    )
    for row in two:
        print(
            f"| k | `set_progress` x 1,000,000 in a {row['where']} | {row['seconds']:.2f} s, "
            f"{row['messages']} progress messages (**{row['rate']:.1f}/s**) | ≤ 20/s per job |"
        )
    print(
        f"| k | a thread job printing 1,000,000 lines ({three['seconds']:.1f} s) | peak "
        f"{three['peak_mib']:.2f} MiB above baseline (bound {three['bound_mib']:.0f} MiB: "
        f"**{three['peak_mib'] / three['bound_mib']:.2f}x**), {three['kept']:,} lines kept, "
        f"{three['changes']} `log_lines` changes (**{three['rate']:.1f}/s**) | ≤ 2x the bound; "
        f"≤ 10/s |"
    )


if __name__ == "__main__":
    main()
