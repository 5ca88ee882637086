"""Tags, export records and resubmit: ``tags=`` on every backend, the ``tags`` trait in
the rows and the history, ``JobTable.to_records()``, ``job.resubmit()`` and the table's
Retry (through the comm and the subshell route)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _jobs import PushJob
from jobwidgets import JobError, JobStatus, LocalBackend, SimulatedBackend, feed, history
from jobwidgets._tags import MAX_TAG_LENGTH, MAX_TAGS, check_tags
from jobwidgets.bridge import Bridge
from jobwidgets.rows import EXPORT_FIELDS, record, row
from jobwidgets.widgets import JobTable
from widget_support import ManualLoop, RecordingComm, install_recording_comm


def fails(x: int, *, scale: int = 1) -> int:
    """A job function that always fails, naming what it was given."""
    msg = f"bad input {x} x{scale}"
    raise ValueError(msg)


def double(x: int, *, scale: int = 1) -> int:
    return 2 * x * scale


# ------------------------------------------------------------------------ tags= on run
@pytest.mark.parametrize("kind", ["thread", "process"])
def test_local_run_and_map_tag_their_jobs(kind: str, local_backend: Any) -> None:
    backend: LocalBackend = local_backend(max_workers=2, kind=kind)
    job = backend.run(double, 2, tags=["nightly", "gpu"], scale=3)
    jobs = backend.map(double, [1, 2], tags=("batch",))
    assert job.result(timeout=30) == 12  # ``tags`` went to the backend, ``scale`` to fn
    assert job.tags == ("nightly", "gpu")
    assert [j.tags for j in jobs] == [("batch",), ("batch",)]
    assert [j.result(timeout=30) for j in jobs] == [2, 4]
    assert backend.run(double, 1).tags == ()


def test_simulated_run_and_run_many_tag_their_jobs(simulated_backend: Any) -> None:
    backend: SimulatedBackend = simulated_backend()
    assert backend.run(tags=["one"]).tags == ("one",)
    many = backend.run_many(3, tags=["sweep", "sweep", "v2"])
    assert [j.tags for j in many] == [("sweep", "v2")] * 3  # each tag once, in order


@pytest.mark.parametrize(
    ("tags", "error", "words"),
    [
        ("urgent", TypeError, "pass ['urgent']"),
        (5, TypeError, "iterable of str"),
        ([1], TypeError, "str only, got int"),
        ({"a": 1}, TypeError, "iterable of str"),
        ([""], ValueError, "empty or blank"),
        (["  "], ValueError, "empty or blank"),
        (["x" * (MAX_TAG_LENGTH + 1)], ValueError, f"at most {MAX_TAG_LENGTH} characters"),
        (["a\nb"], ValueError, "control characters"),
        ([f"t{i}" for i in range(MAX_TAGS + 1)], ValueError, f"at most {MAX_TAGS} tags"),
    ],
)
def test_bad_tags_say_what_is_wrong(
    tags: Any, error: type[Exception], words: str, local_backend: Any, simulated_backend: Any
) -> None:
    backend: LocalBackend = local_backend(max_workers=1)
    sim: SimulatedBackend = simulated_backend()
    for call in (
        lambda: backend.run(double, 1, tags=tags),
        lambda: backend.map(double, [1], tags=tags),
        lambda: sim.run(tags=tags),
        lambda: sim.run_many(2, tags=tags),
    ):
        with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
            call()
    job = backend.run(double, 1)
    with pytest.raises(error):
        job.tags = tags
    assert job.tags == ()
    assert check_tags(None) == ()


# ------------------------------------------------------------------ rows and records
@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    install_recording_comm(monkeypatch)


@pytest.fixture
def loop() -> ManualLoop:
    return ManualLoop()


@pytest.fixture
def table(loop: ManualLoop) -> Iterator[JobTable]:
    made = JobTable(bridge=Bridge(loop, clock=loop.clock, interval=0.1))
    loop.run_due()
    yield made
    made.close()


def custom(widget: Any) -> list[dict[str, Any]]:
    comm: RecordingComm = widget.comm
    return comm.custom()


def test_a_tag_change_reaches_the_rows_live(table: JobTable, loop: ManualLoop) -> None:
    job = PushJob()
    job.submit()
    table.add(job)
    loop.advance(1)
    assert custom(table)[-1]["upsert"][0]["tags"] == []
    job.push(JobStatus.DONE)
    changed = threading.Thread(target=setattr, args=(job, "tags", ["reviewed", "q3"]))
    changed.start()
    changed.join()
    loop.advance(1)
    (upsert,) = custom(table)[-1]["upsert"]
    assert upsert["tags"] == ["reviewed", "q3"] and upsert["status"] == "DONE"
    assert job.tags == ("reviewed", "q3")


def test_to_records_has_stable_keys_and_iso_times(table: JobTable, local_backend: Any) -> None:
    backend: LocalBackend = local_backend(max_workers=1)
    failed = backend.run(fails, 7, tags=["etl"])
    failed.wait_for_final_state(timeout=10)
    waiting = PushJob()
    table.add(failed)
    table.add(waiting)
    records = table.to_records()
    assert [list(r) for r in records] == [list(EXPORT_FIELDS)] * 2
    first, second = records
    assert first["job_id"] == failed.job_id() and first["status"] == "ERROR"
    assert first["tags"] == ["etl"] and first["error"] == "ValueError: bad input 7 x1"
    assert first["backend"] == backend.name and first["resubmitted_from"] is None
    started = dt.datetime.fromisoformat(first["started"].replace("Z", "+00:00"))
    assert first["started"].endswith("Z") and len(first["started"]) == 24
    assert failed.started_at is not None and abs(started.timestamp() - failed.started_at) < 0.001
    assert isinstance(first["run_seconds"], float) and first["run_seconds"] >= 0
    assert second["status"] == "INITIALIZING" and second["submitted"] is None
    assert second["queue_seconds"] is None and second["run_seconds"] is None
    json.dumps(records)  # JSON-ready


def test_a_record_of_a_running_job_counts_up_to_now() -> None:
    job = PushJob()
    job.submit()
    job.push(JobStatus.RUNNING)
    assert job.started_at is not None
    later = record(job, now=job.started_at + 2.5)
    assert later["run_seconds"] == 2.5 and later["finished"] is None


# ----------------------------------------------------------------------- resubmit
@pytest.mark.parametrize("kind", ["thread", "process"])
def test_resubmit_a_local_job(kind: str, local_backend: Any) -> None:
    backend: LocalBackend = local_backend(max_workers=1, kind=kind)
    first = backend.run(fails, 3, tags=["flaky"], scale=2)
    first.wait_for_final_state(timeout=30)
    again = first.resubmit()
    again.wait_for_final_state(timeout=30)
    assert again.job_id() != first.job_id() and again.backend() is backend
    assert again.resubmitted_from == first.job_id() and first.resubmitted_from is None
    assert (again.fn, again.args, again.kwargs, again.tags) == (
        fails,
        (3,),
        {"scale": 2},
        ("flaky",),
    )
    assert again.error == first.error == "ValueError: bad input 3 x2"
    done = backend.run(double, 4).resubmit()  # any state may be resubmitted
    assert done.result(timeout=30) == 8


def test_resubmit_a_simulated_job_keeps_its_options(simulated_backend: Any) -> None:
    backend: SimulatedBackend = simulated_backend()
    first = backend.run({"answer": 42}, run_time=0.5, fail=True, tags=["demo"])
    first.wait_for_final_state(timeout=10)
    again = first.resubmit()
    again.wait_for_final_state(timeout=10)
    assert again.state is JobStatus.ERROR and again.planned_outcome is JobStatus.ERROR
    assert again.resubmitted_from == first.job_id() and again.tags == ("demo",)
    assert again.job_id() != first.job_id()
    ok = backend.run({"answer": 42}).resubmit()
    assert ok.result(timeout=10) == {"answer": 42}


def test_resubmit_refuses_what_cannot_run_again(local_backend: Any, simulated_backend: Any) -> None:
    third_party = PushJob()
    with pytest.raises(JobError, match="PushJob jobs don't know how to run again"):
        third_party.resubmit()
    assert row(third_party, "1")["can_retry"] is False
    backend: LocalBackend = local_backend(max_workers=1)
    job = backend.run(fails, 1)
    job.wait_for_final_state(timeout=10)
    assert row(job, "1")["can_retry"] is True
    backend.close()
    assert row(job, "1")["can_retry"] is False
    with pytest.raises(JobError, match="local-thread is closed; create a new LocalBackend"):
        job.resubmit()
    sim: SimulatedBackend = simulated_backend()
    sim_job = sim.run(fail=True)
    sim.close()
    with pytest.raises(JobError, match="simulated is closed"):
        sim_job.resubmit()


def test_only_failed_or_cancelled_rows_offer_retry(local_backend: Any) -> None:
    backend: LocalBackend = local_backend(max_workers=1)
    done = backend.run(double, 1)
    failed = backend.run(fails, 1)
    done.wait_for_final_state(timeout=10)
    failed.wait_for_final_state(timeout=10)
    assert (row(done, "1")["can_retry"], row(failed, "2")["can_retry"]) == (False, True)


# ------------------------------------------------------------------- the Retry click
def test_a_retry_click_runs_the_job_again_once(
    table: JobTable, loop: ManualLoop, local_backend: Any
) -> None:
    backend: LocalBackend = local_backend(max_workers=1)
    first = backend.run(fails, 5, tags=["nightly"])
    first.wait_for_final_state(timeout=10)
    table.add(first)
    loop.advance(1)
    table.comm.receive({"type": "retry", "key": "1", "request": "r-1"})
    # the same click through the subshell route: handled already, no second job
    assert json.loads(feed.retry(table.feed_id, "1", "r-1")) == {"ok": True, "handled": True}
    assert len(table.jobs) == 2
    again = table.jobs[1]
    assert again.resubmitted_from == first.job_id() and again.tags == ("nightly",)
    again.wait_for_final_state(timeout=10)
    loop.advance(1)
    results = [m for m in custom(table) if m["type"] == "retry_result"]
    assert results == [
        {
            "type": "retry_result",
            "key": "1",
            "request": "r-1",
            "job_id": first.job_id(),
            "ok": True,
            "message": "",
            "new_job_id": again.job_id(),
            "kernel_time": results[0]["kernel_time"],
        }
    ]
    rows = {r["job_id"]: r for m in custom(table) if m["type"] == "delta" for r in m["upsert"]}
    assert rows[again.job_id()]["resubmitted_from"] == first.job_id()


def test_a_retry_that_cannot_run_says_why(
    table: JobTable, loop: ManualLoop, local_backend: Any
) -> None:
    backend: LocalBackend = local_backend(max_workers=1)
    job = backend.run(double, 1)
    job.wait_for_final_state(timeout=10)
    table.add(job)
    third = PushJob()
    third.submit()
    third.push(JobStatus.ERROR, error="boom")
    table.add(third)
    outcome = json.loads(feed.retry(table.feed_id, "1", "a"))
    assert outcome["ok"] is False and "only a failed or cancelled job" in outcome["message"]
    outcome = json.loads(feed.retry(table.feed_id, "2", "b"))
    assert outcome["ok"] is False and "PushJob jobs don't know how" in outcome["message"]
    outcome = json.loads(feed.retry(table.feed_id, "9", "c"))
    assert outcome == {**outcome, "ok": False, "message": "no such job"}
    assert json.loads(feed.retry("nope", "1", "d"))["message"] == "no open job table 'nope'"
    assert len(table.jobs) == 2


# ------------------------------------------------------------------------- history
@pytest.fixture
def history_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "history.sqlite3"
    history.enable(path, interval=0.05)
    yield path
    history.disable()


def test_the_history_keeps_the_tags_and_their_changes(
    history_file: Path, local_backend: Any
) -> None:
    backend: LocalBackend = local_backend(max_workers=1)
    job = backend.run(double, 1, tags=["nightly", "gpu"])
    job.wait_for_final_state(timeout=10)
    assert history.flush()
    (stored,) = [r for r in history.query() if r.job_id == job.job_id()]
    assert stored.tags == ("nightly", "gpu")
    job.tags = ["reviewed"]  # after its final state: still recorded
    assert history.flush()
    (stored,) = [r for r in history.query() if r.job_id == job.job_id()]
    assert stored.tags == ("reviewed",) and stored.status == "DONE"
    assert [r.job_id for r in history.query(text="reviewed")] == [job.job_id()]


# ---------------------------------------------------------------------------- dask
@pytest.fixture(scope="module")
def dask_backend() -> Iterator[Any]:
    pytest.importorskip("distributed")
    from jobwidgets.dask import DaskBackend

    with DaskBackend(n_workers=1, threads_per_worker=1) as made:
        yield made


def test_dask_tags_and_resubmit(dask_backend: Any) -> None:
    job = dask_backend.run(fails, 2, tags=["cluster"], scale=5)
    mapped = dask_backend.map(double, [1, 2], tags=["mapped"])
    job.wait_for_final_state(timeout=60)
    assert [j.result(timeout=60) for j in mapped] == [2, 4]
    assert [j.tags for j in mapped] == [("mapped",)] * 2 and job.tags == ("cluster",)
    again = job.resubmit()
    again.wait_for_final_state(timeout=60)
    assert again.job_id() != job.job_id() and again.resubmitted_from == job.job_id()
    assert again.tags == ("cluster",) and again.error == job.error == "ValueError: bad input 2 x5"
    assert mapped[0].resubmit().result(timeout=60) == 2
    with pytest.raises(TypeError, match="pass"):
        dask_backend.run(double, 1, tags="cluster")


def test_a_closed_dask_backend_refuses_to_resubmit() -> None:
    pytest.importorskip("distributed")
    from jobwidgets.dask import DaskBackend

    with DaskBackend(n_workers=1, threads_per_worker=1) as backend:
        job = backend.run(double, 1)
        job.wait_for_final_state(timeout=60)
    assert row(job, "1")["can_retry"] is False
    with pytest.raises(JobError, match="can't be resubmitted: dask is closed"):
        job.resubmit()


class LegacyTagged(PushJob):
    """A job class written for qiskit-ibmq-provider: its own ``tags()`` method."""

    def tags(self) -> list[str]:  # type: ignore[override]
        return ["ibmq", "legacy"]


class OwnResubmit(PushJob):
    def resubmit(self) -> PushJob:
        return OwnResubmit()


def test_a_subclass_with_its_own_tags_method_still_shows(table: JobTable, loop: ManualLoop) -> None:
    job = LegacyTagged()
    job.submit()
    table.add(job)
    loop.advance(1)
    assert custom(table)[-1]["upsert"][0]["tags"] == ["ibmq", "legacy"]
    assert record(job)["tags"] == ["ibmq", "legacy"]
    own = OwnResubmit()
    own.submit()
    own.push(JobStatus.ERROR, error="boom")
    assert row(own, "1")["can_retry"] is True  # it overrides resubmit(): offered


def test_a_qiskit_job_says_it_cannot_be_resubmitted() -> None:
    pytest.importorskip("qiskit_aer")
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    from jobwidgets.qiskit import watch

    circuit = QuantumCircuit(1)
    circuit.measure_all()
    job = watch(AerSimulator().run(circuit, shots=1))
    job.wait_for_final_state(timeout=60)
    assert row(job, "1")["can_retry"] is False
    with pytest.raises(JobError, match="WatchedJob jobs don't know how to run again"):
        job.resubmit()
