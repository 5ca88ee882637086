"""Benchmarks of the job history (issue target l); run with ``make bench`` or
``python benchmarks/bench_history.py`` (``--quick`` for fewer rounds).

l1. 10,000 jobs x 4 transitions (QUEUED, VALIDATING, RUNNING, DONE) with the history on
    against off, in the same run, alternating: the process's CPU time (every thread,
    the history's included, from the first job made until the history is written; the
    history was enabled before, as a kernel enables it when it starts) and the wall
    time. Apart from it, the CPU time of the processes this one started and
    reaped meanwhile (the history's writer process, whole life: its start-up, its
    writing, and its closing after the measured time), which competes for the cores. Two
    workloads: "burst" pushes every transition as fast as one thread can, "paced"
    spreads them over about 1 s from a worker thread, as a busy backend does.
l2. ``history.query(text=...)`` and ``GET /jobwidgets/api/history?text=...`` (a real
    ``jupyter server``), first page of 50 with the total, over 100,000 records: a text
    that many records match, and one that only a few match (a scan of every record);
    also the CPU time of what the server's handler runs for it (the page and its total,
    ``query_file(..., total=True)``, in this process), which a busy machine does not
    stretch as it stretches wall times.

Prints a Markdown table of the results. Files go to a temporary folder. The code
measured is the ``jobwidgets`` that Python imports (the server too is given its folder):
``PYTHONPATH=<another checkout>/src`` measures that one with this same script.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import jobwidgets
from jobwidgets import BaseJob, JobStatus, history
from jobwidgets.history import records as history_records
from jobwidgets.history.query import query_file
from jobwidgets.history.records import COLUMNS
from jobwidgets.history.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(jobwidgets.__file__).resolve().parents[1]
"""The folder of the jobwidgets measured (the server imports it too)."""
JOBS = 10_000
RECORDS = 100_000
TRANSITIONS = (JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING, JobStatus.DONE)


class Backend:
    name = "bench"


BACKEND = Backend()
"""The backend of every job, as a backend's jobs share it (``--backend-per-job``: one each)."""
BACKEND_PER_JOB = False


class PushedJob(BaseJob):
    pushes_status = True

    def submit(self) -> None:
        self._report(JobStatus.QUEUED)

    def status(self) -> JobStatus:
        return self._recorded_status()

    def cancel(self) -> bool:
        return False

    def result(self) -> Any:
        return None


def push_all(jobs: list[PushedJob], seconds: float) -> None:
    """Every job through its 4 transitions, in 20 chunks spread over ``seconds``."""
    for status in TRANSITIONS:
        chunks = 5
        size = len(jobs) // chunks
        for start in range(0, len(jobs), size):
            for job in jobs[start : start + size]:
                job._report(status)
            if seconds:
                time.sleep(seconds / (chunks * len(TRANSITIONS)))


def children_cpu() -> float:
    """CPU seconds of this process's reaped child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def workload(kind: str, folder: Path | None) -> tuple[float, float, float, float]:
    """CPU seconds of one run, wall seconds until the jobs were done and until the
    history was written, and the CPU seconds of the child processes it started (the
    writer process, its whole life); ``folder``: the history on, written
    there. The history is enabled and its writer process ready before the measured
    time starts, as in a kernel, where it starts with the kernel; the measured time
    ends when every change is written (``history.flush()``). Each round starts from a
    collected heap (``gc.collect()``), with the history on and off alike."""
    children0 = children_cpu()
    if folder is not None:
        history.enable(folder / f"h-{time.monotonic_ns()}.sqlite3", interval=0.5)
        history.flush(timeout=60)  # the writer process has started and opened the file
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    jobs = [PushedJob(Backend() if BACKEND_PER_JOB else BACKEND, f"bench-{i}") for i in range(JOBS)]
    if kind == "paced":
        pusher = threading.Thread(target=push_all, args=(jobs, 1.0))
        pusher.start()
        pusher.join()
    else:
        push_all(jobs, 0)
    done = time.perf_counter() - wall0
    history.flush(timeout=60)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if folder is not None:
        history.disable()  # the writer process, if any, is reaped
        records = history.query(path=next(folder.glob("h-*.sqlite3")), limit=None)
        assert len(records) == JOBS
        assert {r.status for r in records} == {"DONE"}
        for path in folder.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    assert all(job.state is JobStatus.DONE for job in jobs)
    return cpu, done, wall, children_cpu() - children0


def l1(rounds: int, folder: Path) -> list[str]:
    """The rows of l1. The machine's own noise (10-40 % between rounds of the same work)
    is larger than the target, so besides the ratio of the medians it gives the ratios
    of each round with the history on to the round just before it with it off (their
    median and quartiles), and the ratio of the fastest rounds (noise only adds time)."""
    lines = []
    for kind in ("burst", "paced"):
        off: list[tuple[float, ...]] = []
        on: list[tuple[float, ...]] = []
        workload(kind, None)  # warm up
        for _ in range(rounds):
            off.append(workload(kind, None))
            on.append(workload(kind, folder))

        def median(runs: list[tuple[float, ...]], i: int) -> float:
            return statistics.median(run[i] for run in runs)

        pairs = [a[0] / b[0] for a, b in zip(on, off, strict=True)]
        low, mid, high = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else pairs * 3
        cpu_on, cpu_off = median(on, 0), median(off, 0)
        per_job = (cpu_on - cpu_off) / JOBS * 1e6
        fastest = min(run[0] for run in on) / min(run[0] for run in off)
        lines.append(
            f"| l1 | {kind} | {cpu_on:.3f} s / {cpu_off:.3f} s "
            f"= **{cpu_on / cpu_off:.2f}x** ({per_job:.1f} µs more a job); pairs {mid:.2f}x "
            f"({low:.2f}-{high:.2f}); fastest {fastest:.2f}x | {median(on, 1):.3f} s / "
            f"{median(off, 1):.3f} s = "
            f"{median(on, 1) / median(off, 1):.2f}x | {median(on, 2):.3f} s / "
            f"{median(off, 2):.3f} s = {median(on, 2) / median(off, 2):.2f}x | "
            f"{median(on, 3):.3f} s | {rounds} each | <= 1.05x |"
        )
    return lines


def fill(path: Path) -> None:
    """100,000 records over 90 days: 1 in 5 failed, 1 in 1,000 with a rare error text."""
    conn = open_store(path)
    searched = hasattr(history_records, "search_text")
    rng = random.Random(13)
    now = time.time()
    rows = []
    for n in range(RECORDS):
        created = now - rng.random() * 90 * 86400
        failed = n % 5 == 0
        error = None
        if failed:
            error = "ZeroDivisionError: rare needle" if n % 1000 == 0 else "ValueError: bad input"
        values = {
            "id": f"bench-{n}",
            "job_id": f"job-{n:06d}",
            "backend": rng.choice(["local-thread", "dask", "aer_simulator"]),
            "status": "ERROR" if failed else "DONE",
            "created_at": created,
            "submitted_at": created + 0.01,
            "started_at": created + 0.1,
            "finished_at": created + 2,
            "progress": None,
            "error": error,
            "error_traceback": ("Traceback ...\n" * 10) if failed else None,
            "log_tail": None,
            "tags": "[]",
            "job_class": "jobwidgets.backends.local.LocalJob",
            "kernel_id": "k-1",
            "notebook": f"project/analysis-{n % 20}.ipynb",
            "kernel_ended": 0,
            "updated_at": created + 2,
        }
        row = [*[values[c] for c in COLUMNS], "bench-run"]
        if searched:  # the schema since version 2: the text the text filter reads
            fields = [values[c] for c in ("job_id", "backend", "job_class", "notebook", "error")]
            row.append(history_records.search_text(*fields, values["tags"]))
        rows.append(tuple(row))
    names = ", ".join([*COLUMNS, "run_id", *(["search"] if searched else [])])
    marks = ", ".join("?" * len(rows[0]))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO jobs ({names}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    conn.close()


def timed(fn: Any, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def start_server(home: Path, path: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    config = home / "config" / "jupyter_server_config.d"
    config.mkdir(parents=True)
    shutil.copy(ROOT / "jupyter-config" / "jupyter_server_config.d" / "jobwidgets.json", config)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"))
    env.update(JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    env.update(JOBWIDGETS_HISTORY=str(path))
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1"]
    command += [f"--ServerApp.port={port}", f"--IdentityProvider.token={token}"]
    command += [f"--ServerApp.root_dir={home}", "--allow-root"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/jobwidgets/api/history"
    for _ in range(200):
        try:
            get(url, token, "limit=0")
            break
        except OSError:
            time.sleep(0.3)
    return process, url, token


def get(url: str, token: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}?{query}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def l2(runs: int, folder: Path) -> list[str]:
    path = folder / "big.sqlite3"
    fill(path)
    lines = []
    process, url, token = start_server(folder / "server", path)
    try:
        cases: list[tuple[str, dict[str, str], int]] = [
            ("`text='bad input'`, many match", {"text": "bad input"}, 19_900),
            ("`text='rare needle'`, few match", {"text": "rare needle"}, 100),
            ("`status=ERROR` (no text)", {"status": "ERROR"}, 20_000),
            ("no filter (the panel's first view)", {}, RECORDS),
        ]
        for label, filters, expected in cases:
            found = history.query(limit=50, path=path, **filters)
            assert len(found) == 50

            def page(f: dict[str, str] = filters) -> None:
                history.query(limit=50, path=path, **f)

            median, worst = timed(page, runs)
            cpu = []
            for _ in range(runs):
                start = time.process_time()
                _, total = query_file(path, limit=50, total=True, **filters)
                cpu.append((time.process_time() - start) * 1000)
            assert total == expected, total
            query = urllib.parse.urlencode({**filters, "limit": 50})
            body = get(url, token, query)
            assert body["total"] == expected, body["total"]
            rest, rest_worst = timed(lambda q=query: get(url, token, q), runs)
            lines.append(
                f"| l2 | {label}: {expected:,} of {RECORDS:,} | query(): median {median:.1f} ms, "
                f"max {worst:.1f} | REST with total: median {rest:.1f} ms, max "
                f"{rest_worst:.1f} | the handler's query, CPU: median "
                f"{statistics.median(cpu):.1f} ms, max {max(cpu):.1f} | {runs} each | <= 100 ms |"
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--only", choices=["l1", "l2"], help="run one row")
    parser.add_argument("--rounds", type=int, help="l1's rounds of each (default 15)")
    parser.add_argument(
        "--backend-per-job", action="store_true", help="l1: a backend object for each job"
    )
    args = parser.parse_args()
    rounds, runs = (3, 5) if args.quick else (15, 20)
    if args.rounds:
        rounds = args.rounds
    global BACKEND_PER_JOB
    BACKEND_PER_JOB = args.backend_per_job
    folder = Path(tempfile.mkdtemp(prefix="jobwidgets-bench-history-"))
    try:
        print(f"Python {platform.python_version()}, {os.cpu_count()} cores, SQLite "
              f"{sqlite3.sqlite_version}")  # fmt: skip
        print(f"jobwidgets from {SRC}")
        print(
            "| # | workload | process CPU, on / off | wall until the jobs are done, on / off "
            "| wall until the history is written, on / off | writer process CPU (on) | runs "
            "| target |"
        )
        print("|---|---|---|---|---|---|---|---|")
        if args.only != "l2":
            for line in l1(rounds, folder):
                print(line, flush=True)
        if args.only != "l1":
            print("\n| # | search | `history.query()`, first page | REST, with the total | "
                  "the handler's query alone, CPU | runs | target |")  # fmt: skip
            print("|---|---|---|---|---|---|---|")
            for line in l2(runs, folder):
                print(line, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
