"""``cancel()`` tells the truth under races, for the thread, simulated and pushing kinds.

The process kind has its own races in ``test_process_pool.py`` and Dask its own in
``test_reliability_dask.py``. A trial submits a job, waits a random short time, then
cancels it. A violation is a ``cancel()`` whose answer is not "the job ended CANCELLED",
or a job ending in ERROR (these jobs never fail: such a job was hurt by another's cancel).

A short form runs in ``make test``. The long form: ``JOBWIDGETS_CANCEL_RACES=100000``
(and ``-s`` to see the figures).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from _jobs import PushJob
from _work import sleep
from jobwidgets import BaseJob, JobStatus

TRIALS = int(os.environ.get("JOBWIDGETS_CANCEL_RACES", "1000"))


def race(
    submit: Callable[[], BaseJob],
    trials: int,
    seed: int,
    finish: Callable[[BaseJob], Any] = lambda _job: None,
) -> tuple[Counter[str], list[str]]:
    """``submit()``, a random 0-4 ms (or 0-0.5 ms after RUNNING), then ``cancel()``."""
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    violations: list[str] = []
    for trial in range(trials):
        job = submit()
        finish(job)
        if trial % 2:
            deadline = time.monotonic() + 1
            while job.state in (JobStatus.INITIALIZING, JobStatus.QUEUED):
                if time.monotonic() > deadline:
                    break
                time.sleep(0)
            delay = rng.uniform(0, 0.0005)
        else:
            delay = rng.uniform(0, 0.004)
        time.sleep(delay)
        answer = job.cancel()
        job.wait_for_final_state(timeout=30)
        status = job.status()
        outcomes[f"{answer}/{status.name}"] += 1
        if answer is not (status is JobStatus.CANCELLED) or status is JobStatus.ERROR:
            violations.append(f"trial {trial}: cancel() -> {answer}, {status.name}, {job.error}")
    return outcomes, violations


def _nothing(_job: BaseJob) -> None:
    return None


def _push_later(job: BaseJob) -> None:
    """A pushing backend's thread: RUNNING, then DONE, racing the test's cancel()."""
    assert isinstance(job, PushJob)

    def backend() -> None:
        if job.push(JobStatus.RUNNING):
            time.sleep(random.uniform(0, 0.002))
            job.push(JobStatus.DONE)

    threading.Timer(random.uniform(0, 0.003), backend).start()


@pytest.mark.timeout(0)
@pytest.mark.parametrize("kind", ["thread", "simulated", "pushing"])
def test_cancel_tells_the_truth_under_races(
    kind: str,
    local_backend: Callable[..., Any],
    simulated_backend: Callable[..., Any],
) -> None:
    finish: Callable[[BaseJob], Any] = _nothing
    submit: Callable[[], BaseJob]
    if kind == "thread":
        backend = local_backend(1, "thread")

        def submit() -> BaseJob:
            backend.run(sleep, 0.002)  # the one worker is busy for a while: a queue
            return backend.run(sleep, 0.001)

    elif kind == "simulated":
        simulated = simulated_backend(
            init_time=(0, 0.2),
            queue_time=(0, 0.2),
            validation_time=(0, 0.2),
            run_time=(0, 0.3),
            progress_steps=0,
            seed=3,
        )
        submit = simulated.run
    else:

        def submit() -> BaseJob:
            job = PushJob()
            job.push(JobStatus.QUEUED)
            return job

        finish = _push_later
    start = time.monotonic()
    outcomes, violations = race(submit, TRIALS, seed=TRIALS, finish=finish)
    print(
        f"\n{kind}: {TRIALS} cancel races in {time.monotonic() - start:.1f} s:"
        f" {dict(outcomes)}; {len(violations)} violations"
    )
    assert violations[:5] == []
    assert outcomes["True/CANCELLED"] and outcomes["False/DONE"]  # both sides of the race
