"""A recording comm and a hand-driven loop, so widget tests assert on real messages."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import comm
from comm.base_comm import BaseComm


class RecordingComm(BaseComm):
    """A comm that keeps every message the kernel side publishes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        self.sent.append({"msg_type": msg_type, "data": data, "thread": threading.get_ident()})

    def custom(self) -> list[dict[str, Any]]:
        """The custom messages (``Widget.send``) sent so far."""
        return [
            m["data"]["content"]
            for m in self.sent
            if m["msg_type"] == "comm_msg" and (m["data"] or {}).get("method") == "custom"
        ]

    def receive(self, content: dict[str, Any]) -> None:
        """Deliver a custom message from the front end."""
        self.handle_msg(
            {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
        )


def install_recording_comm(monkeypatch: Any) -> None:
    monkeypatch.setattr(comm, "create_comm", RecordingComm)


class ManualLoop:
    """An event loop driven by the test: ``call_soon_threadsafe``/``call_later`` queue
    callbacks; ``run_due()`` runs those due at the fake clock's time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()
        self._calls: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] = []

    def clock(self) -> float:
        return self.now

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._calls.append((self.now, callback, args))

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._calls.append((self.now + delay, callback, args))

    def run_due(self) -> int:
        """Run every due callback (including ones they schedule); return how many ran."""
        ran = 0
        while True:
            with self._lock:
                due = [c for c in self._calls if c[0] <= self.now]
                self._calls = [c for c in self._calls if c[0] > self.now]
            if not due:
                return ran
            for _, callback, args in due:
                callback(*args)
                ran += 1

    def advance(self, seconds: float) -> int:
        self.now += seconds
        return self.run_due()

    @property
    def pending(self) -> int:
        return len(self._calls)
