"""Benchmarks e and e2: kernel-to-front-end messages while 10,000 jobs change state.

10,000 jobs each go through 4 transitions (QUEUED, VALIDATING, RUNNING, DONE) within about
one second, pushed from a worker thread, while a JobTable shows them all. The comm is a
recording one (no front end), so what is counted is exactly what the kernel would send:
messages per second, bytes, and the kernel's CPU time. In the same run, the naive way
(one message per transition, sent from the observer) is measured on the same workload.

e2 is the same workload while the main thread runs a CPU-bound loop, as a blocking cell
would: the bridge flushes from its own thread. Reported: messages per second, the bridge
thread's CPU time (from ``/proc``), and how many iterations the main thread's loop made
against the same loop with no jobs, measured just before in the same run.

    .venv/bin/python benchmarks/bench_widgets.py
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import comm
from bench_core import PushedJob

from jobwidgets import JobStatus
from jobwidgets.bridge import Bridge
from jobwidgets.rows import row
from jobwidgets.widgets import JobTable
from widget_support import RecordingComm

JOBS = 10_000
TRANSITIONS = (JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING, JobStatus.DONE)


class Backend:
    name = "bench"


def push_all(jobs: list[PushedJob], seconds: float) -> None:
    """Push every transition of every job, spread evenly over ``seconds``."""
    start = time.perf_counter()
    per_step = len(jobs) // 20
    steps = [
        (t, jobs[i : i + per_step]) for t in TRANSITIONS for i in range(0, len(jobs), per_step)
    ]
    for index, (status, chunk) in enumerate(steps):
        target = start + seconds * index / len(steps)
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        for job in chunk:
            job._report(status)


def measure(naive: bool) -> dict[str, float]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    bridge = Bridge(loop)
    jobs = [PushedJob(Backend(), f"bench-{i}") for i in range(JOBS)]
    if naive:
        table = JobTable(bridge=bridge)
        channel: RecordingComm = table.comm

        def send_now(change: Any) -> None:  # one message per transition, from any thread
            channel.publish_msg("comm_msg", {"method": "custom", "content": row(change.owner, "k")})

        for job in jobs:
            job.observe(send_now, "state")
    else:
        table = JobTable(jobs, bridge=bridge)
        channel = table.comm
    loop.run_until_complete(asyncio.sleep(0.3))  # the initial rows go out
    before = len(channel.sent)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    pusher = threading.Thread(target=push_all, args=(jobs, 1.0))
    pusher.start()

    async def until_done() -> None:
        while pusher.is_alive():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.25)  # the last flush

    loop.run_until_complete(until_done())
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    messages = channel.sent[before:]
    size = sum(len(json.dumps(m["data"])) for m in messages)
    assert all(job.state is JobStatus.DONE for job in jobs)
    table.close()
    loop.close()
    return {"messages": len(messages), "wall": wall, "cpu": cpu, "bytes": size}


def thread_cpu(native_id: int) -> float:
    """CPU seconds (user + system) of one thread of this process, from /proc."""
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy(until: Callable[[], bool]) -> int:
    """A CPU-bound loop, as in a blocking cell; return how many rounds it made."""
    rounds = 0
    while not until():
        sum(range(1000))
        rounds += 1
    return rounds


def measure_blocked() -> dict[str, float]:
    """e2: the workload of e while the main thread computes."""
    bridge = Bridge()  # its own thread, as in a kernel
    ids: list[int] = []
    got = threading.Event()
    bridge.loop.call_soon_threadsafe(lambda: (ids.append(threading.get_native_id()), got.set()))
    got.wait()
    end = time.perf_counter() + 1.25
    baseline = busy(lambda: time.perf_counter() >= end)  # no jobs: the loop alone
    jobs = [PushedJob(Backend(), f"bench-{i}") for i in range(JOBS)]
    table = JobTable(jobs, bridge=bridge)
    channel: RecordingComm = table.comm
    time.sleep(0.3)  # the initial rows go out
    before, cpu0 = len(channel.sent), thread_cpu(ids[0])
    wall0 = time.perf_counter()
    pusher = threading.Thread(target=push_all, args=(jobs, 1.0))
    pusher.start()
    rounds = busy(lambda: not pusher.is_alive())
    end = time.perf_counter() + 0.25  # the last flush, still computing
    rounds += busy(lambda: time.perf_counter() >= end)
    wall = time.perf_counter() - wall0
    cpu = thread_cpu(ids[0]) - cpu0
    messages = channel.sent[before:]
    assert all(job.state is JobStatus.DONE for job in jobs)
    assert {m["thread"] for m in messages} == {bridge.owner_thread}
    table.close()
    return {
        "messages": len(messages),
        "wall": wall,
        "bridge_cpu": cpu,
        "rounds_per_s": rounds / wall,
        "baseline_per_s": baseline / 1.25,
    }


def main() -> None:
    comm.create_comm = RecordingComm
    coalesced = measure(naive=False)
    naive = measure(naive=True)
    blocked = measure_blocked()
    print(
        f"Python {platform.python_version()}, {platform.machine()}; {JOBS:,} jobs x 4 transitions\n"
    )
    print("| way | messages | messages/s | MB sent | kernel CPU s | wall s |")
    print("|---|---|---|---|---|---|")
    for name, r in (("bridge (JobTable)", coalesced), ("naive: one per transition", naive)):
        print(
            f"| {name} | {r['messages']:,} | {r['messages'] / r['wall']:.1f} | "
            f"{r['bytes'] / 1e6:.2f} | {r['cpu']:.2f} | {r['wall']:.2f} |"
        )
    print(
        f"\nmessages: {naive['messages'] / max(1, coalesced['messages']):.0f}x fewer; "
        f"CPU ratio bridge/naive: {coalesced['cpu'] / naive['cpu']:.2f}"
    )
    print("\ne2: the same while the main thread runs a CPU-bound loop\n")
    print("| messages | messages/s | bridge thread CPU s | wall s | main loop speed vs alone |")
    print("|---|---|---|---|---|")
    print(
        f"| {blocked['messages']:,} | {blocked['messages'] / blocked['wall']:.1f} | "
        f"{blocked['bridge_cpu']:.2f} | {blocked['wall']:.2f} | "
        f"{blocked['rounds_per_s'] / blocked['baseline_per_s']:.2f} |"
    )


if __name__ == "__main__":
    main()
