"""Measure how live the views are while a cell blocks the kernel's main thread.

Shared by ``test_live.py`` and ``benchmarks/bench_live.py``. A notebook submits, on
``LocalBackend(max_workers=1)``, a gate job that holds the worker, ``n`` one-second jobs
and a tail job; one cell shows a ``JobTable`` of the ``n`` jobs and a ``StatusBadge`` of
the last one; the next cell opens the gate and then blocks in one of ``PATTERNS`` until
after the tail job ends. The kernel records when each job's state changed (an observer,
``time.time()``); the page records when each view first showed each status (a
``MutationObserver``, ``Date.now()``): the same machine and clock. The JupyterLab job
panel is open and lists the same jobs.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field

from conftest import Notebook, screenshot

SETUP = """\
import json, threading, time
import jobwidgets as jw
import jobwidgets.panel
from IPython.display import display
from jobwidgets.widgets import JobMonitor, JobTable, StatusBadge, job_monitor
backend = jw.LocalBackend(max_workers=1)
stamps = []

def stamp(change):
    stamps.append((change.owner.job_id(), change.new.name, time.time()))

def batch(n, seconds=1.0):
    \"\"\"A gate job that holds the one worker, then n jobs and a tail job.\"\"\"
    for feed in jw.panel.open_feeds():
        feed.clear_finished()
    go = threading.Event()
    gate = backend.run(go.wait)
    jobs = [backend.run(time.sleep, seconds) for _ in range(n)]
    tail = backend.run(time.sleep, seconds)
    for job in jobs + [tail]:
        job.observe(stamp, "state")
    return go, jobs, tail

print("ready")"""

SHOW = """\
go, jobs, tail = batch({n})
stamps.clear()
table = JobTable(jobs, title="live")
display(table, StatusBadge(jobs[-1]))
print(json.dumps({{"jobs": [j.job_id() for j in jobs], "tail": tail.job_id()}}))"""

PATTERNS: dict[str, str] = {
    "result()": "tail.result()",
    "time.sleep": "time.sleep({seconds})",
    "CPU-bound loop": (
        "end = time.time() + {seconds}\nwhile time.time() < end:\n    sum(range(1000))"
    ),
    "wait_for_final_state()": "tail.wait_for_final_state()",
    "wait_for_final_state(callback=JobMonitor())": (
        "tail.wait_for_final_state(callback=JobMonitor())"
    ),
    "await": "await tail",
    "job_monitor(job)": "job_monitor(tail)",
}
"""The blocking part of the cell, by name; ``{seconds}`` is how long the jobs take in all."""

RECORDER = """() => {
  // First time (seconds since the epoch) each view showed each status of each job:
  // window.__seen["table|<id>|RUNNING"] and so on, for table, monitor, panel, badge.
  window.__seen = {};
  const note = (scope, id, status) => {
    const key = scope + '|' + id + '|' + status;
    if (!(key in window.__seen)) window.__seen[key] = Date.now() / 1000;
  };
  const record = () => {
    for (const row of document.querySelectorAll('.jw-table .jw-body .jw-row')) {
      const id = row.querySelector('.jw-c-id')?.textContent.trim();
      const status = row.querySelector('.jw-pill-label')?.textContent.trim();
      if (!id || !status) continue;
      const scope = row.closest('#jobwidgets-panel') ? 'panel'
        : row.closest('.jw-compact') ? 'monitor' : 'table';
      note(scope, id, status);
    }
    for (const badge of document.querySelectorAll('.jw-badge')) {
      const id = badge.querySelector('.jw-badge-id')?.textContent.trim();
      const status = badge.querySelector('.jw-pill-label')?.textContent.trim();
      if (id && status) note('badge', id, status);
    }
  };
  record();
  new MutationObserver(record).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""


@dataclass
class PatternResult:
    """What one blocking pattern showed: latencies, and what never showed in time."""

    name: str
    latencies: dict[str, list[float]] = field(default_factory=dict)
    """Seconds from the kernel's change to the page, by view (table, panel, badge, ...)."""
    missing: list[str] = field(default_factory=list)
    """Changes that a view did not show before the cell ended."""
    cell_seconds: float = 0.0

    @property
    def all(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]

    def summary(self) -> str:
        values = self.all
        if not values:
            return f"{self.name}: nothing shown; missing {self.missing}"
        return (
            f"{self.name}: {len(values)} changes, median {statistics.median(values) * 1000:.0f} ms,"
            f" max {max(values) * 1000:.0f} ms; missing {len(self.missing)}"
        )


def open_live_notebook(nb: Notebook) -> None:
    """Run the setup cell, show the job panel, start the page's recorder."""
    nb.run_cell(0)
    output = nb.wait_cell(0)
    assert "ready" in output, output
    page = nb.page
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    page.locator("#jobwidgets-panel").wait_for(state="visible", timeout=10000)
    page.evaluate(RECORDER)


def run_pattern(nb: Notebook, name: str, n: int = 3, shot: str | None = None) -> PatternResult:
    """Show ``n`` jobs, block in pattern ``name`` while they run; measure every view."""
    seconds = n + 2.5  # the gate opens at once; n jobs and the tail take a second each
    show = nb.append(SHOW.format(n=n))
    nb.run_cell(show)
    ids = json.loads(nb.wait_cell(show).strip().splitlines()[-1])
    page = nb.page
    # the views are on the page, and the panel lists the jobs, before the cell blocks
    for job_id in ids["jobs"]:
        page.wait_for_function(
            "(key) => key in window.__seen", arg=f"panel|{job_id}|QUEUED", timeout=15000
        )
    page.wait_for_function(
        "(key) => key in window.__seen", arg=f"table|{ids['jobs'][-1]}|QUEUED", timeout=15000
    )
    block = "go.set()\n" + PATTERNS[name].format(seconds=seconds)
    block += "\nprint('END', repr(time.time()))"
    cell = nb.append(block)
    started = time.monotonic()
    nb.run_cell(cell)
    if shot is not None:
        time.sleep(min(2.5, seconds / 2))
        screenshot(page, shot)
    output = nb.wait_cell(cell, timeout=seconds + 60)
    result = PatternResult(name, cell_seconds=time.monotonic() - started)
    end_lines = [line for line in output.splitlines() if line.startswith("END ")]
    assert end_lines, f"{name}: the blocking cell failed: {output}"
    ended = float(end_lines[-1].split()[1])
    stamps = json.loads(nb.run_code("print(json.dumps(stamps))").strip().splitlines()[-1])
    seen: dict[str, float] = page.evaluate("() => window.__seen")
    changed = {(job_id, status): t for job_id, status, t in stamps}
    expected = [
        (scope, job_id, status)
        for scope in ("table", "panel")
        for job_id in ids["jobs"]
        for status in ("RUNNING", "DONE")
    ]
    expected += [("badge", ids["jobs"][-1], status) for status in ("RUNNING", "DONE")]
    if "JobMonitor" in name:
        expected.append(("monitor", ids["tail"], "RUNNING"))
    if name == "job_monitor(job)":
        expected.append(("badge", ids["tail"], "RUNNING"))
    for scope, job_id, status in expected:
        at = seen.get(f"{scope}|{job_id}|{status}")
        kernel = changed.get((job_id, status))
        if kernel is None:
            result.missing.append(f"{scope} {job_id} {status}: no change in the kernel")
        elif at is None or at > ended:
            result.missing.append(f"{scope} {job_id} {status}: not shown before the cell ended")
        else:
            result.latencies.setdefault(scope, []).append(at - kernel)
    return result
