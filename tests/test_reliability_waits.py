"""Waits under load: hanging and slow ``status()`` calls never starve other waits.

A short form runs in ``make test``. For the long form, set ``JOBWIDGETS_STRESS_TRIALS``
(for example ``JOBWIDGETS_STRESS_TRIALS=100``); the figures are printed with ``-s``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

from _jobs import OverlapJob, SettableJob, SlowStatusJob
from jobwidgets import JobStatus, JobTimeoutError

TRIALS = int(os.environ.get("JOBWIDGETS_STRESS_TRIALS", "2"))
WAITERS = 50


def _trial() -> list[str]:
    """One round: four hanging jobs, 50 waiters on a slow job, one healthy wait."""
    violations: list[str] = []
    hung = [SlowStatusJob() for _ in range(4)]
    slow = OverlapJob()
    ended: list[float] = []
    spurious: list[JobTimeoutError] = []

    def wait() -> None:
        try:
            slow.wait_for_final_state(timeout=3, wait=0.05)
            ended.append(time.monotonic())
        except JobTimeoutError as exc:
            spurious.append(exc)

    try:
        for job in hung:
            with contextlib.suppress(JobTimeoutError):
                job.wait_for_final_state(timeout=0.05)
        threads = [threading.Thread(target=wait) for _ in range(WAITERS)]
        for thread in threads:
            thread.start()
        healthy = SettableJob(JobStatus.DONE)
        start = time.monotonic()
        healthy.wait_for_final_state(timeout=2, wait=5)
        if time.monotonic() - start > 0.5:
            violations.append(f"a healthy wait took {time.monotonic() - start:.2f} s")
        slow.value = JobStatus.DONE
        done_at = time.monotonic()
        for thread in threads:
            thread.join(5)
    finally:
        for job in hung:
            job.release.set()
    if spurious:
        violations.append(f"{len(spurious)} of {WAITERS} waiters timed out")
    if ended and max(ended) - done_at > 1.0:
        violations.append(f"a waiter returned {max(ended) - done_at:.2f} s after DONE")
    if slow.most_inside > 1:
        violations.append(f"{slow.most_inside} status() calls of one job overlapped")
    return violations


def test_hanging_and_slow_status_calls_never_starve_other_waits() -> None:
    violations = [v for _ in range(TRIALS) for v in _trial()]
    print(f"waits: {TRIALS} trials x {WAITERS} waiters, {len(violations)} violations")
    assert violations == []
