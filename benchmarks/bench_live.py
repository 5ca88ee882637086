"""Benchmark g2: a state change in the kernel → the page shows it, while a cell blocks.

For each blocking pattern of ``tests/ui/liveness.py`` (``result()``, ``time.sleep``, a
CPU-bound loop, ``wait_for_final_state()`` with and without ``JobMonitor()``, ``await``,
``job_monitor(job)``), ``--jobs`` one-second jobs run one after another on
``LocalBackend(max_workers=1)`` while the cell blocks. Every RUNNING and DONE is timed
from the kernel's observer (``time.time()``) to the first time the view showed it in the
page (``Date.now()`` in a ``MutationObserver``), for the table, the JupyterLab job panel
and the badge: the same machine and clock. Target: median ≤ 100 ms, max ≤ 500 ms, in
every pattern.

    .venv/bin/python benchmarks/bench_live.py [--jobs 6] [--repeat 1]

Starts a JupyterLab on 127.0.0.1 and Debian's Chromium, headless. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from liveness import PATTERNS, SETUP, open_live_notebook, run_pattern  # noqa: E402

from conftest import Notebook, chromium, running_lab, write_notebook  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=6, help="jobs per pattern and run")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every pattern")
    args = parser.parse_args()
    latencies: dict[str, list[float]] = {name: [] for name in PATTERNS}
    missing: dict[str, int] = {name: 0 for name in PATTERNS}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name in ("home", "root"):
            (base / name).mkdir()
        with (
            running_lab(base / "home", base / "root", base / "lab.log") as lab,
            chromium(base / "profile") as context,
        ):
            page = context.new_page()
            nb = Notebook(page, lab, write_notebook(lab.root, "live.ipynb", [SETUP]))
            open_live_notebook(nb)
            for _ in range(args.repeat):
                for name in PATTERNS:
                    result = run_pattern(nb, name, n=args.jobs)
                    latencies[name] += result.all
                    missing[name] += len(result.missing)
            lab.shutdown_kernels()
    print(f"Python {platform.python_version()}, {platform.machine()}; {args.jobs} jobs a run\n")
    print("| the blocking cell | changes | median ms | max ms | not shown in time |")
    print("|---|---|---|---|---|")
    for name in PATTERNS:
        values = latencies[name]
        median = statistics.median(values) * 1000 if values else float("nan")
        worst = max(values) * 1000 if values else float("nan")
        print(f"| `{name}` | {len(values)} | {median:.0f} | {worst:.0f} | {missing[name]} |")


if __name__ == "__main__":
    main()
