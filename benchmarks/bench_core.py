"""Benchmarks a-d of the job core; run with ``make bench`` or ``python benchmarks/bench_core.py``.

a. wait latency: final state pushed -> wait_for_final_state(wait=5) returns,
   against a copy of the legacy qiskit polling loop, in the same run;
b. timeout overshoot with timeout=0.2, wait=5, ours against the legacy loop;
c. overhead of 10,000 no-op jobs on LocalBackend(kind="thread") against a raw
   ThreadPoolExecutor with the same number of workers (``--profile``: and where the
   time goes, in the same run);
d. memory per finished job kept in the registry.

Prints a Markdown table of the results.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import cProfile
import gc
import io
import platform
import pstats
import statistics
import threading
import time
import tracemalloc
from typing import Any

from jobwidgets import JOB_FINAL_STATES, BaseJob, JobStatus, JobTimeoutError, LocalBackend


class PushedJob(BaseJob):
    """A job whose final state is pushed by another thread, as a real backend does."""

    pushes_status = True

    def submit(self) -> None:
        self._report(JobStatus.RUNNING)

    def status(self) -> JobStatus:
        return self._recorded_status()

    def cancel(self) -> bool:
        return self._report(JobStatus.CANCELLED)

    def result(self) -> Any:
        return None


def legacy_wait_for_final_state(
    job: BaseJob, timeout: float | None = None, wait: float = 5, callback: Any = None
) -> None:
    """The semantics of the legacy ``qiskit.providers.BaseJob.wait_for_final_state``."""
    start_time = time.time()
    status = job.status()
    while status not in JOB_FINAL_STATES:
        elapsed_time = time.time() - start_time
        if timeout is not None and elapsed_time >= timeout:
            msg = f"Timeout while waiting for job {job.job_id()}."
            raise JobTimeoutError(msg)
        if callback:
            callback(job.job_id(), status, job)
        time.sleep(wait)
        status = job.status()


def latency_sample(waiter: Any, delay: float, wait: float) -> float:
    """Seconds from the pushed final state to the return of ``waiter``."""
    job = PushedJob("bench", "latency")
    job.submit()
    pushed_at: list[float] = []

    def finish() -> None:
        time.sleep(delay)
        pushed_at.append(time.perf_counter())
        job._report(JobStatus.DONE)

    pusher = threading.Thread(target=finish)
    pusher.start()
    waiter(job, wait=wait)
    returned = time.perf_counter()
    pusher.join()
    return returned - pushed_at[0]


def in_parallel(fn: Any, count: int) -> list[float]:
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: fn(), range(count)))


def overshoot_sample(waiter: Any) -> float:
    job = PushedJob("bench", "overshoot")
    job.submit()
    start = time.perf_counter()
    with contextlib.suppress(JobTimeoutError):
        waiter(job, timeout=0.2, wait=5)
    return time.perf_counter() - start - 0.2


def noop() -> None:
    return None


def run_raw(jobs: int, workers: int) -> float:
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(noop) for _ in range(jobs)]
        for future in futures:
            future.result()
    return time.perf_counter() - start


def run_jobwidgets(jobs: int, workers: int) -> float:
    start = time.perf_counter()
    with LocalBackend(max_workers=workers, kind="thread") as backend:
        submitted = [backend.run(noop) for _ in range(jobs)]
        for job in submitted:
            job.result()
    return time.perf_counter() - start


def profile_c(jobs: int, workers: int, top: int = 12) -> str:
    """The functions that cost most in one run of row c, on the submitting thread."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_jobwidgets(jobs, workers)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def memory_per_job(count: int) -> float:
    with LocalBackend(max_workers=2, kind="thread") as backend:
        backend.run(noop).result()  # warm up the pool
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = [backend.run(noop) for _ in range(count)]
        for job in kept:
            job.result()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    assert all(job.state is JobStatus.DONE for job in kept)
    return (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after row c, profile one more jobwidgets run of it (submitting thread)",
    )
    args = parser.parse_args()
    samples = 20 if args.quick else 100
    legacy_samples = 6 if args.quick else 12
    rows: list[tuple[str, str, str, str]] = []

    ours = [
        latency_sample(lambda j, **kw: j.wait_for_final_state(**kw), 0.05, 5)
        for _ in range(samples)
    ]
    legacy = in_parallel(
        lambda: latency_sample(legacy_wait_for_final_state, 0.3 + 4.4 * _rand(), 5),
        legacy_samples,
    )
    rows.append(
        (
            "a",
            "wait latency, wait=5 (median / mean / max)",
            f"{1000 * statistics.median(ours):.2f} / {1000 * statistics.mean(ours):.2f} / "
            f"{1000 * max(ours):.2f} ms ({samples} runs)",
            f"{1000 * statistics.median(legacy):.0f} / {1000 * statistics.mean(legacy):.0f} / "
            f"{1000 * max(legacy):.0f} ms ({legacy_samples} runs)",
        )
    )

    ours_over = [
        overshoot_sample(lambda j, **kw: j.wait_for_final_state(**kw)) for _ in range(samples // 5)
    ]
    legacy_over = in_parallel(lambda: overshoot_sample(legacy_wait_for_final_state), 4)
    rows.append(
        (
            "b",
            "timeout overshoot, timeout=0.2 wait=5 (median / max)",
            f"{1000 * statistics.median(ours_over):.2f} / {1000 * max(ours_over):.2f} ms",
            f"{1000 * statistics.median(legacy_over):.0f} / {1000 * max(legacy_over):.0f} ms",
        )
    )

    workers, jobs = 4, 10_000
    raw_times, our_times = [], []
    for _ in range(3 if args.quick else 5):
        raw_times.append(run_raw(jobs, workers))
        our_times.append(run_jobwidgets(jobs, workers))
    raw, mine = statistics.median(raw_times), statistics.median(our_times)
    rows.append(
        (
            "c",
            f"{jobs:,} no-op jobs, {workers} threads (median wall time)",
            f"{mine:.3f} s = {mine / raw:.2f}x raw",
            f"raw ThreadPoolExecutor {raw:.3f} s",
        )
    )

    profile = profile_c(jobs, workers) if args.profile else ""

    per_job = memory_per_job(2_000 if args.quick else 10_000)
    rows.append(("d", "memory per finished job (tracemalloc)", f"{per_job / 1024:.1f} KiB", "-"))

    print(f"Python {platform.python_version()}, {platform.machine()}, {_cpus()} CPUs\n")
    print("| # | measure | jobwidgets | baseline (same run) |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if profile:
        print(f"\nProfile of row c (one run, the submitting thread, by own time):\n{profile}")


def _rand() -> float:
    import random

    return random.random()


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
