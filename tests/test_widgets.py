"""The widgets at the message level: what the kernel sends, and what it does with clicks."""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from _jobs import PushJob, SettableJob
from _legacy import Backend, LateIdJob, namespace_job, own_status_job
from jobwidgets import JobStatus, LocalBackend, registry
from jobwidgets.bridge import Bridge
from jobwidgets.registry import JobRegistry
from jobwidgets.rows import html_snapshot
from jobwidgets.text import text_line
from jobwidgets.widgets import JobMonitor, JobTable, StatusBadge, _route, job_monitor
from widget_support import ManualLoop, RecordingComm, install_recording_comm

MARKUP = '<img src=x onerror="alert(1)">'


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    install_recording_comm(monkeypatch)


@pytest.fixture
def loop() -> ManualLoop:
    return ManualLoop()


@pytest.fixture
def bridge(loop: ManualLoop) -> Bridge:
    return Bridge(loop, clock=loop.clock, interval=0.1)


@pytest.fixture
def table(bridge: Bridge, loop: ManualLoop) -> Iterator[JobTable]:
    made = JobTable(bridge=bridge)
    loop.run_due()  # its first reset
    yield made
    made.close()


def custom(widget: Any) -> list[dict[str, Any]]:
    comm: RecordingComm = widget.comm
    return comm.custom()


def test_a_new_table_sends_its_rows_at_the_first_flush(bridge: Bridge, loop: ManualLoop) -> None:
    jobs = [PushJob(), PushJob()]
    table = JobTable(jobs, bridge=bridge)
    assert custom(table) == []  # nothing from the constructing thread
    loop.run_due()
    (first,) = custom(table)
    assert first["type"] == "reset"
    assert [row["job_id"] for row in first["rows"]] == [job.job_id() for job in jobs]
    assert first["model_id"] == table.feed_id
    table.close()


def test_the_feed_id_is_in_the_state_the_comm_opens_with(bridge: Bridge) -> None:
    table = JobTable(bridge=bridge)
    opened = table.comm.sent[0] if table.comm.sent else None
    state = table.get_state()
    assert len(table.feed_id) == 32 and state["feed_id"] == table.feed_id
    assert opened is None or opened["msg_type"] != "comm_msg"
    assert _route.sync(table.feed_id) == '{"ok": true}'
    table.close()


def test_the_table_state_has_no_clock_the_rows_messages_carry_it(bridge: Bridge) -> None:
    table = JobTable(bridge=bridge)
    # the view takes the kernel's clock from each message's kernel_time, not a trait
    assert "kernel_time" not in table.get_state()
    assert not table.has_trait("kernel_time")
    table.close()


def test_changes_arrive_as_row_deltas_on_the_loop(table: JobTable, loop: ManualLoop) -> None:
    jobs = [PushJob() for _ in range(3)]
    for job in jobs:
        table.add(job)
    loop.advance(1)
    worker = threading.Thread(target=jobs[1].push, args=(JobStatus.RUNNING,))
    worker.start()
    worker.join()
    before = len(custom(table))
    loop.advance(1)
    delta = custom(table)[before:]
    assert len(delta) == 1
    assert delta[0]["type"] == "delta"
    assert [(row["job_id"], row["status"]) for row in delta[0]["upsert"]] == [
        (jobs[1].job_id(), "RUNNING")
    ]
    assert {m["thread"] for m in table.comm.sent} == {threading.get_ident()}


def test_remove_and_clear_finished_send_removals(table: JobTable, loop: ManualLoop) -> None:
    done, running = PushJob(), PushJob()
    for job in (done, running):
        table.add(job)
    running.push(JobStatus.RUNNING)
    done.push(JobStatus.DONE)
    loop.advance(1)
    assert table.clear_finished() == [done]
    loop.advance(1)
    assert custom(table)[-1]["remove"] == ["1"]
    assert table.jobs == [running]
    table.remove(running)
    loop.advance(1)
    assert custom(table)[-1]["remove"] == ["2"]
    assert len(table) == 0


def test_sync_from_the_front_end_answers_with_a_reset(table: JobTable, loop: ManualLoop) -> None:
    table.add(PushJob())
    loop.advance(1)
    table.comm.receive({"type": "sync"})
    reset = custom(table)[-1]
    assert reset["type"] == "delta"  # the answer goes out from the bridge's thread
    loop.advance(1)
    reset = custom(table)[-1]
    assert reset["type"] == "reset" and len(reset["rows"]) == 1


def test_a_cancel_click_cancels_the_job(table: JobTable, loop: ManualLoop) -> None:
    job = PushJob()
    job.submit()
    table.add(job)
    table.comm.receive({"type": "cancel", "keys": ["1"]})
    assert job.cancelled()
    sent = len(custom(table))
    loop.advance(1)
    result = custom(table)[sent]
    assert result == {
        "type": "cancel_result",
        "key": "1",
        "job_id": job.job_id(),
        "ok": True,
        "message": "",
        "kernel_time": result["kernel_time"],
    }
    loop.advance(1)
    assert custom(table)[-1]["upsert"][0]["status"] == "CANCELLED"


def test_a_refused_cancel_says_why(table: JobTable, loop: ManualLoop) -> None:
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(10)

    with LocalBackend(max_workers=1) as backend:
        job = backend.run(block)
        started.wait(10)
        table.add(job)
        table.comm.receive({"type": "cancel", "keys": ["1"]})
        loop.advance(1)
        result = custom(table)[-2]
        assert result["ok"] is False
        assert "did not accept" in result["message"] and "RUNNING" in result["message"]
        row = custom(table)[-1]["upsert"][0]
        assert row["cancel_state"] == "failed" and "RUNNING" in row["cancel_message"]
        release.set()


def test_a_cancel_that_raises_is_reported_not_raised(table: JobTable, loop: ManualLoop) -> None:
    class Raising(PushJob):
        def cancel(self) -> bool:
            raise ConnectionError("service unreachable")

    job = Raising()
    job.submit()
    table.add(job)
    table.comm.receive({"type": "cancel", "keys": ["1"]})
    loop.advance(1)
    result = custom(table)[-2]
    assert result["ok"] is False
    assert result["message"] == "cancel() raised ConnectionError: service unreachable"


def test_cancel_all_and_unknown_keys(table: JobTable, loop: ManualLoop) -> None:
    jobs = [PushJob() for _ in range(3)]
    for job in jobs:
        job.submit()
        table.add(job)
    jobs[0].push(JobStatus.DONE)
    table.comm.receive({"type": "cancel_all"})
    assert [job.state for job in jobs] == [JobStatus.DONE, JobStatus.CANCELLED, JobStatus.CANCELLED]

    def answer(keys: list[str]) -> dict[str, Any]:
        loop.advance(1)
        table.comm.receive({"type": "cancel", "keys": keys})
        loop.advance(1)
        (result,) = [m for m in custom(table) if m["type"] == "cancel_result"][-1:]
        return result

    assert answer(["99"])["message"] == "no such job"
    assert answer(["2"])["ok"] is True  # cancelled already: accepted
    assert answer(["1"])["message"] == "the job is already DONE"  # refused, with the reason


def test_the_subshell_route_cancels_without_touching_the_widget(
    table: JobTable, loop: ManualLoop
) -> None:
    job = PushJob()
    job.submit()
    table.add(job)
    loop.advance(1)
    sent_before = len(table.comm.sent)
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(_route.cancel(table.feed_id, ["1"])))
    worker.start()
    worker.join()
    assert job.cancelled()
    assert '"ok": true' in outcome[0]
    assert len(table.comm.sent) == sent_before  # nothing sent from the subshell thread
    loop.advance(1)
    assert custom(table)[-1]["upsert"][0]["status"] == "CANCELLED"
    assert '"ok": false' in _route.cancel("no-such-table", ["1"])


def test_the_subshell_route_can_ask_for_a_reset(table: JobTable, loop: ManualLoop) -> None:
    table.add(PushJob())
    loop.advance(1)
    assert '"ok": true' in _route.sync(table.feed_id)
    loop.advance(1)
    assert custom(table)[-1]["type"] == "reset"


def test_a_table_follows_a_registry_and_close_releases_everything(
    bridge: Bridge, loop: ManualLoop
) -> None:
    jobs_registry = JobRegistry()
    old = PushJob()
    jobs_registry.add(old)
    table = JobTable(registry=jobs_registry, include_existing=False, bridge=bridge)
    assert jobs_registry.subscriber_count == 1
    new = PushJob()
    jobs_registry.add(new)
    loop.advance(1)
    assert table.jobs == [new]
    table.close()
    assert jobs_registry.subscriber_count == 0
    assert bridge.watched == 0


def test_untrusted_text_stays_text(table: JobTable, loop: ManualLoop) -> None:
    job = PushJob(job_id=MARKUP)
    job.submit()
    job.push(JobStatus.ERROR, error=MARKUP)
    table.add(job)
    loop.advance(1)
    row = custom(table)[-1]["upsert"][0]
    assert row["job_id"] == MARKUP and row["error"] == MARKUP  # data, rendered as text by the view
    snapshot = html_snapshot(job)
    assert "<img" not in snapshot and html.escape(MARKUP) in snapshot


def test_the_badge_follows_its_job(bridge: Bridge, loop: ManualLoop) -> None:
    job = PushJob()
    badge = StatusBadge(job, bridge=bridge)
    assert badge.status == "INITIALIZING" and badge.job_id == job.job_id()
    job.push(JobStatus.RUNNING)
    loop.advance(1)
    assert badge.status == "RUNNING" and badge.started_at == job.started_at
    job.push(JobStatus.ERROR, error="boom")
    loop.advance(1)
    assert badge.status == "ERROR" and badge.error == "boom"
    data, _ = badge._repr_mimebundle_()
    assert data["text/plain"].startswith(f"✖ ERROR {job.job_id()}")
    assert "boom" in data["text/html"]
    badge.close()
    assert bridge.watched == 0


def test_the_badge_rejects_what_is_not_a_job() -> None:
    with pytest.raises(TypeError, match="StatusBadge needs a jobwidgets job, got str"):
        StatusBadge("job-1")


def test_the_monitor_is_a_wait_callback(bridge: Bridge, loop: ManualLoop) -> None:
    monitor = JobMonitor(bridge=bridge)
    with LocalBackend(max_workers=1) as backend:
        job = backend.run(sum, range(1000))
        job.wait_for_final_state(callback=monitor)
    assert monitor.jobs == [job]  # called with the final status: it asked for it
    assert monitor.compact
    loop.advance(1)  # the bridge's thread, not the callback, sends the rows
    statuses = [
        row["status"] for m in custom(monitor) for row in m.get("upsert", m.get("rows", []))
    ]
    assert statuses[-1] == "DONE"
    monitor.close()


def test_job_monitor_rewrites_one_line_on_a_stream() -> None:
    stream = io.StringIO()
    job = SettableJob(JobStatus.QUEUED)
    states = iter([JobStatus.RUNNING, JobStatus.DONE])

    def advance(*_: Any) -> None:
        job.value = next(states, JobStatus.DONE)

    job.observe(lambda change: None, "state")
    original = job.status
    job.status = lambda: (advance(), original())[1]  # type: ignore[method-assign]
    job_monitor(job, interval=0.01, output=stream)
    text = stream.getvalue()
    assert text.count("\r") >= 2 and text.endswith("\n")
    assert "DONE" in text.split("\r")[-1]


def test_text_line_is_readable() -> None:
    job = PushJob(job_id="abc")
    job.push(JobStatus.RUNNING)
    assert text_line(job, now=job.started_at + 2.5) == "▶ RUNNING abc [fake-backend] running 2.5s"


def test_ipython_rich_display_and_job_watcher() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from jobwidgets import ipython

    shell = InteractiveShell.instance()
    ipython.load_ipython_extension(shell)
    job = PushJob(job_id="rich-1")
    data, _ = shell.display_formatter.format(job)
    assert data["text/plain"].startswith("… INITIALIZING rich-1")
    assert "rich-1" in data["text/html"]
    watcher = shell.run_line_magic("job_watcher", "")
    assert isinstance(watcher, JobTable)
    created = PushJob()
    assert watcher.jobs == [created]  # only jobs created from then on
    shell.run_line_magic("job_watcher", "off")
    assert ipython._watcher is None
    PushJob()  # created after "off": not added
    assert watcher.jobs == [created]  # the table stays, with what it showed
    watcher.close()
    with pytest.raises(ValueError, match="takes no argument or 'off'"):
        shell.run_line_magic("job_watcher", "on")
    assert registry.default_registry.subscriber_count == 0


# ------------------------------------------------------- jobs written for the legacy class
LEGACY_KINDS: dict[str, Callable[[], Any]] = {
    "late-id": lambda: LateIdJob(Backend()),
    "own-status": own_status_job,
    "namespace": namespace_job,
}


def updates(widget: Any) -> list[dict[str, Any]]:
    """The state of every update message (and the opening one) the widget sent."""
    return [
        m["data"]["state"]
        for m in widget.comm.sent
        if isinstance(m["data"], dict) and "state" in m["data"]
    ]


def move(job: Any, status: JobStatus) -> None:
    """The remote service moves on, and a query finds it."""
    job.remote = status
    job.status()


@pytest.mark.parametrize("kind", LEGACY_KINDS)
def test_the_badge_follows_a_legacy_job(kind: str, bridge: Bridge, loop: ManualLoop) -> None:
    job = LEGACY_KINDS[kind]()
    badge = StatusBadge(job, bridge=bridge)
    early_id = job.job_id()
    assert badge.job_id == early_id and badge.status == "INITIALIZING"
    sent = [state["row"]["job_id"] for state in updates(badge) if "row" in state]
    assert sent[-1] == early_id  # None for the late id: the front end says "(no id yet)"
    if early_id is None:
        assert "(no id yet)" in badge._repr_mimebundle_()[0]["text/plain"]
    job.submit()
    move(job, JobStatus.RUNNING)
    loop.advance(1)
    assert badge.status == "RUNNING" and badge.job_id == job.job_id() is not None
    assert updates(badge)[-1]["row"]["status"] == "RUNNING"
    move(job, JobStatus.DONE)
    loop.advance(1)
    assert badge.status == "DONE" and badge.finished_at is not None
    data, _ = badge._repr_mimebundle_()
    assert data["text/plain"].startswith(f"✔ DONE {job.job_id()} [legacy-backend]")
    badge.close()


@pytest.mark.parametrize("kind", LEGACY_KINDS)
def test_table_rows_follow_a_legacy_job(kind: str, table: JobTable, loop: ManualLoop) -> None:
    job = LEGACY_KINDS[kind]()
    table.add(job)
    loop.advance(1)
    first = custom(table)[-1]["upsert"][0]
    assert first["job_id"] == job.job_id() and first["status"] == "INITIALIZING"
    job.submit()
    move(job, JobStatus.RUNNING)
    loop.advance(1)
    row = custom(table)[-1]["upsert"][0]
    assert row["key"] == first["key"]
    assert isinstance(row["job_id"], str) and row["job_id"] == job.job_id()
    assert row["status"] == "RUNNING"
    move(job, JobStatus.DONE)
    loop.advance(1)
    assert custom(table)[-1]["upsert"][0]["status"] == "DONE"
    table.comm.receive({"type": "sync"})
    loop.advance(1)
    assert custom(table)[-1]["rows"][0]["job_id"] == job.job_id()


def test_a_row_without_an_id_sends_null(table: JobTable, loop: ManualLoop) -> None:
    job = LateIdJob(Backend())
    table.add(job)
    table.comm.receive({"type": "sync"})
    loop.advance(1)
    assert custom(table)[-1]["rows"][0]["job_id"] is None


@pytest.mark.parametrize("kind", LEGACY_KINDS)
def test_the_monitor_shows_a_legacy_job_to_its_end(
    kind: str, bridge: Bridge, loop: ManualLoop
) -> None:
    job = LEGACY_KINDS[kind]()
    job.submit()
    monitor = JobMonitor(bridge=bridge)
    steps = iter([JobStatus.RUNNING, JobStatus.DONE])

    def service() -> None:
        job.remote = next(steps, JobStatus.DONE)

    job.observe(lambda _change: service(), "state")
    job.wait_for_final_state(timeout=10, wait=0, callback=monitor)
    assert monitor.jobs == [job]
    loop.advance(1)
    rows = [row for m in custom(monitor) for row in m.get("upsert", m.get("rows", []))]
    assert rows[-1]["status"] == "DONE" and rows[-1]["job_id"] == job.job_id()
    monitor.close()


@pytest.mark.parametrize("kind", LEGACY_KINDS)
def test_the_monitor_shows_a_legacy_job_that_is_already_final(
    kind: str, bridge: Bridge, loop: ManualLoop
) -> None:
    job = LEGACY_KINDS[kind]()
    job.submit()
    move(job, JobStatus.CANCELLED)
    plain: list[Any] = []
    job.wait_for_final_state(callback=lambda *args: plain.append(args))
    assert plain == []  # a plain function: exactly the legacy behaviour
    monitor = JobMonitor(bridge=bridge)
    job.wait_for_final_state(callback=monitor)
    assert monitor.jobs == [job]  # the monitor asked for the final status, and got it
    loop.advance(1)
    rows = [row for m in custom(monitor) for row in m.get("upsert", m.get("rows", []))]
    assert rows[-1]["status"] == "CANCELLED"
    monitor.close()


def test_job_monitor_in_a_kernel_shows_a_live_badge(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    from jobwidgets import ipython, monitor

    shown: list[Any] = []
    monkeypatch.setattr(ipython, "_shell", lambda: SimpleNamespace(kernel=object()))
    monkeypatch.setattr(monitor, "notebook_view", ipython._show_badge)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    job = SettableJob(JobStatus.DONE)
    job_monitor(job)
    assert len(shown) == 1 and isinstance(shown[0], StatusBadge) and shown[0].job is job
    stream = io.StringIO()
    job_monitor(job, output=stream)  # an output given: the text line, even in a kernel
    assert len(shown) == 1 and "DONE" in stream.getvalue()
    job_monitor(job, quiet=True)
    assert len(shown) == 1
    shown[0].close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"jobs": [1, 2]}, "jobs must hold jobwidgets jobs, got int at index 0"),
        ({"jobs": [PushJob(), 1]}, "jobs must hold jobwidgets jobs, got int at index 1"),
        ({"jobs": 5}, "jobs must be an iterable of jobwidgets jobs, got int"),
        ({"registry": object()}, "registry must be a jobwidgets JobRegistry, got object"),
    ],
)
def test_a_table_with_bad_arguments_registers_and_opens_nothing(
    bridge: Bridge, kwargs: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import comm

    from jobwidgets import feed

    opened: list[RecordingComm] = []

    def create_comm(*args: Any, **kw: Any) -> RecordingComm:
        opened.append(RecordingComm(*args, **kw))
        return opened[-1]

    monkeypatch.setattr(comm, "create_comm", create_comm)
    feeds = len(feed.feeds)
    with pytest.raises(TypeError, match=message):
        JobTable(bridge=bridge, **kwargs)
    assert bridge.watched == 0
    assert len(feed.feeds) == feeds
    assert opened == []
