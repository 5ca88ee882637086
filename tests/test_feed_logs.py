"""A row's log, live: the feed sends the new lines of the rows whose details are open in
some view, inside the bridge's flushes, and the whole log on request (``js/PROTOCOL.md``).

The front end here is the recording comm of ``widget_support``; the jobs are real thread
jobs and pushed jobs, the bridge is the real one with its own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import comm
import pytest

from _jobs import PushJob
from jobwidgets import JobStatus, LocalBackend, feed, panel
from jobwidgets.bridge import Bridge
from jobwidgets.registry import JobRegistry
from jobwidgets.widgets import JobTable, StatusBadge
from widget_support import RecordingComm

Make = Callable[..., LocalBackend]


class TimedComm(RecordingComm):
    """A recording comm that also notes when each message was sent."""

    def publish_msg(self, msg_type: str, data: Any = None, *args: Any, **kwargs: Any) -> None:
        super().publish_msg(msg_type, data, *args, **kwargs)
        self.sent[-1]["at"] = time.monotonic()

    def panel_messages(self) -> list[dict[str, Any]]:
        return [m["data"] for m in self.sent if m["msg_type"] == "comm_msg"]


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("timed out")


def log_updates(messages: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [u for m in messages for u in m.get("logs", []) if u["key"] == key]


def shown_tail(updates: list[dict[str, Any]]) -> list[str]:
    """The lines a row's details show after ``updates``, applied as the front end does."""
    lines: list[str] = []
    following = 0
    for update in updates:
        if update["reset"] or update["start"] != following:
            lines = []
        lines.extend(text for _time, _stream, text in update["lines"])
        lines = lines[-feed.LOG_TAIL :]
        following = update["total"]
    return lines


def most_in_one_second(times: list[float]) -> int:
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_a_job_printing_a_million_lines_sends_about_ten_messages_a_second(
    monkeypatch: pytest.MonkeyPatch, local_backend: Make
) -> None:
    monkeypatch.setattr(comm, "create_comm", TimedComm)
    bridge = Bridge(interval=0.1)
    registry = JobRegistry()
    go = threading.Event()

    def printer() -> int:
        go.wait(10)
        job = __import__("jobwidgets").current_job()
        for i in range(1_000_000):
            print(f"line {i}")
            if i % 10_000 == 0:
                job.set_progress(i / 1_000_000, f"{i}/1000000 lines")
        return 1_000_000

    backend = local_backend(1)
    job = backend.run(printer)
    registry.add(job)
    table = JobTable([job], bridge=bridge)
    badge = StatusBadge(job, bridge=bridge)
    panel_comm = TimedComm(target_name=panel.TARGET, primary=False)
    panel.connect(panel_comm, registry, bridge)
    wait_for(lambda: table.comm.custom() and panel_comm.panel_messages())
    # the details of the job's row are open in the table and in the panel
    table.comm.receive({"type": "logs", "key": "1", "open": True})
    panel_comm.handle_msg(
        {
            "content": {
                "comm_id": panel_comm.comm_id,
                "data": {"type": "logs", "key": "1", "open": True},
            }
        }
    )
    start = time.monotonic()
    go.set()
    assert job.result(timeout=120) == 1_000_000
    took = time.monotonic() - start
    time.sleep(0.5)  # the last flush
    try:
        for name, recorded, messages in (
            ("table", table.comm, table.comm.custom()),
            ("panel", panel_comm, panel_comm.panel_messages()),
        ):
            times = [m["at"] for m in recorded.sent if m["at"] >= start]
            rate = most_in_one_second(times)
            print(f"{name}: {len(times)} messages in {took:.1f} s, at most {rate} in a second")
            assert rate <= 11, f"{name}: {rate} messages in one second"
            updates = log_updates(messages, "1")
            assert len(updates) >= min(5, took * 5), updates[:3]
            assert all(len(u["lines"]) <= feed.LOG_TAIL for u in updates)
            assert updates[-1]["total"] == 1_000_000
            expected = [line.text for line in job.log_records()[-feed.LOG_TAIL :]]
            assert shown_tail(updates) == expected
            assert expected[-1] == "line 999999"
        badge_times = [m["at"] for m in badge.comm.sent if m["at"] >= start]
        assert most_in_one_second(badge_times) <= 11
    finally:
        table.close()
        badge.close()
        panel_comm.handle_close({"content": {"comm_id": panel_comm.comm_id, "data": {}}})


@pytest.fixture
def table_and_job(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(comm, "create_comm", TimedComm)
    bridge = Bridge(interval=0.01)
    job = PushJob()
    other = PushJob()
    job.push(JobStatus.RUNNING)
    table = JobTable([job, other], bridge=bridge)
    wait_for(lambda: table.comm.custom())
    yield table, job, other
    table.close()


def test_logs_go_only_to_rows_whose_details_are_open(table_and_job: Any) -> None:
    table, job, other = table_and_job
    for i in range(300):
        job._log("stdout", f"early {i}\n")
    other._log("stdout", "never shown\n")
    job.set_progress(0.5, "150/300 lines")
    time.sleep(0.3)
    sent = table.comm.custom()
    assert not any("logs" in m for m in sent)  # nobody follows a log yet
    row = wait_for(
        lambda: [
            r
            for m in table.comm.custom()
            if m["type"] == "delta"
            for r in m["upsert"]
            if r["progress_text"]
        ]
    )[-1]
    assert row["progress_text"] == "150/300 lines" and row["log_lines"] >= 0

    table.comm.receive({"type": "logs", "key": "1", "open": True})
    first = wait_for(lambda: log_updates(table.comm.custom(), "1"))[0]
    assert first["reset"] and first["total"] == 300 and first["start"] == 100
    assert [text for _t, _s, text in first["lines"]] == [f"early {i}" for i in range(100, 300)]

    job._log("stderr", "oops\n")
    job._log("stdout", "later\n")
    second = wait_for(lambda: log_updates(table.comm.custom(), "1")[1:])[0]
    assert not second["reset"] and second["start"] == 300 and second["total"] == 302
    assert second["lines"][0][1:] == ["stderr", "oops"]
    assert second["lines"][1][1:] == ["stdout", "later"]
    assert not log_updates(table.comm.custom(), "2")

    table.comm.receive({"type": "logs", "key": "1", "open": False})
    time.sleep(0.1)
    count = len(log_updates(table.comm.custom(), "1"))
    job._log("stdout", "unseen\n")
    job.push(JobStatus.DONE)
    time.sleep(0.3)
    assert len(log_updates(table.comm.custom(), "1")) == count


def test_a_reset_stops_following_until_the_front_end_asks_again(table_and_job: Any) -> None:
    table, job, _other = table_and_job
    job._log("stdout", "one\n")
    feed.logs(table.feed_id, "1", True)  # the subshell route
    wait_for(lambda: log_updates(table.comm.custom(), "1"))
    table.comm.receive({"type": "sync"})
    wait_for(lambda: table.comm.custom()[-1]["type"] == "reset")
    count = len(log_updates(table.comm.custom(), "1"))
    job._log("stdout", "two\n")
    job.push(JobStatus.DONE)
    time.sleep(0.3)
    assert len(log_updates(table.comm.custom(), "1")) == count
    table.comm.receive({"type": "logs", "key": "1", "open": True})
    again = wait_for(lambda: log_updates(table.comm.custom(), "1")[count:])[0]
    assert again["reset"] and [t for _a, _b, t in again["lines"]] == ["one", "two"]


def test_download_answers_with_the_whole_kept_log(table_and_job: Any) -> None:
    table, job, _other = table_and_job
    for i in range(500):
        job._log("stdout", f"<b>line {i}</b>\n")
    table.comm.receive({"type": "log_text", "key": "1"})
    reply = wait_for(lambda: [m for m in table.comm.custom() if m["type"] == "log_text"])[0]
    assert reply["ok"] and reply["key"] == "1" and reply["job_id"] == job.job_id()
    assert reply["text"] == job.logs() and reply["text"].count("\n") == 499
    assert feed.log_text(table.feed_id, "9") == '{"ok": true}'
    missing = wait_for(lambda: [m for m in table.comm.custom() if m["type"] == "log_text"][1:])[0]
    assert missing == {**missing, "ok": False, "key": "9", "text": ""}
