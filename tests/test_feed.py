"""The row feed under load: front-end messages on many threads while the bridge's own
thread flushes, for a JobTable, a StatusBadge and a panel feed at once.

The rule under test (``bridge.py``): every message to the front end is sent from the
bridge's thread, so the page sees the views' states in the order they were built. The
check replays what each view sent, as the front end applies it, and asserts that no
status ever went backwards and that the final rows equal the kernel's jobs.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from _jobs import PushJob
from jobwidgets import JobStatus, panel
from jobwidgets.bridge import Bridge
from jobwidgets.registry import JobRegistry
from jobwidgets.widgets import JobTable, StatusBadge, _route
from widget_support import RecordingComm, install_recording_comm

RANK = {
    "INITIALIZING": 0,
    "QUEUED": 1,
    "VALIDATING": 2,
    "RUNNING": 3,
    "DONE": 4,
    "CANCELLED": 4,
    "ERROR": 4,
}
PATH = (JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING, JobStatus.DONE)


class PanelComm(RecordingComm):
    def messages(self) -> list[dict[str, Any]]:
        return [m["data"] for m in self.sent if m["msg_type"] == "comm_msg"]

    def from_front_end(self, content: Any) -> None:
        self.handle_msg({"content": {"comm_id": self.comm_id, "data": content}})


def replay(messages: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """Apply ``reset``/``delta`` messages as the front end does; return the final
    status per job id and every step where a row's status went backwards."""
    rows: dict[str, tuple[str, str]] = {}
    backwards: list[str] = []

    def upsert(row: dict[str, Any]) -> None:
        before = rows.get(row["key"])
        if before is not None and RANK[row["status"]] < RANK[before[1]]:
            backwards.append(f"row {row['key']}: {before[1]} -> {row['status']}")
        rows[row["key"]] = (row["job_id"], row["status"])

    for message in messages:
        if message["type"] == "reset":
            for row in message["rows"]:
                upsert(row)
            keys = {row["key"] for row in message["rows"]}
            for key in set(rows) - keys:
                del rows[key]
        elif message["type"] == "delta":
            for row in message["upsert"]:
                upsert(row)
            for key in message["remove"]:
                rows.pop(key, None)
    return dict(rows.values()), backwards


def test_front_end_messages_on_many_threads_never_send_a_view_backwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_recording_comm(monkeypatch)
    bridge = Bridge(interval=0.001)
    registry = JobRegistry()
    jobs = [PushJob() for _ in range(300)]
    for job in jobs:
        registry.add(job)
    table = JobTable(jobs, bridge=bridge)
    badges = [StatusBadge(job, bridge=bridge) for job in jobs[:5]]
    panel_comm = PanelComm(target_name=panel.TARGET, primary=False)
    feed = panel.connect(panel_comm, registry, bridge)
    table_comm: RecordingComm = table.comm
    stop = threading.Event()
    handled = [0]

    def front_end(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            key = str(rng.randrange(1, len(jobs) + 1))
            kind = rng.random()
            if kind < 0.05:
                message: dict[str, Any] = {"type": "sync"}
            elif kind < 0.08:
                message = {"type": "cancel", "keys": [key]}
            else:  # a cancel of nothing: handled, answered with nothing
                message = {"type": "cancel", "keys": []}
            target = rng.random()
            if target < 0.4:
                table_comm.receive(message)
            elif target < 0.8:
                panel_comm.from_front_end(message)
            elif message["type"] == "cancel" and message["keys"]:
                _route.cancel(table.feed_id, message["keys"])
            else:
                _route.sync(feed._feed_id)
            handled[0] += 1
            time.sleep(0.0002)

    def worker(part: list[PushJob], seed: int) -> None:
        rng = random.Random(seed)
        for status in PATH:
            for job in part:
                job.push(status)
                time.sleep(rng.uniform(0, 0.004))

    senders = [threading.Thread(target=front_end, args=(seed,)) for seed in range(4)]
    workers = [threading.Thread(target=worker, args=(jobs[i::3], i)) for i in range(3)]
    for thread in senders + workers:
        thread.start()
    for thread in workers:
        thread.join()
    time.sleep(0.2)
    stop.set()
    for thread in senders:
        thread.join()
    # one last round from the front end, then let the bridge send what is left
    table_comm.receive({"type": "sync"})
    panel_comm.from_front_end({"type": "sync"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (bridge._dirty or bridge._poked or bridge._scheduled):
        time.sleep(0.01)
    time.sleep(0.1)

    truth = {job.job_id(): job.state.name for job in jobs}
    # enough interleaving to mean something, also on a loaded machine, where the bridge
    # gathers more changes into each flush (so fewer flushes and deltas)
    assert handled[0] > 300
    assert bridge.flushes > 50
    for name, messages in (("table", table_comm.custom()), ("panel", panel_comm.messages())):
        deltas = sum(1 for m in messages if m["type"] == "delta")
        assert deltas > 30, f"{name}: only {deltas} deltas"
        rows, backwards = replay(messages)
        assert backwards == [], f"{name}: {backwards[:5]}"
        assert rows == truth, name
    senders_threads = {m["thread"] for m in table_comm.sent[1:]} | {
        m["thread"] for m in panel_comm.sent if m["msg_type"] == "comm_msg"
    }
    assert senders_threads == {bridge.owner_thread}
    for badge, job in zip(badges, jobs, strict=False):
        states = [
            m["data"]["state"]["status"]
            for m in badge.comm.sent
            if m["msg_type"] == "comm_msg" and "status" in (m["data"].get("state") or {})
        ]
        ranks = [RANK[s] for s in states]
        assert ranks == sorted(ranks), states
        assert badge.status == job.state.name
    feed.close()
    table.close()
