"""The job history: what a record holds, where the file lives, its upkeep, and queries.

Every test writes its own file under ``tmp_path``; ``history`` is a fixture that enables
recording there and disables it at teardown.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import stat
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _jobs import FakeBackend, PushJob
from jobwidgets import JobStatus, LocalBackend, history
from jobwidgets.history import recording as recording_module
from jobwidgets.history import store


@pytest.fixture
def history_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "history.sqlite3"
    history.enable(path, interval=0.05)
    yield path
    history.disable()


def pushed(statuses: list[JobStatus], **kwargs: Any) -> PushJob:
    job = PushJob(**kwargs)
    job.submit()
    for status in statuses:
        job.push(status)
    return job


def test_a_record_holds_the_job_as_it_ended(history_file: Path, local_backend: Any) -> None:
    backend: LocalBackend = local_backend(max_workers=2)

    def fail() -> None:
        raise RuntimeError("the token is abc")

    def work() -> int:
        job = __import__("jobwidgets").current_job()
        job.set_progress(0.5)
        return 1

    failed, done = backend.run(fail), backend.run(work)
    failed.wait_for_final_state(timeout=10)
    done.wait_for_final_state(timeout=10)
    records = {r.job_id: r for r in history.query()}
    bad, good = records[failed.job_id()], records[done.job_id()]
    assert bad.status == "ERROR" and bad.error == "RuntimeError: the token is abc"
    assert bad.error_traceback is not None and "in fail" in bad.error_traceback
    assert good.status == "DONE" and good.progress == 1.0 and good.error is None
    for record, job in ((bad, failed), (good, done)):
        assert record.backend == backend.name
        assert record.job_class == "jobwidgets.backends.local.LocalJob"
        assert (record.created_at, record.submitted_at, record.started_at, record.finished_at) == (
            job.created_at,
            job.submitted_at,
            job.started_at,
            job.finished_at,
        )
        assert not record.kernel_ended and record.tags == ()
    assert stat.S_IMODE(history_file.stat().st_mode) == 0o600


def test_the_recording_process_runs_no_sql_its_writer_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No connection is opened in the recording process while it records (opening,
    pruning, sweeping and writing are the writer process's); only reading opens one."""
    opened: list[str] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(threading.current_thread().name)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    history.enable(tmp_path / "h.sqlite3", interval=0.05)
    try:
        writer = history._writer
        assert writer is not None
        for _ in range(20):
            pushed([JobStatus.RUNNING])
        assert history.flush()
        assert opened == []
        proc = writer._proc
        assert proc is not None and proc.poll() is None and proc.pid != os.getpid()
        assert str(tmp_path) not in " ".join(map(str, proc.args))  # not on its command line
        assert [r.status for r in history.query()] == ["RUNNING"] * 20
    finally:
        history.disable()  # marks the unfinished jobs: a write too, in the writer process
    assert opened == ["MainThread"]  # the query
    assert proc.returncode == 0  # reaped
    assert all(r.kernel_ended for r in history.query(path=tmp_path / "h.sqlite3"))


def test_batches_coalesce_changes_into_a_few_transactions(tmp_path: Path) -> None:
    history.enable(tmp_path / "h.sqlite3", interval=0.3)
    try:
        writer = history._writer
        assert writer is not None
        start = time.monotonic()
        while time.monotonic() - start < 1.0:
            pushed([JobStatus.RUNNING, JobStatus.DONE])
            time.sleep(0.001)
        history.flush()
        assert writer.batches <= 6  # 1 s at one batch per 0.3 s, plus the flush
    finally:
        history.disable()


def test_recording_keeps_jobs_unobserved_and_observers_in_order(history_file: Path) -> None:
    job = pushed([JobStatus.RUNNING])
    assert not job._trait_notifiers  # the recorder is not an observer
    seen: list[str] = []
    job.observe(lambda change: seen.append(change.new.name), "state")
    job.push(JobStatus.DONE)
    assert seen == ["DONE"]
    [record] = history.query()
    assert record.status == "DONE"


def test_an_unfinished_job_keeps_its_status_with_a_kernel_ended_mark(tmp_path: Path) -> None:
    history.enable(tmp_path / "h.sqlite3", interval=0.05)
    job = pushed([JobStatus.RUNNING])
    history.disable()
    [record] = history.query(path=tmp_path / "h.sqlite3")
    assert record.job_id == job.job_id()
    assert (record.status, record.kernel_ended) == ("RUNNING", True)
    assert record.status_text == "last seen RUNNING · kernel ended"


def test_history_off_creates_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBWIDGETS_HISTORY", "off")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path))
    assert history.enable() is None
    assert not history.enabled()
    pushed([JobStatus.RUNNING, JobStatus.DONE])
    assert history.query() == []
    assert list(tmp_path.iterdir()) == []


def test_the_file_lives_under_jupyters_data_dir_unless_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOBWIDGETS_HISTORY")
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    assert store.history_path() == tmp_path / "data" / "jobwidgets" / "history.sqlite3"
    monkeypatch.setenv("JOBWIDGETS_HISTORY", str(tmp_path / "elsewhere.db"))
    assert store.history_path() == tmp_path / "elsewhere.db"


def enable_for_warning(path: Path) -> str:
    """Enable the history at ``path``; the one warning its writer gave while opening."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history.enable(path, interval=0.05)
        history.flush()
    [warning] = [w for w in caught if issubclass(w.category, store.HistoryWarning)]
    return str(warning.message)


def test_a_corrupt_file_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database, it is garbage " * 200)
    assert "moved to" in enable_for_warning(path)
    try:
        pushed([JobStatus.DONE])
        assert [r.status for r in history.query()] == ["DONE"]
    finally:
        history.disable()
    [aside] = tmp_path.glob("history.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")


def test_a_file_of_a_newer_version_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    assert "newer than this" in enable_for_warning(path)
    try:
        pushed([JobStatus.DONE])  # jobs work
        history.flush()
    finally:
        history.disable()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_an_older_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    sqlite3.connect(path).close()  # version 0: an empty file
    conn = store.open_store(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0
    finally:
        conn.close()


def test_retention_prunes_old_and_surplus_records_at_start(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history.enable(path, interval=0.05)
    jobs = [pushed([JobStatus.DONE]) for _ in range(5)]
    history.disable()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE jobs SET updated_at = ? WHERE job_id = ?", (1.0, jobs[-1].job_id()))
    history.enable(path, interval=0.05, retention_days=90, max_jobs=3)
    history.disable()
    kept = [r.job_id for r in history.query(path=path)]
    assert kept == [job.job_id() for job in reversed(jobs[1:4])]


def test_query_filters_pages_and_orders_newest_first(history_file: Path) -> None:
    a = pushed([JobStatus.RUNNING, JobStatus.DONE], job_id="alpha-1")
    b = pushed([JobStatus.RUNNING], job_id="beta-2", backend=FakeBackend("other"))
    c = pushed([], job_id="gamma-3")
    c.push(JobStatus.ERROR, error="ValueError: 100% bad_thing")
    ids = [r.job_id for r in history.query()]
    assert ids == ["gamma-3", "beta-2", "alpha-1"]
    assert [r.job_id for r in history.query(status="ERROR")] == ["gamma-3"]
    assert [r.job_id for r in history.query(status="done,RUNNING")] == ["beta-2", "alpha-1"]
    assert [r.job_id for r in history.query(status=[JobStatus.DONE])] == ["alpha-1"]
    assert [r.job_id for r in history.query(backend="other")] == ["beta-2"]
    assert [r.job_id for r in history.query(text="100%")] == ["gamma-3"]
    assert [r.job_id for r in history.query(text="a_1")] == []  # _ is no wildcard
    assert [r.job_id for r in history.query(text="ALPHA")] == ["alpha-1"]
    assert [r.job_id for r in history.query(limit=1, offset=1)] == ["beta-2"]
    assert [r.job_id for r in history.query(text="-", limit=2, offset=1)] == ["beta-2", "alpha-1"]
    assert history.query(text="-", offset=3) == []
    assert history.query(since="1h") and history.query(until="1h") == []
    assert [r.job_id for r in history.query(since=b.created_at)] == ["gamma-3", "beta-2"]
    since = dt.datetime.fromtimestamp((a.created_at or 0) - 0.5).isoformat()
    assert len(history.query(since=since)) == 3
    assert history.query(since=dt.timedelta(days=1), limit=0) == []


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"status": "FINISHED"}, "status must be one of INITIALIZING"),
        ({"limit": -1}, "limit must be a whole number >= 0"),
        ({"offset": -5}, "offset must be"),
        ({"since": "yesterday"}, "since must be epoch seconds"),
        ({"until": "3 fortnights"}, "until must be"),
    ],
)
def test_bad_filters_are_refused_by_name(
    history_file: Path, filters: dict[str, Any], named: str
) -> None:
    for call in (history.query, history.clear):
        if call is history.clear and set(filters) & {"limit", "offset"}:
            continue
        with pytest.raises(ValueError, match=named):
            call(**filters)


def test_export_and_clear(history_file: Path, tmp_path: Path) -> None:
    pushed([JobStatus.DONE], job_id="kept-1")
    failed = pushed([], job_id="failed-2")
    failed.push(JobStatus.ERROR, error="boom, with a comma")
    assert history.export(tmp_path / "all.json") == 2
    data = json.loads((tmp_path / "all.json").read_text())
    assert [d["job_id"] for d in data] == ["failed-2", "kept-1"]
    assert data[0]["tags"] == [] and data[0]["kernel_ended"] is False
    assert history.export(tmp_path / "errors.csv", status="ERROR") == 1
    lines = (tmp_path / "errors.csv").read_text().splitlines()
    assert lines[0].startswith("id,job_id,backend,status,")
    assert "failed-2" in lines[1] and '"boom, with a comma"' in lines[1]
    with pytest.raises(ValueError, match="format must be 'csv' or 'json'"):
        history.export(tmp_path / "x.xml", format="xml")
    assert history.clear(status="ERROR") == 1
    assert [r.job_id for r in history.query()] == ["kept-1"]
    assert history.clear() == 1 and history.query() == []


def test_warnings_are_given_once(tmp_path: Path) -> None:
    """A writer that can't write warns once, however many batches fail."""
    target = tmp_path / "not-a-folder"
    target.write_text("a file where the history's folder should be")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history.enable(target / "history.sqlite3", interval=0.02)
        try:
            for _ in range(3):
                job = pushed([JobStatus.RUNNING, JobStatus.DONE])
                assert job.status() is JobStatus.DONE
                history.flush()
        finally:
            history.disable()
    mine = [w for w in caught if issubclass(w.category, store.HistoryWarning)]
    assert len(mine) == 1, [str(w.message) for w in mine]
    assert "can't be written" in str(mine[0].message)


def wait_for(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_history_file_path_env_is_used_by_enable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBWIDGETS_HISTORY", str(tmp_path / "env.sqlite3"))
    assert history.enable(interval=0.05) == tmp_path / "env.sqlite3"
    try:
        pushed([JobStatus.DONE])
        assert wait_for(lambda: os.path.exists(tmp_path / "env.sqlite3"))
        assert len(history.query()) == 1
    finally:
        history.disable()


def _child_records_nothing(queue: Any) -> None:
    from jobwidgets import _jobcore

    pushed([JobStatus.DONE])
    queue.put((history.enabled(), _jobcore._recorder is None))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_records_nothing(history_file: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_records_nothing, args=(queue,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get(timeout=10) == (False, True)
    pushed([JobStatus.DONE])
    assert len(history.query()) == 1  # the parent records as before


def test_a_record_keeps_the_last_lines_of_the_jobs_log(
    history_file: Path, local_backend: Any
) -> None:
    backend: LocalBackend = local_backend(max_workers=1)

    def chatty() -> None:
        for n in range(200):
            print(f"line {n} of the job")
        raise RuntimeError("after the talk")

    job = backend.run(chatty)
    job.wait_for_final_state(timeout=10)
    [record] = history.query()
    assert record.status == "ERROR" and record.log_tail is not None
    lines = record.log_tail.splitlines()
    assert len(lines) == recording_module.TAIL_LINES
    assert lines[-1].endswith("line 199 of the job") and "stdout" in lines[-1]
    assert history.query(text="after the talk")  # the error is searchable


class _Recorder:
    """A recorder (``_jobcore.Recorder``) that keeps what it is told."""

    def __init__(self) -> None:
        self.logged = bytearray()
        self.log = self.logged.extend
        self.new_jobs: list[Any] = []
        self.new = self.new_jobs.append
        self.changed_jobs: list[Any] = []
        self.changed = self.changed_jobs.append


def test_the_core_logs_statuses_and_queues_other_fields_once_per_batch(tmp_path: Path) -> None:
    """Status changes are logged as numbers; other fields are merged and the job queued
    once until they are taken; fields no recorder took go to the next recorder, and a
    new recorder reads what the job is from the job."""
    from jobwidgets import _jobcore
    from jobwidgets.status import LOG_ENTRY, LOGGED_STARTED, LOGGED_SUBMITTED

    recorder = _Recorder()
    previous = _jobcore.set_recorder(recorder)
    try:
        job = pushed([JobStatus.QUEUED, JobStatus.RUNNING])
        key = _jobcore.core(job).record
        assert recorder.new_jobs == [job] and key is not None
        queued, running = JobStatus.QUEUED._code, JobStatus.RUNNING._code
        assert list(LOG_ENTRY.iter_unpack(recorder.logged)) == [
            (key, queued | LOGGED_SUBMITTED, job.submitted_at),
            (key, running | LOGGED_STARTED, job.started_at),
        ]
        assert recorder.changed_jobs == []
        job.set_progress(0.25)
        job.set_progress(0.5)
        assert recorder.changed_jobs == [job]  # two changes, one call
        history.enable(tmp_path / "h.sqlite3", interval=0.05)  # replaces the recorder
        job.push(JobStatus.DONE)
        history.flush()
        [record] = history.query()
        assert record.status == "DONE" and record.progress == 1.0
        assert record.submitted_at == job.submitted_at  # read from the job
        assert record.started_at == job.started_at
        assert record.finished_at == job.finished_at
    finally:
        history.disable()
        _jobcore.set_recorder(previous)


def test_a_job_written_in_several_batches_keeps_every_field_and_survives_a_clear(
    history_file: Path,
) -> None:
    """Later batches of a job already written update only what changed; a record that
    was deleted meanwhile (``clear``) is written whole again."""
    job = pushed([JobStatus.QUEUED, JobStatus.RUNNING])
    job.set_progress(0.25)
    history.flush()
    [first] = history.query()
    assert (first.status, first.progress) == ("RUNNING", 0.25)
    job.set_progress(0.5)
    history.flush()
    assert history.query()[0].progress == 0.5
    assert history.clear() == 1
    job.push(JobStatus.DONE)
    history.flush()
    [record] = history.query()
    assert record.status == "DONE" and record.job_id == job.job_id()
    assert record.started_at == first.started_at and record.finished_at is not None
    assert history.query(text=job.job_id().upper())[0].id == record.id


def test_a_killed_writer_process_is_replaced_with_one_warning(tmp_path: Path) -> None:
    """The writer process killed: the thread warns once, reaps it, starts another and
    sends it what was not written; jobs keep running and are recorded."""
    import signal

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history.enable(tmp_path / "h.sqlite3", interval=0.05)
        try:
            writer = history._writer
            assert writer is not None
            before = pushed([JobStatus.RUNNING])
            assert history.flush()
            for round_ in range(2):
                proc = writer._proc
                assert proc is not None
                os.kill(proc.pid, signal.SIGKILL)
                assert wait_for(lambda p=proc: p.poll() is not None or p.returncode is not None)
                jobs = [pushed([JobStatus.RUNNING, JobStatus.DONE]) for _ in range(5)]
                if round_:
                    before.push(JobStatus.DONE)
                else:
                    before.set_progress(0.5)
                assert history.flush()
                assert proc.returncode is not None  # reaped: no zombie
                assert writer._proc is not None and writer._proc.pid != proc.pid
                statuses = {r.job_id: r.status for r in history.query()}
                assert all(statuses[job.job_id()] == "DONE" for job in jobs)
            assert writer.restarts == 2
            [record] = [r for r in history.query() if r.job_id == before.job_id()]
            assert record.status == "DONE" and record.started_at == before.started_at
        finally:
            history.disable()
    assert len(history.query(path=tmp_path / "h.sqlite3")) == 11
    mine = [str(w.message) for w in caught if issubclass(w.category, store.HistoryWarning)]
    assert len(mine) == 1 and "ended unexpectedly" in mine[0], mine
    assert threading.active_count() == len(
        [t for t in threading.enumerate() if t.name != "jobwidgets-history"]
    )


@pytest.mark.filterwarnings("ignore::jobwidgets.history.HistoryWarning")
def test_a_batch_the_killed_writer_process_had_not_written_is_sent_again(
    tmp_path: Path,
) -> None:
    """A batch sent to a writer process that died before writing it is not lost."""
    import signal

    history.enable(tmp_path / "h.sqlite3", interval=0.05)
    try:
        writer = history._writer
        assert writer is not None
        assert history.flush()
        proc = writer._proc
        assert proc is not None
        os.kill(proc.pid, signal.SIGSTOP)  # it reads nothing more
        jobs = [pushed([JobStatus.RUNNING, JobStatus.DONE]) for _ in range(5)]
        assert wait_for(lambda: not writer._queue.qsize() and len(writer._unacked) == 1)
        os.kill(proc.pid, signal.SIGKILL)  # the batch is in its pipe, never written
        assert history.flush()
        assert writer.restarts == 1
        assert sorted(r.job_id for r in history.query()) == sorted(j.job_id() for j in jobs)
    finally:
        history.disable()


def test_a_job_whose_id_comes_after_its_first_change_is_recorded_with_it(
    history_file: Path,
) -> None:
    """A backend that sets ``job._job_id`` in ``submit()`` after reporting QUEUED."""

    class LateId(PushJob):
        def submit(self) -> None:
            self._report(JobStatus.QUEUED)
            history.flush()  # the job is written once without its id
            self._job_id = "remote-7"

    job = LateId()
    job._job_id = None
    job.submit()
    job.push(JobStatus.RUNNING)
    history.flush()
    [record] = history.query()
    assert (record.job_id, record.status) == ("remote-7", "RUNNING")
    assert history.query(text="remote-7") == [record]  # searchable by it


def test_changes_made_by_many_threads_while_batches_are_taken_all_land(tmp_path: Path) -> None:
    """Eight threads change 2,400 jobs (statuses, progress, tags, errors; some jobs
    observed) while the writer takes a batch every 2 ms: every record ends as its job."""
    import random
    import threading

    history.enable(tmp_path / "h.sqlite3", interval=0.002)
    try:
        jobs: list[PushJob] = []
        seen: list[Any] = []

        def work(seed: int) -> None:
            rng = random.Random(seed)
            for n in range(300):
                job = PushJob()
                if n % 7 == 0:
                    job.observe(seen.append, names="state")
                jobs.append(job)
                job.submit()
                for status in (JobStatus.VALIDATING, JobStatus.RUNNING):
                    if rng.random() < 0.7:
                        job.push(status)
                    if rng.random() < 0.5:
                        job.set_progress(rng.random())
                if rng.random() < 0.3:
                    job.tags = (f"t{seed}", f"n{n}")
                end = rng.choice([JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED, None])
                if end is JobStatus.ERROR:
                    job.push(end, error=f"failed {seed}-{n}")
                elif end is not None:
                    job.push(end)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert history.flush(timeout=60)
        records = {r.job_id: r for r in history.query(limit=None)}
        assert len(records) == len(jobs) == 2400
        for job in jobs:
            record = records[job.job_id()]
            assert record.status == job.state.name, job
            assert (record.submitted_at, record.started_at, record.finished_at) == (
                job.submitted_at,
                job.started_at,
                job.finished_at,
            ), job
            assert record.progress == job.progress and record.error == job.error, job
            assert record.tags == tuple(job.tags), job
    finally:
        history.disable()
