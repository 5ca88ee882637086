"""Widgets and the row feed under bad input and at scale: no leaks, no floods.

The leak test runs a short form here (3 rounds of 100 widgets); set
``JOBWIDGETS_STRESS=1`` for the long one (10 rounds of 1,000), which prints its
counters per round (``pytest -s``).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import tracemalloc
import weakref
from typing import Any

import pytest

from _jobs import PushJob
from jobwidgets import JobStatus, feed, registry
from jobwidgets.bridge import Bridge
from jobwidgets.widgets import JobTable, StatusBadge
from widget_support import ManualLoop, RecordingComm, install_recording_comm

STRESS = os.environ.get("JOBWIDGETS_STRESS") == "1"
ROUNDS, WIDGETS = (10, 1000) if STRESS else (3, 100)


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    install_recording_comm(monkeypatch)


@pytest.fixture
def loop() -> ManualLoop:
    return ManualLoop()


@pytest.fixture
def bridge(loop: ManualLoop) -> Bridge:
    return Bridge(loop, clock=loop.clock, interval=0.1)


def _round(bridge: Bridge, loop: ManualLoop, n: int) -> list[weakref.ref[Any]]:
    """Make, show (render the state a view would get) and close ``n`` badges and ``n``
    one-row tables; return weak references to all of them and their jobs."""
    refs: list[weakref.ref[Any]] = []
    for _ in range(n):
        job, other = PushJob(), PushJob()
        badge = StatusBadge(job, bridge=bridge)
        table = JobTable([other], bridge=bridge)
        badge._repr_mimebundle_()
        table._repr_mimebundle_()
        _flush(loop)
        badge.close()
        table.close()
        refs += [weakref.ref(x) for x in (job, other, badge, table)]
    _flush(loop)
    return refs


def _flush(loop: ManualLoop) -> None:
    """Run the bridge's flushes due now and after its interval."""
    loop.now += 1.0
    loop.run_due()


@pytest.mark.timeout(600 if STRESS else 30)
def test_closed_widgets_release_themselves_and_their_jobs(bridge: Bridge, loop: ManualLoop) -> None:
    _round(bridge, loop, 20)  # warm up caches (imports, traitlets, the comm machinery)
    gc.collect()
    tracemalloc.start()
    try:
        start_memory = tracemalloc.get_traced_memory()[0]
        start_jobs = len(registry.jobs())
        grown: list[float] = []
        for number in range(ROUNDS):
            refs = _round(bridge, loop, WIDGETS)
            gc.collect()
            alive = sum(ref() is not None for ref in refs)
            jobs = len(registry.jobs()) - start_jobs
            memory = (tracemalloc.get_traced_memory()[0] - start_memory) / 1e6
            grown.append(memory)
            print(
                f"round {number + 1}: {alive} of {len(refs)} objects alive, "
                f"registry {jobs:+d} jobs, memory {memory:+.3f} MB, watched {bridge.watched}"
            )
            assert alive == 0
            assert jobs <= 0
            assert bridge.watched == 0
    finally:
        tracemalloc.stop()
    # flat: the last round holds no more than the first did (before the fix: +3.9 MB a
    # round of 100)
    assert grown[-1] - grown[0] < 0.5


def _table_of_running_jobs(
    bridge: Bridge, loop: ManualLoop, n: int
) -> tuple[JobTable, list[PushJob]]:
    jobs = [PushJob() for _ in range(n)]
    for job in jobs:
        job.submit()
        job.push(JobStatus.RUNNING)
    table = JobTable(jobs, bridge=bridge)
    _flush(loop)
    return table, jobs


def _cancel_results(table: JobTable) -> list[dict[str, Any]]:
    comm: RecordingComm = table.comm
    return [m for m in comm.custom() if m["type"] == "cancel_result"]


def test_one_cancel_message_is_answered_for_at_most_the_cap(
    bridge: Bridge, loop: ManualLoop, caplog: pytest.LogCaptureFixture
) -> None:
    table, jobs = _table_of_running_jobs(bridge, loop, 3)
    keys = [str(n) for n in range(1, 20_001)]
    with caplog.at_level(logging.WARNING, logger="jobwidgets"):
        comm: RecordingComm = table.comm
        comm.receive({"type": "cancel", "keys": keys})
        _flush(loop)
    results = _cancel_results(table)
    assert len(results) == feed.MAX_CANCEL_KEYS
    assert [r["key"] for r in results] == keys[: feed.MAX_CANCEL_KEYS]
    assert all(job.state is JobStatus.CANCELLED for job in jobs)
    (record,) = [r for r in caplog.records if "cancel" in r.getMessage()]
    assert "19000 more" in record.getMessage()
    assert len(record.getMessage()) < 500
    table.close()


def test_repeated_keys_are_answered_once(bridge: Bridge, loop: ManualLoop) -> None:
    table, jobs = _table_of_running_jobs(bridge, loop, 1)
    comm: RecordingComm = table.comm
    comm.receive({"type": "cancel", "keys": ["1"] * 5_000})
    _flush(loop)
    assert [r["key"] for r in _cancel_results(table)] == ["1"]
    assert jobs[0].state is JobStatus.CANCELLED
    table.close()


def test_an_unknown_message_is_logged_in_a_bounded_summary(
    bridge: Bridge, loop: ManualLoop, caplog: pytest.LogCaptureFixture
) -> None:
    table, _jobs = _table_of_running_jobs(bridge, loop, 1)
    comm: RecordingComm = table.comm
    with caplog.at_level(logging.WARNING, logger="jobwidgets"):
        comm.receive({"type": "x" * 10_000_000, "keys": list(range(100_000))})
        comm.receive({"data": "y" * 10_000_000})
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert all("unknown message" in m and len(m) < 500 for m in messages)
    table.close()


@pytest.mark.parametrize("keys", ["23", b"23", 23, None, {"2": 1}, ("2", "3")])
def test_the_subshell_route_refuses_keys_that_are_not_a_list(
    bridge: Bridge, loop: ManualLoop, keys: Any
) -> None:
    table, jobs = _table_of_running_jobs(bridge, loop, 3)
    (outcome,) = json.loads(feed.cancel(table.feed_id, keys))
    assert outcome["ok"] is False
    assert "keys must be a list of row keys" in outcome["message"]
    assert [job.state for job in jobs] == [JobStatus.RUNNING] * 3
    table.close()


def test_the_subshell_route_answers_at_most_the_cap(bridge: Bridge, loop: ManualLoop) -> None:
    table, jobs = _table_of_running_jobs(bridge, loop, 2)
    outcomes = json.loads(feed.cancel(table.feed_id, [str(n) for n in range(1, 20_001)]))
    assert len(outcomes) == feed.MAX_CANCEL_KEYS + 1
    assert [o["ok"] for o in outcomes[:2]] == [True, True]
    assert all(job.state is JobStatus.CANCELLED for job in jobs)
    assert outcomes[-1] == {
        "ok": False,
        "message": f"ignored 19000 more keys: one request may cancel at most "
        f"{feed.MAX_CANCEL_KEYS} rows",
    }
    table.close()


def test_a_closed_badge_kept_somewhere_lets_its_job_go(bridge: Bridge, loop: ManualLoop) -> None:
    job = PushJob()
    job.submit()
    badge = StatusBadge(job, bridge=bridge)  # kept, as IPython's Out cache keeps it
    _flush(loop)
    badge.close()
    assert badge.job is job  # while the job lives elsewhere, the badge still names it
    gone = weakref.ref(job)
    del job
    gc.collect()
    assert gone() is None
    assert badge.status == "QUEUED"  # the last row shown stays readable
    with pytest.raises(RuntimeError, match="closed and its job is gone"):
        _ = badge.job
