"""The JupyterLab panel's kernel side at the message level: a recording comm, a hand-driven
loop, and the registry."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from _jobs import PushJob
from jobwidgets import JobStatus, panel
from jobwidgets import feed as _route
from jobwidgets.bridge import Bridge
from jobwidgets.registry import JobRegistry
from widget_support import ManualLoop, RecordingComm


class PanelComm(RecordingComm):
    """The comm a panel opens: its data is the message itself (no widget wrapper)."""

    def messages(self) -> list[dict[str, Any]]:
        return [m["data"] for m in self.sent if m["msg_type"] == "comm_msg"]

    def from_front_end(self, content: Any) -> None:
        self.handle_msg({"content": {"comm_id": self.comm_id, "data": content}})


@pytest.fixture
def loop() -> ManualLoop:
    return ManualLoop()


@pytest.fixture
def bridge(loop: ManualLoop) -> Bridge:
    return Bridge(loop, clock=loop.clock, interval=0.1)


@pytest.fixture
def jobs() -> JobRegistry:
    return JobRegistry()


@pytest.fixture
def comm() -> PanelComm:
    return PanelComm(target_name=panel.TARGET, primary=False)


@pytest.fixture
def feed(comm: PanelComm, jobs: JobRegistry, bridge: Bridge) -> Iterator[Any]:
    made = panel.connect(comm, jobs, bridge)
    yield made
    made.close()


def on_thread(fn: Any, *args: Any) -> Any:
    """Run ``fn`` on another thread (as a kernel subshell would), return its result."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(fn(*args)))
    worker.start()
    worker.join()
    return out[0]


def test_a_panel_lists_every_job_of_the_kernel_new_ones_too(
    comm: PanelComm, jobs: JobRegistry, bridge: Bridge, loop: ManualLoop
) -> None:
    old = PushJob()
    jobs.add(old)
    feed = panel.connect(comm, jobs, bridge)
    assert comm.messages() == []  # nothing from the comm_open handler's thread
    loop.advance(1)
    reset = comm.messages()[0]
    assert reset["type"] == "reset" and reset["protocol"] == panel.PROTOCOL
    assert reset["model_id"] == comm.comm_id
    assert [row["job_id"] for row in reset["rows"]] == [old.job_id()]
    new = PushJob()
    jobs.add(new)
    new.push(JobStatus.RUNNING)
    loop.advance(1)
    delta = comm.messages()[-1]
    assert delta["type"] == "delta"
    assert [(row["job_id"], row["status"]) for row in delta["upsert"]] == [
        (new.job_id(), "RUNNING")
    ]
    assert feed in panel.open_feeds()
    feed.close()
    assert feed not in panel.open_feeds()


def test_changes_are_coalesced_into_row_deltas(
    feed: Any, jobs: JobRegistry, comm: PanelComm, loop: ManualLoop
) -> None:
    made = [PushJob() for _ in range(100)]
    for job in made:
        jobs.add(job)
    loop.advance(1)
    before = len(comm.messages())
    for job in made:
        job.push(JobStatus.RUNNING)
        job.push(JobStatus.DONE)
    loop.advance(1)
    sent = comm.messages()[before:]
    assert len(sent) == 1
    assert {row["status"] for row in sent[0]["upsert"]} == {"DONE"}
    assert len(sent[0]["upsert"]) == 100


def test_everything_is_sent_from_the_loop_even_for_a_subshell_request(
    feed: Any, jobs: JobRegistry, comm: PanelComm, loop: ManualLoop
) -> None:
    job = PushJob()
    job.submit()
    jobs.add(job)
    loop.advance(1)
    before = len(comm.sent)
    on_thread(comm.from_front_end, {"type": "sync"})
    on_thread(comm.from_front_end, {"type": "cancel", "keys": ["1"]})
    assert job.cancelled()
    assert len(comm.sent) == before  # nothing sent from the other thread
    loop.advance(1)
    kinds = [m["type"] for m in comm.messages()[-2:]]
    assert kinds == ["cancel_result", "reset"]
    assert comm.messages()[-2]["ok"] is True
    assert {m["thread"] for m in comm.sent} == {threading.get_ident()}


def test_a_cancel_click_on_an_idle_kernel(
    feed: Any, jobs: JobRegistry, comm: PanelComm, loop: ManualLoop
) -> None:
    job = PushJob()
    job.submit()
    jobs.add(job)
    loop.advance(1)
    comm.from_front_end({"type": "cancel", "keys": ["1"]})
    loop.advance(1)
    result, update = comm.messages()[-2:]
    assert result["type"] == "cancel_result" and result["ok"] is True
    assert result["job_id"] == job.job_id()
    assert update["upsert"][0]["status"] == "CANCELLED"

    def last_result() -> dict[str, Any]:
        loop.advance(1)
        return [m for m in comm.messages() if m["type"] == "cancel_result"][-1]

    comm.from_front_end({"type": "cancel", "keys": ["1"]})  # again, as the subshell route does
    assert last_result()["ok"] is True
    comm.from_front_end({"type": "cancel", "keys": ["42"]})
    assert last_result()["message"] == "no such job"


def test_the_subshell_route_finds_a_panel(
    feed: Any, jobs: JobRegistry, comm: PanelComm, loop: ManualLoop
) -> None:
    job = PushJob()
    job.submit()
    jobs.add(job)
    outcome = on_thread(_route.cancel, comm.comm_id, ["1"])
    assert '"ok": true' in outcome and job.cancelled()
    assert '"ok": true' in _route.sync(comm.comm_id)
    loop.advance(1)
    assert comm.messages()[-1]["type"] == "reset"


def test_cancel_all_and_clear_finished(
    feed: Any, jobs: JobRegistry, comm: PanelComm, loop: ManualLoop
) -> None:
    made = [PushJob() for _ in range(3)]
    for job in made:
        job.submit()
        jobs.add(job)
    made[0].push(JobStatus.DONE)
    comm.from_front_end({"type": "cancel_all"})
    assert [job.state for job in made] == [JobStatus.DONE, JobStatus.CANCELLED, JobStatus.CANCELLED]
    loop.advance(1)
    comm.from_front_end({"type": "clear_finished"})
    loop.advance(1)
    assert comm.messages()[-1]["remove"] == ["1", "2", "3"]
    assert len(feed) == 0


@pytest.mark.parametrize("junk", [None, "sync", {"type": "explode"}, {"type": "cancel", "keys": 3}])
def test_junk_from_the_front_end_is_ignored(
    feed: Any, comm: PanelComm, loop: ManualLoop, junk: Any
) -> None:
    loop.advance(1)
    before = len(comm.sent)
    comm.from_front_end(junk)
    loop.advance(1)
    assert len(comm.sent) == before


def test_closing_the_comm_releases_everything(
    comm: PanelComm, jobs: JobRegistry, bridge: Bridge, loop: ManualLoop
) -> None:
    job = PushJob()
    jobs.add(job)
    feed = panel.connect(comm, jobs, bridge)
    assert jobs.subscriber_count == 1 and bridge.watched == 1
    comm.handle_close({"content": {"comm_id": comm.comm_id, "data": {}}})
    assert jobs.subscriber_count == 0 and bridge.watched == 0
    assert feed not in panel.open_feeds()
    before = len(comm.sent)
    job.push(JobStatus.RUNNING)
    loop.advance(1)
    assert len(comm.sent) == before


def test_bad_arguments_say_what_was_wrong(comm: PanelComm, bridge: Bridge) -> None:
    with pytest.raises(TypeError, match="registry must be a jobwidgets JobRegistry, got list"):
        panel.connect(comm, [], bridge)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="the panel needs a comm"):
        panel.connect("comm-1", None, bridge)


class _FakeManager:
    def __init__(self) -> None:
        self.targets: dict[str, Any] = {}

    def register_target(self, name: str, fn: Any) -> None:
        self.targets[name] = fn

    def register_comm(self, comm: Any) -> None:
        pass

    def unregister_comm(self, comm: Any) -> None:
        pass


class _Kernel:
    """A kernel running a request from JupyterLab, whose execute requests carry a cellId."""

    def __init__(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata

    def get_parent(self, channel: str = "shell") -> dict[str, Any]:
        return {"metadata": self.metadata}


class _Shell:
    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        self.kernel = _Kernel({"cellId": "cell-1"} if metadata is None else metadata)


def test_register_adds_the_target_once_and_announces_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import comm as comm_module

    manager = _FakeManager()
    announced: list[PanelComm] = []

    def create_comm(**kwargs: Any) -> PanelComm:
        made = PanelComm(**kwargs)
        announced.append(made)
        return made

    monkeypatch.setattr(comm_module, "get_comm_manager", lambda: manager)
    monkeypatch.setattr(comm_module, "create_comm", create_comm)
    monkeypatch.setattr(panel, "_registered", None)
    assert panel.register(None) is False
    assert panel.register(object()) is False  # a terminal IPython: no kernel
    assert panel.register(_Shell()) is True
    assert set(manager.targets) == {panel.TARGET}
    assert [c.target_name for c in announced] == [panel.ANNOUNCE_TARGET]
    assert panel.register(_Shell()) is True  # once per kernel
    assert len(announced) == 1


def test_register_announces_nothing_to_a_headless_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    import comm as comm_module

    manager = _FakeManager()
    announced: list[PanelComm] = []
    monkeypatch.setattr(comm_module, "get_comm_manager", lambda: manager)
    monkeypatch.setattr(comm_module, "create_comm", lambda **kw: announced.append(PanelComm(**kw)))
    monkeypatch.setattr(panel, "_registered", None)
    # nbclient (nbconvert, papermill, Voila) sends execute requests without a cellId
    assert panel.register(_Shell(metadata={})) is True
    assert set(manager.targets) == {panel.TARGET}  # a panel that connects is served
    assert announced == []


def test_importing_the_panel_module_loads_no_widget_package() -> None:
    code = (
        "import sys, jobwidgets.panel\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'anywidget')]\n"
        "assert not bad, bad\n"
        "assert jobwidgets.panel.register() is False\n"
        "print('clean')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "clean"


def test_a_feed_that_cannot_start_closes_the_comm_with_the_reason(
    comm: PanelComm, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_comm: Any) -> None:
        raise RuntimeError("no <b>bridge</b>")

    import comm as comm_module

    monkeypatch.setattr(panel, "connect", broken)
    comm_module.get_comm_manager().register_comm(comm)  # as the kernel does before the target
    panel._on_comm_open(comm, {})
    closes = [m["data"] for m in comm.sent if m["msg_type"] == "comm_close"]
    assert closes == [{"type": "error", "message": "RuntimeError: no <b>bridge</b>"}]
    assert "could not list" in caplog.text
