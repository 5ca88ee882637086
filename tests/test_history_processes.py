"""The history across processes: writers at once, a read-only folder, a killed kernel,
and the command line. Real processes, real SQLite files under ``tmp_path``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from jobwidgets import history

SRC = str(Path(__file__).resolve().parents[1] / "src")

JOB = """
from jobwidgets import BaseJob, JobStatus, history

class Job(BaseJob):
    pushes_status = True
    def submit(self): self._report(JobStatus.QUEUED)
    def status(self): return self._recorded_status()
    def cancel(self): return False
    def result(self): return None
"""
"""A job that a script pushes through its states (the scripts below use it)."""

WRITER = (
    """
import sys
"""
    + JOB
    + """
worker, count = sys.argv[1], int(sys.argv[2])
history.enable(sys.argv[3], interval=0.05)
for n in range(count):
    job = Job("backend-" + worker, f"w{worker}-{n}")
    job.submit()                          # QUEUED
    job._report(JobStatus.VALIDATING)
    job._report(JobStatus.RUNNING)
    failed = n % 2 == 0
    job._report(JobStatus.ERROR if failed else JobStatus.DONE, error="failed" if failed else None)
history.disable()
print("ok")
"""
)


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = SRC + os.pathsep + out.get("PYTHONPATH", "")
    out.update(extra)
    return out


def test_four_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(worker), "2000", str(path)],
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0 and out.strip() == "ok", err
        assert "HistoryWarning" not in err, err
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT job_id, status, error, kernel_ended FROM jobs").fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    expected = {
        f"w{w}-{n}": ("DONE", None) if n % 2 else ("ERROR", "failed")
        for w in range(4)
        for n in range(2000)
    }
    assert len(rows) == len(expected)
    assert {job_id: (status, error) for job_id, status, error, _ in rows} == expected
    assert not any(ended for *_, ended in rows)


def run_as_owner_without_root(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command so that folder permissions bind it: as root, in a user namespace."""
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.skip("running as root, and no unshare to drop the root's powers")
        probe = subprocess.run(["unshare", "--user", "true"], capture_output=True, check=False)
        if probe.returncode != 0:
            pytest.skip("running as root, and user namespaces are not allowed here")
        args = ["unshare", "--user", *args]
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


READ_ONLY = """
import warnings, sys
warnings.simplefilter("always")
from jobwidgets import LocalBackend, history
history.enable(sys.argv[1], interval=0.02)
backend = LocalBackend(max_workers=2)
for _ in range(3):
    jobs = [backend.run(sum, range(10)) for _ in range(5)]
    print(sum(job.result(timeout=10) for job in jobs))
    history.flush()
backend.close()
history.disable()
"""


def test_a_read_only_folder_gives_one_warning_and_jobs_run(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        done = run_as_owner_without_root(
            [sys.executable, "-c", READ_ONLY, str(folder / "history.sqlite3")],
            env=env(),
            timeout=60,
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["225", "225", "225"]
    assert done.stderr.count("HistoryWarning") == 1, done.stderr
    assert "can't be written" in done.stderr
    assert list(folder.iterdir()) == []


def test_a_killed_kernel_leaves_its_jobs_marked_kernel_ended(tmp_path: Path) -> None:
    from jupyter_client.manager import KernelManager

    path = tmp_path / "history.sqlite3"
    for name in ("runtime", "ipython", "config", "data"):
        (tmp_path / name).mkdir()
    kernel_env = env(
        JOBWIDGETS_HISTORY=str(path),
        JPY_SESSION_NAME="work/analysis.ipynb",
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    old = os.environ.get("JUPYTER_RUNTIME_DIR")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")  # the connection file
    try:
        killed_id = run_kernel_and_kill(kernel_env, path)
        # the next kernel's writer marks the jobs of the killed one at its start
        km = KernelManager()
        km.start_kernel(env=kernel_env)
        try:
            client = km.client()
            client.start_channels()
            client.wait_for_ready(timeout=60)
            # its writer marks at its start, on its own thread: wait for that thread
            reply = client.execute_interactive(
                "import jobwidgets.history\nassert jobwidgets.history.flush(30)", timeout=60
            )
            assert reply["content"]["status"] == "ok", reply["content"]
            client.stop_channels()
        finally:
            km.shutdown_kernel(now=True)
    finally:
        if old is None:
            os.environ.pop("JUPYTER_RUNTIME_DIR", None)
        else:
            os.environ["JUPYTER_RUNTIME_DIR"] = old
    records = history.query(path=path)
    by_id = {r.job_id: r for r in records}
    assert len(records) == 4
    running = [r for r in records if r.status == "RUNNING"]
    assert len(running) == 3
    assert all(r.kernel_ended and r.status_text.endswith("kernel ended") for r in running)
    assert not by_id["local-thread-1"].kernel_ended  # final: no mark
    assert {(r.kernel_id, r.notebook) for r in records} == {(killed_id, "work/analysis.ipynb")}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def run_kernel_and_kill(kernel_env: dict[str, str], path: Path) -> str:
    from jupyter_client.manager import KernelManager

    # named as Jupyter Server names a kernel's connection file
    kernel_id = str(uuid.uuid4())
    runtime = Path(kernel_env["JUPYTER_RUNTIME_DIR"])
    km = KernelManager(
        kernel_id=kernel_id, connection_file=str(runtime / f"kernel-{kernel_id}.json")
    )
    km.start_kernel(env=kernel_env)
    try:
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        code = (
            "import time, jobwidgets as jw\n"
            "b = jw.LocalBackend(max_workers=4)\n"
            "first = b.run(sum, range(10)); first.result(timeout=10)\n"
            "jobs = [b.run(time.sleep, 600) for _ in range(3)]\n"
        )
        reply = client.execute_interactive(code, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the writer wrote the RUNNING jobs
            if path.exists():
                records = history.query(path=path)
                if sum(r.status == "RUNNING" for r in records) == 3:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the kernel's jobs never reached the history")
        client.stop_channels()
    finally:
        km.signal_kernel(signal.SIGKILL)
        deadline = time.monotonic() + 30
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        km.cleanup_resources()
    return kernel_id


def test_the_command_line_prints_filters_and_refuses_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", WRITER, "7", "4", str(path)], env=env(), capture_output=True
    )
    assert done.returncode == 0, done.stderr

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jobwidgets", "history", *args],
            env=env(JOBWIDGETS_HISTORY=str(path)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    table = cli()
    assert table.returncode == 0, table.stderr
    assert "w7-3" in table.stdout and "4 of 4 job(s)" in table.stdout
    errors = cli("--status", "ERROR", "--since", "2d", "--json")
    assert errors.returncode == 0, errors.stderr
    assert [r["job_id"] for r in json.loads(errors.stdout)] == ["w7-2", "w7-0"]
    csv_out = cli("--csv", "--status", "DONE")
    assert csv_out.stdout.splitlines()[0].startswith("id,job_id,")
    assert len(csv_out.stdout.splitlines()) == 3
    bad = cli("--since", "yesterday")
    assert bad.returncode == 2 and "since must be" in bad.stderr
    unknown = cli("--status", "FINISHED")
    assert unknown.returncode == 2 and "status must be one of" in unknown.stderr
    cleared = cli("--clear", "--status", "ERROR")
    assert cleared.returncode == 0 and "deleted 2 record(s)" in cleared.stdout
    off = subprocess.run(
        [sys.executable, "-m", "jobwidgets", "history"],
        env=env(JOBWIDGETS_HISTORY="off"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert off.returncode == 0 and "off" in off.stderr


FULL_DISK = (
    """
import resource, signal, sys, warnings
warnings.simplefilter("always")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))  # a disk with 300 kB free
"""
    + JOB
    + """
history.enable(sys.argv[1], interval=0.02)
done = 0
for batch in range(50):
    for n in range(100):
        job = Job("full", f"job-{batch}-{n}")
        job.submit()
        job._report(JobStatus.ERROR, error="x" * 200)
        done += job.status() is JobStatus.ERROR
    history.flush()
history.disable()
print(done)
"""
)


def test_a_full_disk_gives_one_warning_and_jobs_run(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5000"
    assert done.stderr.count("HistoryWarning") == 1, done.stderr
    assert "can't be written" in done.stderr
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    assert 0 < kept < 5000  # what fitted was written, and the file is whole


KILLED = (
    """
import os, signal, sys, time
"""
    + JOB
    + """
history.enable(sys.argv[1], interval=0.05)
early = [Job("b", f"early-{n}") for n in range(3)]
for job in early:
    job.submit()
    job._report(JobStatus.RUNNING)
history.flush()
writer = history._writer
print(writer._proc.pid, flush=True)
sys.stdin.readline()                      # the test stopped the writer process
late = [Job("b", f"late-{n}") for n in range(4)]
for n, job in enumerate(late):
    job.submit()
    job._report(JobStatus.RUNNING)
    if n % 2:
        job._report(JobStatus.DONE)
while writer._queue.qsize() or not writer._unacked:  # the batch is in the pipe
    time.sleep(0.01)
os.kill(os.getpid(), signal.SIGKILL)
"""
)


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie that its new parent did not reap counts)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.split()[1:2] == ["Z"] for line in status if line.startswith("State:"))
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_recording_process_killed_leaves_its_writer_process_to_write_its_last_batch(
    tmp_path: Path,
) -> None:
    """SIGKILL of the recording process: the writer process still writes the batch it was
    sent, marks the unfinished jobs "kernel ended", and exits."""
    path = tmp_path / "history.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(path)],
        env=env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    child = int(proc.stdout.readline())
    os.kill(child, signal.SIGSTOP)  # so the last batch waits, unread, in its pipe
    try:
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(60) == -signal.SIGKILL
    finally:
        os.kill(child, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)
    records = {r.job_id: r for r in history.query(path=path)}
    assert {job_id: (r.status, r.kernel_ended) for job_id, r in records.items()} == {
        "early-0": ("RUNNING", True),
        "early-1": ("RUNNING", True),
        "early-2": ("RUNNING", True),
        "late-0": ("RUNNING", True),
        "late-1": ("DONE", False),
        "late-2": ("RUNNING", True),
        "late-3": ("DONE", False),
    }
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


ORPHANED = """
import json, os, subprocess, sys
from jobwidgets.history import writer
read, write = os.pipe()
args = {"path": sys.argv[1], "run_id": "orphan", "prefix": "p", "kernel_id": None,
        "notebook": None, "retention_days": None, "max_jobs": None, "parent": os.getpid()}
child = subprocess.Popen(
    [sys.executable, "-S", "-c", writer._BOOT, writer._PACKAGE_ROOT],
    stdin=read, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    env={**os.environ, "JOBWIDGETS_HISTORY_WRITER": json.dumps(args)},
)
holder = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=[write],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
print(child.pid, holder.pid, flush=True)
os._exit(0)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_writer_process_whose_parent_is_gone_exits_though_its_input_stays_open(
    tmp_path: Path,
) -> None:
    """Another process holding the writer process's input open (a child the recording
    process forked) does not keep it alive after its parent ended."""
    done = subprocess.run(
        [sys.executable, "-c", ORPHANED, str(tmp_path / "h.sqlite3")],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    child, holder = (int(pid) for pid in done.stdout.split())
    try:
        deadline = time.monotonic() + 20
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child)
        assert not _gone(holder)  # the input was still open
    finally:
        os.kill(holder, signal.SIGKILL)
