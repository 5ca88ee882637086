"""Many threads pushing, cancelling and waiting at once: every observer sees one story."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from _jobs import FINAL, PushJob
from jobwidgets import BaseJob, JobStatus, JobTimeoutError

PATH = [JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING]
JOBS = 200
PUSHERS = 8
OTHERS = 4


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as possible, so that races show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _start(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


@pytest.mark.timeout(60)
@pytest.mark.parametrize("seed", range(10))
def test_concurrent_pushes_cancels_and_waits(fast_switching: None, seed: int) -> None:
    rng = random.Random(seed)
    jobs = [PushJob() for _ in range(JOBS)]
    plans: dict[str, list[JobStatus]] = {job.job_id(): [*PATH, rng.choice(FINAL)] for job in jobs}
    records: dict[str, tuple[list[JobStatus], list[JobStatus]]] = {}
    done_calls: dict[str, list[BaseJob]] = {job.job_id(): [] for job in jobs}
    cancelled_true: set[str] = set()
    progressed_first: set[str] = set()  # the observer's progress came before a final state
    errors: list[BaseException] = []

    for job in jobs:
        first: list[JobStatus] = []
        second: list[JobStatus] = []
        records[job.job_id()] = (first, second)

        def reenter(change: Any, log: list[JobStatus] = first) -> None:
            log.append(change["new"])
            change["owner"].status()  # calls back into the job from its observer
            if change["new"] is JobStatus.RUNNING:
                owner = change["owner"]
                owner.set_progress(0.5)  # ignored if a final state was reported meanwhile
                if owner.status() not in FINAL:  # it was not: DONE must make it 1.0
                    progressed_first.add(owner.job_id())

        job.observe(reenter, "state")
        job.observe(lambda change, log=second: log.append(change["new"]), "state")
        job.add_done_callback(done_calls[job.job_id()].append)

    hot: list[PushJob] = []  # jobs in the order they were last pushed
    stop = threading.Event()
    barrier = threading.Barrier(PUSHERS + OTHERS + 1)

    def guarded(fn: Any) -> Any:
        def run(*args: Any) -> None:
            try:
                barrier.wait(10)
                fn(*args)
            except BaseException as exc:
                errors.append(exc)

        return run

    @guarded
    def pusher(index: int) -> None:
        local = random.Random(seed * 1000 + index)
        mine = {job: list(plans[job.job_id()]) for job in jobs[index::PUSHERS]}
        while mine:
            job = local.choice(list(mine))
            status = mine[job].pop(0)
            hot.append(job)
            job.push(status)
            if local.random() < 0.2:
                job.push(status)  # a repeated report changes nothing
            if not mine[job]:
                del mine[job]

    @guarded
    def other(index: int) -> None:
        local = random.Random(seed * 1000 + 100 + index)
        while not stop.is_set():
            # mostly a job that a pusher is busy with right now
            job = local.choice(hot[-PUSHERS:] if hot and local.random() < 0.8 else jobs)
            choice = local.random()
            if choice < 0.3:
                if job.cancel():
                    cancelled_true.add(job.job_id())
            else:
                try:
                    job.wait_for_final_state(timeout=local.choice([0, 0.001, 0.01]), wait=0.001)
                except JobTimeoutError:
                    continue
                assert job.in_final_state()

    start = time.monotonic()
    pushers = [_start(pusher, i) for i in range(PUSHERS)]
    others = [_start(other, i) for i in range(OTHERS)]
    barrier.wait(10)
    for thread in pushers:
        thread.join(30)
    stop.set()
    for thread in others:
        thread.join(30)
    assert not any(thread.is_alive() for thread in pushers + others), "deadlock"
    assert time.monotonic() - start < 30
    assert errors == []

    for job in jobs:
        job_id = job.job_id()
        first, second = records[job_id]
        assert first == second, job_id
        plan = plans[job_id]
        finals = [status for status in first if status in FINAL]
        assert len(finals) == 1, (job_id, first)
        assert first[-1] is finals[0]
        assert finals[0] in (plan[-1], JobStatus.CANCELLED)
        positions = [plan.index(s) if s in plan else len(plan) - 1 for s in first]
        assert positions == sorted(set(positions)), (job_id, first, plan)
        assert job.state is first[-1]
        assert job.status() is first[-1]
        assert done_calls[job_id] == [job]
        if job_id in cancelled_true:
            assert first[-1] is JobStatus.CANCELLED
        assert job.finished_at is not None
        assert (job.started_at is not None) == (JobStatus.RUNNING in first)
        if first[-1] is JobStatus.DONE:
            # a report never waits for observers on other threads: DONE may come before
            # the RUNNING observer's progress, which is then ignored
            if job_id in progressed_first:
                assert job.progress == 1.0
            else:
                assert job.progress in (None, 1.0)


class _SlowStore(dict[str, Any]):
    """Trait storage that dawdles while a new ``state`` is stored, so that an observer
    attached by another thread at that moment would slip in between."""

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "state":
            time.sleep(0.002)
        super().__setitem__(key, value)


@pytest.mark.timeout(60)
def test_an_observer_attached_during_a_change_never_misses_it() -> None:
    """Attach an observer while another thread finishes the job, then read ``state``:
    either the read shows the final state or the observer hears of it."""
    jobs = [PushJob() for _ in range(200)]
    for job in jobs:
        job._trait_values = _SlowStore(job._trait_values)
    step = threading.Barrier(2)

    def finisher() -> None:
        for job in jobs:
            step.wait(10)
            job.push(JobStatus.DONE)

    thread = _start(finisher)
    heard: list[list[JobStatus]] = []
    read: list[JobStatus] = []
    for job in jobs:
        log: list[JobStatus] = []
        heard.append(log)
        step.wait(10)
        time.sleep(0.0005)  # let the finisher start its report
        job.observe(lambda change, log=log: log.append(change["new"]), "state")
        read.append(job.state)
    thread.join(30)
    assert not thread.is_alive()
    missed = [
        job.job_id()
        for job, log, state in zip(jobs, heard, read, strict=True)
        if state is not JobStatus.DONE and JobStatus.DONE not in log
    ]
    assert missed == []
