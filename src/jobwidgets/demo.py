"""A terminal tour: ``python -m jobwidgets.demo``.

It submits a mix of local and simulated jobs, shows their statuses changing live (a
table redrawn in place on a terminal, one line per change otherwise), cancels one, and
prints a summary.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import threading
import time
from typing import Any, TextIO

from .backends import LocalBackend, SimulatedBackend
from .job import BaseJob, current_job
from .status import JOB_FINAL_STATES, STYLES, JobStatus
from .text import job_text, text_line

__all__ = ["main"]


def _count_primes(limit: int) -> int:
    """Some honest work for a thread job, honouring cancellation and reporting progress."""
    found = 0
    for n in range(2, limit):
        if n % 2000 == 0:
            job = current_job()
            if job is not None:
                job.raise_if_cancelled()
                job.set_progress(n / limit)
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            found += 1
    return found


def _row(job: BaseJob, now: float) -> str:
    """The job's text line (``jobwidgets.text``) laid out in columns."""
    t = job_text(job, now)
    return (
        f"  {t.icon} {t.status:<12} {t.job_id:<18} {t.backend:<14} "
        f"{t.elapsed:<20} {t.progress:>4}  {t.error}"
    ).rstrip()


class _Screen:
    """Redraws the job table in place on a terminal; elsewhere prints a job's text line
    whenever its status changes."""

    def __init__(self, stream: TextIO, live: bool) -> None:
        self.stream = stream
        self.live = live
        self.jobs: list[BaseJob] = []
        self.lines = 0
        self.lock = threading.Lock()
        self.changes: collections.deque[str] = collections.deque()

    def add(self, job: BaseJob) -> None:
        self.jobs.append(job)
        job.observe(self._changed, "state")
        self.changes.append(f"  {text_line(job)}")

    def _changed(self, change: Any) -> None:
        job: BaseJob = change.owner
        self.changes.append(f"  {text_line(job)}")

    def draw(self) -> None:
        with self.lock:
            if not self.live:
                while self.changes:
                    print(self.changes.popleft(), file=self.stream)
                return
            width = shutil.get_terminal_size((100, 20)).columns
            now = time.time()
            rows = [_row(job, now)[:width] for job in self.jobs]
            if self.lines:
                self.stream.write(f"\x1b[{self.lines}F")
            for line in rows:
                self.stream.write("\x1b[2K" + line + "\n")
            self.stream.flush()
            self.lines = len(rows)


def main(argv: list[str] | None = None, stream: TextIO | None = None) -> int:
    """Run the demo; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m jobwidgets.demo", description=__doc__)
    parser.add_argument("--speed", type=float, default=1.0, help="time scale (0.1 = 10x faster)")
    args = parser.parse_args(argv)
    if not args.speed > 0:
        parser.error(f"--speed must be > 0, got {args.speed}")
    out = stream or sys.stdout
    screen = _Screen(out, live=out.isatty())
    print("jobwidgets demo: local and simulated jobs, watched live\n", file=out)

    with (
        LocalBackend(max_workers=2, kind="thread") as local,
        SimulatedBackend(
            capacity=2,
            seed=7,
            failure_probability=0.25,
            time_scale=args.speed,
            run_time=(1.0, 2.5),
        ) as remote,
    ):
        jobs: list[BaseJob] = []
        jobs.append(local.run(_count_primes, 60_000))
        jobs.append(local.run(sum, range(10_000_000)))
        jobs.extend(remote.run_many(4))
        victim = remote.run(run_time=30)
        jobs.append(victim)
        jobs.append(remote.run(fail=True))
        for job in jobs:
            screen.add(job)

        cancelled_at = time.monotonic() + 1.5 * args.speed
        was_cancelled = False
        while not all(job.in_final_state() for job in jobs):
            if not was_cancelled and time.monotonic() >= cancelled_at:
                was_cancelled = victim.cancel()
                screen.changes.append(f"  cancel({victim.job_id()}) -> {was_cancelled}")
            screen.draw()
            time.sleep(0.1)
        screen.draw()

        counts = collections.Counter(job.state for job in jobs)
        print("\nSummary:", file=out)
        for status in JOB_FINAL_STATES:
            print(f"  {status.icon} {STYLES[status].label:<10} {counts[status]}", file=out)
        for job in jobs:
            if job.state is JobStatus.DONE:
                print(f"  {job.job_id()}: result {job.result()!r}", file=out)
            elif job.state is JobStatus.ERROR:
                print(f"  {job.job_id()}: {job.error}", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
