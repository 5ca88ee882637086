"""The row feed: jobs as keyed rows, sent as ``reset`` and ``delta`` messages.

``JobTable`` (a widget) and the JupyterLab panel (a comm of its own) show jobs the same
way, so they share this logic: rows keyed by a short string, a ``reset`` with every row
when a view asks, then ``delta`` messages with only the rows that changed, at the
bridge's bounded rate, and the cancel requests of the front end. A feed delivers its
messages through ``_deliver(content)``, which each user implements. The messages, both
ways, are written out in ``js/PROTOCOL.md``.

Needs the core and the bridge only (no widget package), so the panel works in a kernel
without the ``widgets`` extra.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from ._jobcore import core
from ._shown import shown
from .bridge import Bridge
from .job import BaseJob, wire_id
from .logs import LogLine
from .registry import JobRegistry
from .rows import counts, record, row
from .status import JOB_FINAL_STATES, JobStatus

__all__ = [
    "LOG_TAIL",
    "MAX_CANCEL_KEYS",
    "MAX_LOG_SUBSCRIPTIONS",
    "MAX_LOG_TEXT",
    "RowFeed",
    "cancel",
    "check_feed_args",
    "feeds",
    "log_text",
    "logs",
    "retry",
    "sync",
]

log = logging.getLogger("jobwidgets")

MAX_CANCEL_KEYS = 1000
"""The most rows one cancel request (a ``cancel`` message, or the subshell route's
``cancel``) may name. A front end asks for one row a click; the keys beyond the cap are
ignored, with one warning, so a runaway request can't flood the page with answers."""

LOG_TAIL = 200
"""The most log lines a row's details show, and one message carries for a row."""

MAX_LOG_LINE = 2000
"""The most characters of one line in a log tail (the downloaded log has whole lines)."""

MAX_LOG_SUBSCRIPTIONS = 50
"""The most rows of one feed whose logs the front end may follow at once."""

MAX_LOG_TEXT = 4 << 20
"""The most characters of a downloaded log (``log_text``): its head is cut beyond."""

MAX_RETRY_REQUESTS = 1000
"""How many retry requests a feed remembers, so that one arriving twice (comm and
subshell) runs its job again only once."""

_RETRYABLE = (JobStatus.ERROR, JobStatus.CANCELLED)


def _request_keys(keys: list[Any]) -> tuple[list[str], int]:
    """The row keys one cancel request asks for, each once, in order and at most
    ``MAX_CANCEL_KEYS`` of them; and how many more it named (ignored)."""
    wanted = dict.fromkeys(_key_text(key) for key in keys)
    return list(itertools.islice(wanted, MAX_CANCEL_KEYS)), max(0, len(wanted) - MAX_CANCEL_KEYS)


def _key_text(key: Any) -> str:
    """A requested key as text, bounded (a row key is a short string of digits)."""
    return key[:80] if isinstance(key, str) else shown(key)


def _too_many(ignored: int) -> str:
    return f"ignored {ignored} more keys: one request may cancel at most {MAX_CANCEL_KEYS} rows"


feeds: weakref.WeakValueDictionary[str, RowFeed] = weakref.WeakValueDictionary()
"""Open feeds by id (a JobTable's ``feed_id``, a panel's comm id), for the requests that
reach the kernel outside the comm (``cancel`` and ``sync`` below)."""


def check_feed_args(jobs: Iterable[BaseJob] | None, registry: JobRegistry | None) -> list[BaseJob]:
    """The jobs a feed starts with, as a list, once ``jobs`` and ``registry`` are checked.

    Raises ``TypeError`` naming the parameter. A widget calls it before it opens its
    comm, so that bad arguments leave nothing registered, watched or open.
    """
    if registry is not None and not isinstance(registry, JobRegistry):
        msg = f"registry must be a jobwidgets JobRegistry, got {type(registry).__name__}"
        raise TypeError(msg)
    if jobs is None:
        return []
    if isinstance(jobs, BaseJob) or not isinstance(jobs, Iterable):
        msg = (
            f"jobs must be an iterable of jobwidgets jobs, got {type(jobs).__name__}; "
            "pass a list, such as jobs=[job]"
        )
        raise TypeError(msg)
    checked = list(jobs)
    for index, job in enumerate(checked):
        if not isinstance(job, BaseJob):
            msg = f"jobs must hold jobwidgets jobs, got {type(job).__name__} at index {index}"
            raise TypeError(msg)
    return checked


class RowFeed:
    """Keyed rows of jobs, kept current through the bridge. A mixin: call ``_start_feed``.

    Who owns what:

    - The rows (``_rows``, ``_key_of``), the removed keys, the cancel outcomes, the
      retry requests already handled (``_retry_requests``), the reset flag and the
      outbox are guarded by ``_lock``: ``add``, ``remove``, ``cancel``,
      ``clear_finished`` and the front end's messages may run on any thread (the main
      shell, a subshell, the subshell route, a job's thread). A retry request is
      marked handled under the lock before ``resubmit()`` runs, so the same click
      arriving by both routes at once runs the job again only once.
    - Every message to the front end (``reset``, ``delta``, ``cancel_result``) is sent
      by ``_jobs_changed``, which only the bridge's thread calls. Work that starts
      elsewhere leaves its message in the outbox (or sets the reset flag) and pokes the
      bridge, so the front end sees the messages in the order the owner built them.
    """

    _bridge: Bridge
    _feed_id: str

    def _start_feed(
        self,
        bridge: Bridge,
        feed_id: str,
        *,
        jobs: Iterable[BaseJob] | None = None,
        registry: JobRegistry | None = None,
        include_existing: bool = True,
        what: str = "JobTable",
    ) -> None:
        """Set up the rows: ``jobs``, and a ``registry`` to follow (its jobs, new ones too).

        The arguments are checked (``check_feed_args``) before anything is registered."""
        jobs = check_feed_args(jobs, registry)
        self._bridge = bridge
        self._what = what
        self._lock = threading.Lock()
        self._keys = itertools.count(1)
        self._rows: dict[str, BaseJob] = {}
        self._key_of: dict[int, str] = {}
        self._removed: list[str] = []
        self._cancel: dict[str, tuple[str | None, str | None]] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False
        self._needs_reset = False
        self._outbox: list[dict[str, Any]] = []
        # key -> the number of the next log line the front end expects (None: it needs
        # a fresh tail), for the rows whose details are open in some view
        self._log_sent: dict[str, int | None] = {}
        # request id -> True, for the retry requests handled (oldest first, bounded)
        self._retry_requests: dict[str, bool] = {}
        self._feed_id = feed_id
        feeds[feed_id] = self
        for job in jobs:
            self._add(job, send=False)  # the first reset carries them
        if registry is not None:
            self._unsubscribe = registry.subscribe(self.add)
            if include_existing:
                for job in registry.jobs():
                    self._add(job, send=False)

    def _deliver(self, content: dict[str, Any]) -> None:
        """Send one message to the front end (nothing once the view is gone)."""
        raise NotImplementedError

    # --------------------------------------------------------------- Python API
    @property
    def jobs(self) -> list[BaseJob]:
        """The jobs shown, in the order they were added."""
        with self._lock:
            return list(self._rows.values())

    @property
    def counts(self) -> dict[str, int]:
        """How many of the jobs shown are in each status."""
        return counts(self.jobs)

    def to_records(self) -> list[dict[str, Any]]:
        """The jobs shown as plain records, in the order they were added: one dict per
        job with the keys of ``jobwidgets.rows.EXPORT_FIELDS`` (job_id, backend, status,
        tags, created/submitted/started/finished as ISO 8601 UTC, queue_seconds,
        run_seconds, progress, progress_text, error, resubmitted_from), the same as
        the table's "Export JSON" gives."""
        now = time.time()
        return [record(job, now) for job in self.jobs]

    def add(self, job: BaseJob) -> None:
        """Show ``job`` (once; adding it again does nothing). Safe from any thread."""
        self._add(job, send=True)

    def _add(self, job: BaseJob, *, send: bool) -> None:
        if not isinstance(job, BaseJob):
            msg = f"{self._what}.add needs a jobwidgets job, got {type(job).__name__}"
            raise TypeError(msg)
        with self._lock:
            if self._closed or id(job) in self._key_of:
                return
            key = str(next(self._keys))
            self._rows[key] = job
            self._key_of[id(job)] = key
        self._bridge.watch(job, self)
        if send:
            self._bridge.mark(job)

    def remove(self, job: BaseJob) -> None:
        """Stop showing ``job``. Removing a job that isn't shown does nothing."""
        with self._lock:
            key = self._key_of.pop(id(job), None)
            if key is None:
                return
            del self._rows[key]
            self._cancel.pop(key, None)
            self._log_sent.pop(key, None)
            self._removed.append(key)
        self._bridge.unwatch(job, self)
        self._bridge.poke(self)

    def clear_finished(self) -> list[BaseJob]:
        """Remove every job in a final state; return them."""
        finished = [job for job in self.jobs if job.state in JOB_FINAL_STATES]
        for job in finished:
            self.remove(job)
        return finished

    def cancel(self, jobs: Iterable[BaseJob] | None = None) -> dict[str, bool]:
        """Cancel the given jobs (default: every unfinished one); return id -> accepted."""
        if jobs is not None:
            if isinstance(jobs, BaseJob) or not isinstance(jobs, Iterable):
                msg = (
                    f"jobs must be an iterable of jobwidgets jobs or None, got "
                    f"{type(jobs).__name__}; pass a list, such as jobs=[job]"
                )
                raise TypeError(msg)
            jobs = list(jobs)  # read once: a generator serves every row
        with self._lock:
            targets = [
                key
                for key, job in self._rows.items()
                if (jobs is None and job.state not in JOB_FINAL_STATES)
                or (jobs is not None and any(job is j for j in jobs))
            ]
        return {outcome["job_id"]: outcome["ok"] for outcome in self._cancel_keys(targets)}

    def stop_following(self) -> None:
        """Stop adding the registry's new jobs; the rows already shown stay live."""
        with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    def _close_feed(self) -> None:
        """Release every observer and subscription. Closing twice does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = list(self._rows.values())
            self._rows.clear()
            self._key_of.clear()
            self._log_sent.clear()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._bridge.unwatch_all(self, jobs)
        feeds.pop(self._feed_id, None)

    def __len__(self) -> int:
        return len(self._rows)

    # ------------------------------------------------------------ bridge side
    def _jobs_changed(self, jobs: list[BaseJob]) -> None:
        """On the bridge's thread: send the outbox, then a reset if one was asked for,
        else one delta with the rows of ``jobs`` and the rows removed since. Either
        carries the new log lines of the rows whose logs the front end follows."""
        with self._lock:
            outbox, self._outbox = self._outbox, []
            reset, self._needs_reset = self._needs_reset, False
        for content in outbox:
            self._send_rows(content)
        if reset:
            with self._lock:
                self._removed.clear()
                for job in jobs:
                    key = self._key_of.get(id(job))
                    if key is not None and job.state in JOB_FINAL_STATES:
                        self._cancel.pop(key, None)
                rows = [
                    row(job, key, self._cancel.get(key, (None, None)))
                    for key, job in self._rows.items()
                ]
            message: dict[str, Any] = {"type": "reset", "rows": rows, "model_id": self._feed_id}
            logs = self._log_updates()
            if logs:
                message["logs"] = logs
            self._send_rows(message)
            return
        with self._lock:
            upsert = []
            for job in jobs:
                key = self._key_of.get(id(job))
                if key is not None:
                    upsert.append(row(job, key, self._cancel.get(key, (None, None))))
                    if job.state in JOB_FINAL_STATES:
                        self._cancel.pop(key, None)  # the final state says it all now
            removed, self._removed = self._removed, []
        logs = self._log_updates()
        if upsert or removed or logs:
            delta: dict[str, Any] = {"type": "delta", "upsert": upsert, "remove": removed}
            if logs:
                delta["logs"] = logs
            self._send_rows(delta)

    def _log_updates(self) -> list[dict[str, Any]]:
        """On the bridge's thread: for each followed row whose log grew, its new lines
        (at most ``LOG_TAIL``), with ``reset`` when the front end must start over."""
        if not self._log_sent:  # the usual case: no details open (a racy read is fine)
            return []
        with self._lock:
            followed = [
                (key, self._rows[key], sent)
                for key, sent in self._log_sent.items()
                if key in self._rows
            ]
        updates = []
        lines: list[LogLine]
        for key, job, sent in followed:
            job_log = core(job).log
            if job_log is None:
                first, lines, total = 0, [], 0
            elif sent is not None and job_log.total == sent:
                continue
            else:
                first, lines, total = job_log.since(sent or 0, LOG_TAIL)
            if sent is not None and total == sent:
                continue
            with self._lock:
                if self._log_sent.get(key, -1) != sent:
                    continue  # closed, or opened again, meanwhile
                self._log_sent[key] = total
            updates.append(
                {
                    "key": key,
                    "start": first,
                    "total": total,
                    "reset": sent is None or first != sent,
                    "lines": [[line.time, line.stream, line.text[:MAX_LOG_LINE]] for line in lines],
                }
            )
        return updates

    def _send_rows(self, content: dict[str, Any]) -> None:
        content["kernel_time"] = time.time()
        self._deliver(content)

    # ------------------------------------------------------------ front end side
    def _handle_front_end(self, content: Any) -> None:
        """Act on one message of the front end, from any thread; replies go out from
        the bridge's thread."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "sync":
            self._request_reset()
        elif kind == "cancel":
            keys = content.get("keys", [])
            if not isinstance(keys, list):
                log.warning("jobwidgets: %s ignored a cancel without a key list", self._what)
                return
            wanted, ignored = _request_keys(keys)
            if ignored:
                log.warning("jobwidgets: %s %s", self._what, _too_many(ignored))
            outcomes = self._cancel_keys(wanted)
            with self._lock:
                self._outbox.extend({"type": "cancel_result", **o} for o in outcomes)
            self._bridge.poke(self)
        elif kind == "logs":
            key, follow = content.get("key"), content.get("open")
            if not isinstance(key, str) or not isinstance(follow, bool):
                log.warning(
                    "jobwidgets: %s ignored a logs message without key and open", self._what
                )
                return
            self._follow_log(key, follow)
        elif kind == "log_text":
            key = content.get("key")
            if not isinstance(key, str):
                log.warning("jobwidgets: %s ignored a log_text message without key", self._what)
                return
            self._queue_log_text(key)
        elif kind == "retry":
            key, request = content.get("key"), content.get("request")
            if not isinstance(key, str) or not isinstance(request, str):
                log.warning("jobwidgets: %s ignored a retry without key and request", self._what)
                return
            self._retry(key, request)
        elif kind == "cancel_all":
            self.cancel()
        elif kind == "clear_finished":
            self.clear_finished()
        else:
            log.warning("jobwidgets: %s ignored an unknown message %s", self._what, shown(content))

    def _request_reset(self) -> None:
        """Send every row at the next flush. Safe from any thread.

        The front end follows logs anew after a reset (a reloaded page follows none),
        so the rows' logs are followed no more."""
        with self._lock:
            self._needs_reset = True
            self._log_sent.clear()
        self._bridge.poke(self)

    def _follow_log(self, key: str, follow: bool) -> bool:
        """Send the log of row ``key`` while its details are open (``follow``), or stop.
        Idempotent; False for an unknown key or too many followed rows. Safe from any
        thread."""
        with self._lock:
            if not follow:
                self._log_sent.pop(key, None)
                return True
            if key not in self._rows:
                return False
            if key not in self._log_sent:
                if len(self._log_sent) >= MAX_LOG_SUBSCRIPTIONS:
                    log.warning(
                        "jobwidgets: %s follows the logs of at most %d rows",
                        self._what,
                        MAX_LOG_SUBSCRIPTIONS,
                    )
                    return False
                self._log_sent[key] = None
        self._bridge.poke(self)
        return True

    def _queue_log_text(self, key: str) -> None:
        """Answer a download: the whole kept log of row ``key`` (its last
        ``MAX_LOG_TEXT`` characters), at the next flush. Safe from any thread."""
        with self._lock:
            job = self._rows.get(key)
        reply: dict[str, Any] = {"type": "log_text", "key": key, "job_id": None, "text": ""}
        if job is None:
            reply.update(ok=False, message="no such row")
        else:
            text = job.logs()
            if len(text) > MAX_LOG_TEXT:
                tail = text[-MAX_LOG_TEXT:]
                tail = tail[tail.find("\n") + 1 :]
                note = f"[the head of this log is cut: a download keeps {MAX_LOG_TEXT} characters]"
                text = f"{note}\n{tail}"
            reply.update(ok=True, job_id=wire_id(job), text=text)
        with self._lock:
            self._outbox.append(reply)
        self._bridge.poke(self)

    def _retry(self, key: str, request: str) -> dict[str, Any] | None:
        """Run the job of row ``key`` again (``job.resubmit()``), once per ``request``
        (the front end's id of one click); show the new job, and answer with a
        ``retry_result`` at the next flush. None for a request handled already.
        Safe from any thread."""
        with self._lock:
            if request in self._retry_requests:
                return None
            self._retry_requests[request] = True
            while len(self._retry_requests) > MAX_RETRY_REQUESTS:
                del self._retry_requests[next(iter(self._retry_requests))]
            job = self._rows.get(key)
        outcome: dict[str, Any] = {
            "type": "retry_result",
            "key": key,
            "request": request,
            "job_id": None if job is None else wire_id(job),
            "ok": False,
            "message": "",
            "new_job_id": None,
        }
        if job is None:
            outcome["message"] = "no such job"
        elif job.state not in _RETRYABLE:
            outcome["message"] = (
                f"only a failed or cancelled job can be retried (it is {job.state.name})"
            )
        else:
            try:
                again = job.resubmit()
            except Exception as exc:
                outcome["message"] = str(exc) or type(exc).__name__
            else:
                self.add(again)
                outcome.update(ok=True, new_job_id=wire_id(again))
        with self._lock:
            self._outbox.append(outcome)
        self._bridge.poke(self)
        return outcome

    def _cancel_keys(self, keys: list[str]) -> list[dict[str, Any]]:
        """Call ``cancel()`` on each job; record why it failed. Safe from any thread.

        The rows show the outcome at the next flush; nothing is raised into the notebook.
        """
        outcomes: list[dict[str, Any]] = []
        for key in keys:
            with self._lock:
                job = self._rows.get(key)
            if job is None:
                outcomes.append({"key": key, "job_id": None, "ok": False, "message": "no such job"})
                continue
            outcome: dict[str, Any] = {
                "key": key,
                "job_id": job.job_id(),
                "ok": False,
                "message": "",
            }
            if job.state is JobStatus.CANCELLED:
                outcome["ok"] = True  # cancelled already: a repeated click, or two routes
            elif job.state in JOB_FINAL_STATES:
                outcome["message"] = f"the job is already {job.state.name}"
            else:
                try:
                    accepted = job.cancel()
                except Exception as exc:
                    outcome["message"] = f"cancel() raised {type(exc).__name__}: {exc}"
                else:
                    outcome["ok"] = bool(accepted) or job.state is JobStatus.CANCELLED
                    if not outcome["ok"]:
                        outcome["message"] = (
                            f"the backend did not accept the cancel (the job is {job.state.name})"
                        )
            state = "requested" if outcome["ok"] else "failed"
            with self._lock:
                if key in self._rows:
                    self._cancel[key] = (state, outcome["message"] or None)
            self._bridge.mark(job)
            outcomes.append(outcome)
        return outcomes


# ------------------------------------------------------------------ the subshell route
# While a cell blocks the main shell (in ``wait_for_final_state``, say), a comm message
# from a Cancel click waits behind it. The front end (js/src/kernel_route.js) then sends
# its own ``execute_request`` on a kernel subshell (ipykernel 7 runs each subshell on its
# own thread), with code that calls ``cancel(feed_id, keys)`` or ``sync(feed_id)`` here
# (through ``jobwidgets.route``). They run at once, on the subshell's thread:
# ``job.cancel()`` is thread-safe, and the rows show the outcome at the bridge's next
# flush, from the bridge's thread, like every other message.


def cancel(feed_id: str, keys: list[str]) -> str:
    """Cancel rows ``keys`` (a list, at most ``MAX_CANCEL_KEYS`` of them) of the open feed
    ``feed_id``; return the outcomes as JSON: one per key, then one ``ok: false`` saying
    what was refused (keys that are not a list; keys beyond the cap)."""
    if not isinstance(keys, list):
        message = f"keys must be a list of row keys, such as ['1'], got {type(keys).__name__}"
        return json.dumps([{"ok": False, "message": message}])
    feed = _open_feed(feed_id)
    if not isinstance(feed, RowFeed):
        return json.dumps([{"ok": False, "message": feed}])
    wanted, ignored = _request_keys(keys)
    outcomes = feed._cancel_keys(wanted)
    if ignored:
        outcomes.append({"ok": False, "message": _too_many(ignored)})
    return json.dumps(outcomes)


def sync(feed_id: str) -> str:
    """Ask the open feed ``feed_id`` to send all its rows at the next flush."""
    feed = _open_feed(feed_id)
    if not isinstance(feed, RowFeed):
        return json.dumps({"ok": False, "message": feed})
    feed._request_reset()
    return json.dumps({"ok": True})


def retry(feed_id: str, key: str, request: str) -> str:
    """Run the job of row ``key`` of the open feed ``feed_id`` again, once per
    ``request``; return the outcome as JSON (``{ok: true, handled: true}`` when the same
    request came first through the comm)."""
    feed = _open_feed(feed_id)
    if isinstance(feed, str):
        return json.dumps({"ok": False, "message": feed})
    if not isinstance(key, str) or not isinstance(request, str):
        return json.dumps({"ok": False, "message": "key and request must be str"})
    outcome = feed._retry(key, request)
    if outcome is None:
        return json.dumps({"ok": True, "handled": True})
    return json.dumps({k: v for k, v in outcome.items() if k != "type"})


def _open_feed(feed_id: object) -> RowFeed | str:
    """The open feed ``feed_id``, or what the route answers when there is none."""
    if not isinstance(feed_id, str):
        return f"feed_id must be a str (a table's feed_id), got {type(feed_id).__name__}"
    feed = feeds.get(feed_id)
    if feed is None:
        return f"no open job table {shown(feed_id)}"
    return feed


def logs(feed_id: str, key: str, follow: bool) -> str:
    """Follow (or stop following) the log of row ``key`` of the open feed ``feed_id``."""
    feed = _open_feed(feed_id)
    if isinstance(feed, str):
        return json.dumps({"ok": False, "message": feed})
    if not isinstance(key, str) or not isinstance(follow, bool):
        return json.dumps({"ok": False, "message": "key must be a str and follow a bool"})
    return json.dumps({"ok": feed._follow_log(key, follow)})


def log_text(feed_id: str, key: str) -> str:
    """Make the open feed ``feed_id`` send the whole log of row ``key`` (``log_text``)."""
    feed = _open_feed(feed_id)
    if isinstance(feed, str):
        return json.dumps({"ok": False, "message": feed})
    if not isinstance(key, str):
        return json.dumps({"ok": False, "message": "key must be a str"})
    feed._queue_log_text(key)
    return json.dumps({"ok": True})
