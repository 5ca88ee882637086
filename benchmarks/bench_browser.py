"""Browser benchmarks f, m and g: the widgets in Chromium against a real JupyterLab.

Run with ``.venv/bin/python benchmarks/bench_browser.py`` (``--repeat N`` for more runs).

f. render time in the page, from the arrival of the kernel's message on the websocket
   (timed by a listener added before JupyterLab's; for a new table its first reset, else
   the last large message before the paint, as the kernel may send a change of 10,000
   jobs in several deltas while its loop runs) to the rows painted (a
   MutationObserver sees the rows, then one animation frame and a task later):
   - a new JobTable of 10,000 jobs (its ``reset``; includes creating the widget view);
   - a 10,000-row ``reset`` into the table already shown (every status changed);
   - a 1,000-row ``delta`` (the first 1,000 jobs change status, visible rows included);
   - a 10,000-row ``delta`` (every job changes status).
   Targets: 10,000 rows <= 300 ms, 1,000-row delta <= 50 ms.
m. the table's Timeline view with 10,000 jobs (paint detected when the timeline's canvas
   draws with the new rows: the header, rendered in the same frame, shows their counts):
   - first paint: a click on "Timeline" in a table of 10,000 jobs -> the canvas painted;
   - a 10,000-row ``reset`` arrives while the timeline is shown -> painted;
   - a 1,000-row ``delta`` arrives -> the timeline repainted.
   Targets: first paint <= 300 ms, 1,000-row delta <= 50 ms.
g. latency from a state change in the kernel (a backend thread calls ``_report`` and
   records ``time.time()``) to the page showing the new status in the table's row
   (``Date.now()`` in a MutationObserver); same machine, same clock; the kernel is idle.
   Target: median <= 250 ms.

Reuses the browser-test helpers of ``tests/ui/conftest.py``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from conftest import (  # noqa: E402
    PUSH_JOBS,
    WATCH_PAINT,
    WS_TIMING_SCRIPT,
    Notebook,
    chromium,
    running_lab,
    write_notebook,
)

N = 10_000
DELTA = 1_000
LATENCY_SAMPLES = 24

WATCH_STATUS = """(title) => {
  // window.__seen: [Date.now(), text] each time the first row's status of `title` changes
  window.__seen = [];
  const table = [...document.querySelectorAll('.jw-table')].find(
    (t) => t.querySelector('.jw-title')?.textContent === title);
  let last = null;
  const record = () => {
    const label = table.querySelector('.jw-body .jw-row .jw-pill-label');
    const text = label ? label.textContent : null;
    if (text !== last) { last = text; window.__seen.push([Date.now(), text]); }
  };
  new MutationObserver(record).observe(table, {childList: true, subtree: true,
                                               characterData: true});
  record();
}"""


WATCH_DRAW = """({title, status, count}) => {
  // Set window.__painted once the timeline of the table titled `title` draws while the
  // chip of `status` reads `count` (the header renders in the frame that draws): `seen`
  // is when the canvas drew, `painted` is after the next frame (performance.now() ms).
  // The timeline's draw starts with setTransform; the wrapper records the first such draw.
  window.__painted = null;
  window.__drawSeen = null;
  const proto = CanvasRenderingContext2D.prototype;
  if (!window.__setTransform) window.__setTransform = proto.setTransform;
  proto.setTransform = function (...args) {
    const result = window.__setTransform.apply(this, args);
    const canvas = this.canvas;
    if (window.__drawSeen === null && canvas.classList.contains('jw-tl-canvas')) {
      const table = canvas.closest('.jw-table');
      const chip = table && table.querySelector('.jw-chip.jw-st-' + status.toLowerCase());
      if (table && table.querySelector('.jw-title').textContent === title && chip
          && !chip.hidden && chip.querySelector('.jw-chip-count').textContent === String(count)) {
        const seen = window.__drawSeen = performance.now();
        requestAnimationFrame(() => setTimeout(() => {
          window.__painted = {seen, painted: performance.now()};
        }, 0));
      }
    }
    return result;
  };
}"""


def _timed(
    page: Any,
    nb: Notebook,
    code: str,
    watch: dict[str, Any],
    timeout: float = 60,
    min_size: int = 100_000,
    watcher: str = WATCH_PAINT,
    first: bool = False,
) -> dict:
    """Run ``code`` in a new cell; time from a message of at least ``min_size`` bytes
    (the first one with ``first``, else the last before the paint) to the rows painted
    (``watcher``: in the table, or in its timeline)."""
    page.evaluate(watcher, watch)
    page.evaluate(f"() => {{ window.__wsLog.length = 0; window.__wsMinSize = {min_size}; }}")
    index = nb.append(code)
    nb.run_cell(index)
    page.wait_for_function("() => window.__painted !== null", timeout=timeout * 1000)
    painted = page.evaluate("() => window.__painted")
    log = page.evaluate("() => window.__wsLog")
    nb.wait_cell(index, timeout=timeout)
    # The message that brought the final state: the last large one before the paint (the
    # kernel may send a change of 10,000 jobs in several deltas while its loop runs; the
    # time before the last one is the kernel's).
    arrived = [m for m in log if m["t"] <= painted["seen"]]
    if not arrived:
        msg = "no large websocket message was seen"
        raise RuntimeError(msg)
    last = arrived[0] if first else arrived[-1]
    return {
        "ms": painted["painted"] - last["t"],
        "dom_ms": painted["seen"] - last["t"],
        "mb": last["size"] / 1e6,
        "messages": len(arrived),
    }


def _quiet(page: Any, still: float = 0.5, timeout: float = 15) -> None:
    """Wait until no large websocket message has come for ``still`` seconds: the
    bridge's last deltas of a change made before must not start the next clock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.evaluate("() => { window.__wsLog.length = 0; window.__wsMinSize = 100000; }")
        time.sleep(still)
        if not page.evaluate("() => window.__wsLog.length"):
            return


def _new_table(page: Any, nb: Notebook, title: str, esm: str = "") -> dict:
    """Time a new 10,000-row table (``esm``: the name of a kernel variable holding
    another build of the table's front end, for a baseline in the same run)."""
    nb.run_code("if table is not None: table.close()")
    nb.command("notebook:clear-all-cell-outputs")
    nb.run_code("for j in jobs:\n    j._report(JobStatus.QUEUED)", timeout=60)
    _quiet(page)
    # the rows' reset (3.3 MB), not the comm's opening with the front end's code (0.1 MB)
    extra = f", _esm={esm}" if esm else ""
    return _timed(
        page,
        nb,
        f'table = JobTable(jobs, title="{title}"{extra})\ntable',
        {"title": title, "status": "QUEUED", "count": N},
        min_size=1_000_000,
        first=True,  # a view that waited for a second reset (its sync's answer) pays for it
    )


def bench_baseline(page: Any, nb: Notebook, repeat: int, baseline: Path) -> dict[str, list[dict]]:
    """Row f's new table with this build and with ``baseline`` (another build of
    table.js), alternating, in the same run."""
    results: dict[str, list[dict]] = {"this": [], "baseline": []}
    nb.run_code(f"jobs = push_jobs({N})\ntable = None", timeout=120)
    nb.run_code(f"BASELINE = open({str(baseline)!r}).read()")
    for r in range(repeat):
        order = ("this", "baseline") if r % 2 == 0 else ("baseline", "this")
        for which in order:
            esm = "BASELINE" if which == "baseline" else ""
            results[which].append(_new_table(page, nb, f"ab-{which}-{r}", esm))
    nb.run_code("table.close()")
    nb.command("notebook:clear-all-cell-outputs")
    return results


def bench_render(page: Any, nb: Notebook, repeat: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {"new": [], "reset": [], "delta": [], "delta_all": []}
    nb.run_code(f"jobs = push_jobs({N})\ntable = None", timeout=120)
    for r in range(repeat):
        # a new 10,000-row table (the previous one is closed and its output cleared)
        title = f"bench-{r}"
        results["new"].append(_new_table(page, nb, title))
        page.locator(".jw-table .jw-body .jw-row").first.wait_for()
        # 1,000 jobs (the first ones, shown at the top) change status
        for status, count in (("RUNNING", DELTA), ("QUEUED", N)):
            results["delta"].append(
                _timed(
                    page,
                    nb,
                    f"for j in jobs[:{DELTA}]:\n    j._report(JobStatus.{status})",
                    {"title": title, "status": status, "count": count},
                )
            )
        # a reset of every row into the shown table (as after a view's sync); the status
        # changes make it visible; _request_reset turns the next flush into a reset
        results["reset"].append(
            _timed(
                page,
                nb,
                "for j in jobs:\n    j._report(JobStatus.RUNNING)\ntable._request_reset()",
                {"title": title, "status": "RUNNING", "count": N},
            )
        )
        # every job changes status
        results["delta_all"].append(
            _timed(
                page,
                nb,
                "for j in jobs:\n    j._report(JobStatus.VALIDATING)",
                {"title": title, "status": "VALIDATING", "count": N},
            )
        )
    nb.run_code("table.close()")
    nb.command("notebook:clear-all-cell-outputs")
    return results


def bench_timeline(page: Any, nb: Notebook, repeat: int) -> dict[str, list[dict]]:
    """Benchmark m: the Timeline view of a 10,000-job table (see the module's docstring)."""
    results: dict[str, list[dict]] = {"first": [], "reset": [], "delta": []}
    nb.run_code(f"jobs = push_jobs({N})\ntable = None", timeout=120)
    for r in range(repeat):
        nb.run_code("if table is not None: table.close()")
        nb.command("notebook:clear-all-cell-outputs")
        nb.run_code("for j in jobs:\n    j._report(JobStatus.QUEUED)", timeout=60)
        title = f"timeline-{r}"
        nb.run_code(f'table = JobTable(jobs, title="{title}")\ntable', timeout=60)
        table = page.locator(".jw-table", has=page.locator(".jw-title", has_text=title))
        table.locator(".jw-body .jw-row").first.wait_for()
        page.wait_for_function(
            "(el) => el.querySelector('.jw-chip.jw-st-queued .jw-chip-count')"
            f".textContent === '{N}'",
            arg=table.element_handle(),
        )
        # first paint: the click on "Timeline" -> the canvas drawn and painted
        page.evaluate(WATCH_DRAW, {"title": title, "status": "QUEUED", "count": N})
        button = table.locator(".jw-view-toggle button", has_text="Timeline").element_handle()
        start = page.evaluate(
            "(b) => { const t = performance.now(); b.click(); return t; }", button
        )
        page.wait_for_function("() => window.__painted !== null", timeout=60_000)
        painted = page.evaluate("() => window.__painted")
        results["first"].append(
            {"ms": painted["painted"] - start, "dom_ms": painted["seen"] - start}
        )
        # 1,000 jobs change status while the timeline is shown
        for status, count in (("RUNNING", DELTA), ("QUEUED", N)):
            results["delta"].append(
                _timed(
                    page,
                    nb,
                    f"for j in jobs[:{DELTA}]:\n    j._report(JobStatus.{status})",
                    {"title": title, "status": status, "count": count},
                    watcher=WATCH_DRAW,
                )
            )
        # a reset of every row into the shown timeline
        results["reset"].append(
            _timed(
                page,
                nb,
                "for j in jobs:\n    j._report(JobStatus.RUNNING)\ntable._request_reset()",
                {"title": title, "status": "RUNNING", "count": N},
                watcher=WATCH_DRAW,
            )
        )
    nb.run_code("table.close()")
    nb.command("notebook:clear-all-cell-outputs")
    return results


def bench_latency(page: Any, nb: Notebook, samples: int) -> list[float]:
    nb.run_code(
        'probe = push_jobs(1, prefix="latency")[0]\n'
        'probe_table = JobTable([probe], title="latency")\nprobe_table'
    )
    page.locator(".jw-table .jw-body .jw-row").first.wait_for()
    page.evaluate(WATCH_STATUS, "latency")
    nb.run_code(
        "stamps = []\n"
        "def push(n):\n"
        "    for i in range(n):\n"
        "        time.sleep(0.3)\n"
        "        status = JobStatus.RUNNING if i % 2 == 0 else JobStatus.QUEUED\n"
        "        stamps.append((time.time(), status.name))\n"
        "        probe._report(status)\n"
        f"pusher = threading.Thread(target=push, args=({samples},))\n"
        "pusher.start()"
    )
    # the kernel stays idle while the thread pushes (bench_live.py measures the same
    # latency while a cell blocks)
    page.wait_for_function(
        f"() => window.__seen.length >= {samples + 1}", timeout=(samples * 0.3 + 20) * 1000
    )
    stamps = json.loads(nb.run_code("pusher.join()\nprint(json.dumps(stamps))"))
    seen = page.evaluate("() => window.__seen")
    latencies = []
    for t, name in stamps:
        shown = next((s for s, text in seen if text == name and s >= t * 1000 - 1), None)
        if shown is None:
            msg = f"the page never showed {name} pushed at {t}"
            raise RuntimeError(msg)
        latencies.append(shown - t * 1000)
    return latencies


def _row(name: str, values: list[float], target: str) -> str:
    return (
        f"| {name} | {len(values)} | {statistics.median(values):.0f} | {min(values):.0f} | "
        f"{max(values):.0f} | {target} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each render case")
    parser.add_argument("--samples", type=int, default=LATENCY_SAMPLES, help="latency samples")
    parser.add_argument(
        "--only", choices=("f", "m", "g"), action="append", help="run only these rows (repeatable)"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another build of table.js: row f's new table with it and with this build, "
        "alternating, in the same run",
    )
    args = parser.parse_args()
    only = set(args.only or ("f", "m", "g"))
    load_before = f"{os.getloadavg()[0]:.1f}"
    with tempfile.TemporaryDirectory(prefix="jobwidgets-bench-") as tmp:
        base = Path(tmp)
        for name in ("home", "root", "profile"):
            (base / name).mkdir()
        with (
            running_lab(base / "home", base / "root", base / "jupyterlab.log") as lab,
            chromium(base / "profile") as context,
        ):
            page = context.new_page()
            page.add_init_script(WS_TIMING_SCRIPT)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            nb = Notebook(page, lab, write_notebook(lab.root, "bench.ipynb", ["1"]))
            nb.run_code(PUSH_JOBS)
            render = bench_render(page, nb, args.repeat) if "f" in only else {}
            timeline = bench_timeline(page, nb, args.repeat) if "m" in only else {}
            ab = bench_baseline(page, nb, args.repeat, args.baseline) if args.baseline else {}
            latency = bench_latency(page, nb, args.samples) if "g" in only else []
            chromium_version = context.browser.version if context.browser else "?"
            page.close()
            lab.shutdown_kernels()
    print()
    options = (
        (f" --repeat {args.repeat}" if args.repeat != 5 else "")
        + "".join(f" --only {o}" for o in args.only or ())
        + (f" --baseline {args.baseline}" if args.baseline else "")
    )
    print(f"Command: `.venv/bin/python benchmarks/bench_browser.py{options}`")
    print(
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"Chromium {chromium_version} headless; times in ms; load average before and after: "
        f"{load_before} / {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| measurement | runs | median | min | max | target |")
    print("|---|---|---|---|---|---|")
    if render:
        new = render["new"]
        print(
            _row(
                f"f. new table, {N:,} rows: reset arrives -> rows painted",
                [r["ms"] for r in new],
                "<= 300",
            )
        )
        print(_row("   of which: reset arrives -> rows in the DOM", [r["dom_ms"] for r in new], ""))
        print(
            _row(
                f"f. {N:,}-row reset into the shown table -> rows repainted",
                [r["ms"] for r in render["reset"]],
                "<= 300",
            )
        )
        print(
            _row(
                f"f. {DELTA:,}-row delta arrives -> visible rows repainted",
                [r["ms"] for r in render["delta"]],
                "<= 50",
            )
        )
        print(
            _row(
                f"f. {N:,}-row delta arrives -> visible rows repainted",
                [r["ms"] for r in render["delta_all"]],
                "",
            )
        )
    if ab:
        print(
            _row(
                f"f. new table, {N:,} rows, this build (alternating with the baseline)",
                [r["ms"] for r in ab["this"]],
                "<= 300",
            )
        )
        print(
            _row(
                f"f. new table, {N:,} rows, baseline {args.baseline.name}",
                [r["ms"] for r in ab["baseline"]],
                "",
            )
        )
    if timeline:
        print(
            _row(
                f'm. timeline of {N:,} jobs, first paint: click on "Timeline" -> painted',
                [r["ms"] for r in timeline["first"]],
                "<= 300",
            )
        )
        print(
            _row(
                f"m. {N:,}-row reset arrives -> timeline repainted",
                [r["ms"] for r in timeline["reset"]],
                "<= 300",
            )
        )
        print(
            _row(
                f"m. {DELTA:,}-row delta arrives -> timeline repainted",
                [r["ms"] for r in timeline["delta"]],
                "<= 50",
            )
        )
    if latency:
        print(
            _row("g. kernel state change -> row shows it (kernel idle)", latency, "median <= 250")
        )
    print()
    if render:
        sizes = ", ".join(
            f"{key} {render[key][0]['mb']:.2f} MB" for key in ("new", "reset", "delta", "delta_all")
        )
        print(f"Message sizes: {sizes}.")
    print(f"Page errors: {errors or 'none'}.")


if __name__ == "__main__":
    main()
