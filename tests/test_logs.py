"""What thread jobs print and log is kept per job, bounded, stamped: ``job.logs()``."""

from __future__ import annotations

import contextlib
import io
import logging
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from _jobs import PushJob
from jobwidgets import JobStatus, LocalBackend, current_job
from jobwidgets.logs import JobLog, LogLine

Make = Callable[..., LocalBackend]


def chatty(name: str, lines: int) -> str:
    for i in range(lines):
        print(f"{name} says {i}")
        time.sleep(0.001)
    print(f"{name} complains", file=sys.stderr)
    return name


def test_two_thread_jobs_printing_at_once_keep_separate_logs(local_backend: Make) -> None:
    backend = local_backend(2)
    outside = io.StringIO()
    with contextlib.redirect_stdout(outside):
        a, b = backend.run(chatty, "a", 50), backend.run(chatty, "b", 50)
        print("not a job")
        assert a.result(timeout=10) == "a" and b.result(timeout=10) == "b"
    for job, name in ((a, "a"), (b, "b")):
        records = job.log_records()
        assert [r.text for r in records] == [
            *(f"{name} says {i}" for i in range(50)),
            f"{name} complains",
        ]
        assert {r.stream for r in records} == {"stdout", "stderr"}
        assert records[-1].stream == "stderr"
        assert all(isinstance(r.time, float) for r in records)
        assert job.log_lines == 51
    assert outside.getvalue() == "not a job\n"  # nothing of the jobs', all of the rest
    text = a.logs().splitlines()
    assert text[0].endswith("stdout   a says 0") and text[-1].endswith("stderr   a complains")


def test_a_thread_that_is_not_a_job_is_not_captured(local_backend: Make) -> None:
    outside = io.StringIO()
    with contextlib.redirect_stdout(outside):
        job = local_backend(1).run(chatty, "job", 5)
        thread = threading.Thread(target=print, args=("plain thread",))
        thread.start()
        thread.join()
        job.result(timeout=10)
    assert outside.getvalue() == "plain thread\n"
    assert "plain thread" not in job.logs()


def test_echo_output_also_prints_where_it_went_before(local_backend: Make) -> None:
    outside = io.StringIO()
    with contextlib.redirect_stdout(outside):
        job = local_backend(1, echo_output=True).run(print, "both")
        job.result(timeout=10)
    assert outside.getvalue() == "both\n"
    assert [r.text for r in job.log_records()] == ["both"]


def logs_and_fails() -> None:
    logger = logging.getLogger("jobwidgets.tests.worker")
    logger.setLevel(logging.INFO)
    logger.info("loading %d files", 3)
    logger.debug("not kept: below INFO")
    print("half a line", end="")
    raise RuntimeError("boom")


def test_logging_records_and_the_end_of_a_failing_job(local_backend: Make) -> None:
    job = local_backend(1).run(logs_and_fails)
    job.wait_for_final_state(timeout=10)
    assert job.status() is JobStatus.ERROR
    assert job.error_traceback is not None and "RuntimeError: boom" in job.error_traceback
    records = job.log_records()
    assert [(r.stream, r.text) for r in records] == [
        ("INFO", "loading 3 files"),
        ("stdout", "half a line"),  # an unfinished line is kept at the end
    ]
    assert job.log_lines == 2


OUTSIDE = """
import logging, threading, time
from jobwidgets import JobStatus, LocalBackend
release = threading.Event()
with LocalBackend(1) as backend:
    job = backend.run(release.wait, 10)
    while job.state is not JobStatus.RUNNING:
        time.sleep(0.001)
    logging.getLogger("outside").warning("outside any job")
    release.set()
assert job.logs() == "", job.logs()
logging.basicConfig(format="configured: %(message)s")
logging.getLogger("outside").warning("after basicConfig")
"""


def test_logging_outside_jobs_is_unchanged_while_a_job_runs() -> None:
    """Unconfigured logging prints warnings to stderr; basicConfig() still configures."""
    done = subprocess.run(
        [sys.executable, "-c", OUTSIDE], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stderr.splitlines() == ["outside any job", "configured: after basicConfig"]


def test_the_log_is_bounded_and_says_how_much_was_cut() -> None:
    log = JobLog(max_lines=100, max_bytes=1 << 20)
    for i in range(1000):
        log.write("stdout", f"line {i}\n")
    assert log.total == 1000 and log.cut == 900
    assert [line.text for line in log.records()] == [f"line {i}" for i in range(900, 1000)]
    assert log.text().splitlines()[0] == (
        "[900 earlier lines cut: a job keeps the last lines of its log]"
    )
    small = JobLog(max_lines=10_000, max_bytes=2_000)
    small.write("stdout", "x" * 50 + "\n" * 100)
    assert small.total == 100
    assert small.size <= 2_000 and small.cut > 0


def prints_many(count: int) -> None:
    for i in range(count):
        print("a line of output", i)


def test_a_job_printing_many_lines_keeps_memory_bounded(local_backend: Make) -> None:
    backend = local_backend(1, max_log_lines=1_000, max_log_bytes=100_000)
    tracemalloc.start()
    try:
        job = backend.run(prints_many, 30_000)
        job.result(timeout=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.log_lines == 30_000
    assert len(job.log_records()) == 1_000
    assert job.log_records()[-1].text == "a line of output 29999"
    assert peak < 2_000_000, f"peak {peak} bytes while printing 30,000 lines"


def test_log_lines_changes_a_few_times_a_second_not_per_line(local_backend: Make) -> None:
    changes: list[int] = []

    def slow_printer() -> None:
        for i in range(600):
            print(i)
            time.sleep(0.001)

    backend = local_backend(1)
    job = backend.run(slow_printer)
    job.observe(lambda change: changes.append(change["new"]), "log_lines")
    job.result(timeout=30)
    assert changes[-1] == 600  # the final count comes with the final state
    assert len(changes) < 30, changes  # ~1 s of printing: about 10 updates
    assert changes == sorted(changes)


def test_progress_text_is_a_trait_beside_progress() -> None:
    job = PushJob()
    seen: list[tuple[str, Any]] = []
    job.observe(
        lambda change: seen.append((change["name"], change["new"])), ["progress", "progress_text"]
    )
    job.set_progress(0.25, "1/4 files")
    assert (job.progress, job.progress_text) == (0.25, "1/4 files")
    job.set_progress(0.5)
    assert job.progress_text is None
    job.set_progress(None, "x" * 1000)
    assert job.progress_text == "x" * 200
    with pytest.raises(TypeError, match="progress text must be a str"):
        job.set_progress(0.5, 3)  # type: ignore[arg-type]
    assert ("progress_text", "1/4 files") in seen


def test_lines_from_elsewhere_and_the_count_at_the_end() -> None:
    job = PushJob()
    job.push(JobStatus.RUNNING)
    job._log_lines([LogLine(1.0, "stdout", "from a worker")], cut=5)
    job.push(JobStatus.DONE)
    assert job.log_lines == 6
    assert job.logs().splitlines()[0].startswith("[5 earlier lines cut")


def test_current_job_is_none_outside_and_set_inside(local_backend: Make) -> None:
    assert current_job() is None
    job = local_backend(1).run(current_job)
    assert job.result(timeout=10) is job


def stamps_its_lines(gap: float) -> list[float]:
    """Print a line, wait, print two more, each after noting the time it was written."""
    written = []
    for _ in range(3):
        written.append(time.time())
        print("written at", written[-1])
        time.sleep(gap)
    return written


def test_a_line_is_stamped_with_the_time_it_was_written(local_backend: Make) -> None:
    job = local_backend(1).run(stamps_its_lines, 0.3)
    written = job.result(timeout=10)
    stamps = [line.time for line in job.log_records()]
    assert len(stamps) == 3
    for stamp, when in zip(stamps, written, strict=True):
        assert abs(stamp - when) < 0.02, (stamps, written)


def bursts(lines: int) -> list[float]:
    written = []
    for i in range(lines):
        if i % 100 == 0:
            written.append(time.time())
        print(i)
    return written


def test_lines_printed_without_pause_are_stamped_within_a_tick(local_backend: Make) -> None:
    job = local_backend(1, max_log_lines=100_000, max_log_bytes=1 << 24).run(bursts, 20_000)
    written = job.result(timeout=30)
    records = job.log_records()
    assert [line.text for line in records] == [str(i) for i in range(20_000)]
    stamps = [line.time for line in records]
    assert stamps == sorted(stamps)
    for i, when in enumerate(written):
        assert when - 0.15 < stamps[i * 100] <= when + 0.01, (i, stamps[i * 100], when)


def interleaves() -> None:
    print("out 1")
    print("err 1", file=sys.stderr)
    sys.stdout.write("out 2 begins, ")
    print("err 2", file=sys.stderr)
    print("out 2 ends")
    print("out 3")


def test_stdout_and_stderr_keep_their_order_and_names(local_backend: Make) -> None:
    job = local_backend(1).run(interleaves)
    job.result(timeout=10)
    assert [(line.stream, line.text) for line in job.log_records()] == [
        ("stdout", "out 1"),
        ("stderr", "err 1"),
        ("stderr", "err 2"),
        ("stdout", "out 2 begins, out 2 ends"),
        ("stdout", "out 3"),
    ]


def writes_as_a_stream_does() -> list[Any]:
    class Text(str):
        pass

    seen: list[Any] = [sys.stdout.write("four"), sys.stdout.write(Text("+sub\n"))]
    try:
        sys.stdout.write(b"bytes")  # type: ignore[arg-type]
    except TypeError as error:
        seen.append(str(error))
    sys.stdout.writelines(["a\n", "b\n"])
    return seen


def test_a_jobs_stdout_answers_as_a_text_stream(local_backend: Make) -> None:
    job = local_backend(1).run(writes_as_a_stream_does)
    assert job.result(timeout=10) == [4, 5, "write() argument must be str, not bytes"]
    assert [line.text for line in job.log_records()] == ["four+sub", "a", "b"]
    assert isinstance(sys.stdout, io.TextIOBase)


class _TakenWhileWriting(list):  # type: ignore[type-arg]
    """A log's ``_raw`` where a write lands while a batch is being taken."""

    once = True

    def __getitem__(self, index: Any) -> Any:
        taken = super().__getitem__(index)
        if isinstance(index, slice) and self.once:
            self.once = False
            self.append("written meanwhile\n")
        return taken


def test_a_write_that_lands_while_a_batch_is_taken_is_kept_and_marked() -> None:
    marks: list[int] = []
    log = JobLog(notify=lambda: marks.append(1))
    log._raw = _TakenWhileWriting()
    log._raw.extend([("stdout", 1.0), "first\n"])
    log.settle()
    assert list(log._texts) == ["first"]
    assert log._raw == ["written meanwhile\n"]
    assert log.marked and marks == [1]  # the ticker will come back for the rest
    assert [line.text for line in log.records()] == ["first", "written meanwhile"]


def test_fewer_lines_kept_when_the_bound_is_lowered() -> None:
    log = JobLog(max_lines=10)
    for i in range(8):
        log.write("stdout", f"{i}\n")
    log.max_lines = 5
    assert [line.text for line in log.records()] == ["3", "4", "5", "6", "7"]
    assert (log.cut, log.total) == (3, 8)
    assert log.size == sum(len(line.text) + 64 for line in log.records())
    log.write("stdout", "8\n")
    assert [line.text for line in log.records()] == ["4", "5", "6", "7", "8"]
