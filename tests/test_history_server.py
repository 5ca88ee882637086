"""The history's REST API: a real ``jupyter server`` on 127.0.0.1, with a token, enabled
by the config file the wheel ships, serving a history file under ``tmp_path``."""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from _jobs import FakeBackend, PushJob
from jobwidgets import JobStatus, history

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "jupyter-config" / "jupyter_server_config.d" / "jobwidgets.json"
ROUTE = "/jobwidgets/api/history"


class Server:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def call(
        self, method: str, query: Any = (), *, token: bool = True, headers: Any = None
    ) -> tuple[int, Any]:
        url = f"{self.url}{ROUTE}?{urllib.parse.urlencode(query, doseq=True)}"
        request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
        if token:
            request.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                return exc.code, json.loads(body)
            except ValueError:
                return exc.code, body.decode(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jupyter_server(home: Path, history_setting: str) -> Iterator[Server]:
    """``jupyter server`` with its folders under ``home``; no kernel is started."""
    config = home / "config" / "jupyter_server_config.d"
    config.mkdir(parents=True)
    shutil.copy(CONFIG, config / "jobwidgets.json")
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        JOBWIDGETS_HISTORY=history_setting,
        PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (home / "server.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", token)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                status, _ = server.call("GET", {"limit": 0})
                if status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                msg = (
                    f"jupyter server did not serve the history: {(home / 'server.log').read_text()}"
                )
                raise AssertionError(msg)
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[str]]]:
    """A server over a history of 30 jobs: ids ``job-00`` (oldest) to ``job-29``; every
    third is an ERROR, on the backend ``remote``; the others are DONE on ``local``."""
    home = tmp_path_factory.mktemp("server")
    path = home / "history.sqlite3"
    history.enable(path, interval=0.05)
    try:
        for n in range(30):
            failed = n % 3 == 0
            job = PushJob(
                job_id=f"job-{n:02d}", backend=FakeBackend("remote" if failed else "local")
            )
            job.submit()
            job.push(JobStatus.RUNNING)
            if failed:
                job.push(JobStatus.ERROR, error=f"ValueError: bad input {n}")
            else:
                job.push(JobStatus.DONE)
            time.sleep(0.002)  # distinct creation times
    finally:
        history.disable()
    with jupyter_server(home, str(path)) as server:
        yield server, [f"job-{n:02d}" for n in reversed(range(30))]


def ids(body: Any) -> list[str]:
    return [record["job_id"] for record in body["records"]]


def test_requests_without_a_token_are_refused(served: tuple[Server, list[str]]) -> None:
    server, _ = served
    for method in ("GET", "DELETE"):
        status, body = server.call(method, token=False)
        assert status == 403, body
    status, body = server.call("GET", headers={"Authorization": "token wrong"}, token=False)
    assert status == 403


def test_filters_and_paging(served: tuple[Server, list[str]]) -> None:
    server, newest_first = served
    status, body = server.call("GET")
    assert status == 200
    assert ids(body) == newest_first
    assert (body["total"], body["limit"], body["offset"], body["enabled"]) == (30, 50, 0, True)
    record = body["records"][0]
    assert set(record) == {
        "id", "job_id", "backend", "status", "created_at", "submitted_at", "started_at",
        "finished_at", "progress", "error", "error_traceback", "log_tail", "tags",
        "job_class", "kernel_id", "notebook", "kernel_ended", "updated_at",
    }  # fmt: skip
    assert record["status"] == "DONE" and record["tags"] == [] and record["kernel_ended"] is False
    _, page = server.call("GET", {"limit": 5, "offset": 10})
    assert ids(page) == newest_first[10:15] and page["total"] == 30
    _, errors = server.call("GET", {"status": "ERROR"})
    assert ids(errors) == [i for i in newest_first if int(i[4:]) % 3 == 0]
    assert errors["total"] == 10 and errors["records"][0]["error"] == "ValueError: bad input 27"
    _, both = server.call("GET", [("status", "ERROR"), ("status", "DONE"), ("limit", 3)])
    assert both["total"] == 30 and len(both["records"]) == 3
    _, comma = server.call("GET", {"status": "error,done"})
    assert comma["total"] == 30
    _, remote = server.call("GET", {"backend": "remote", "text": "input 1"})
    assert ids(remote) == ["job-18", "job-15", "job-12"] and remote["total"] == 3
    _, text_page = server.call("GET", {"text": "job-", "limit": 4, "offset": 2})
    assert ids(text_page) == newest_first[2:6] and text_page["total"] == 30
    _, recent = server.call("GET", {"since": "1h", "until": str(time.time() + 60)})
    assert recent["total"] == 30
    _, none = server.call("GET", {"since": "2999-01-01T00:00:00"})
    assert none["records"] == [] and none["total"] == 0
    _, nb = server.call("GET", {"notebook": "nowhere.ipynb"})
    assert nb["total"] == 0


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"status": "FINISHED"}, "status"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-2"}, "offset"),
        ({"since": "yesterday"}, "since"),
        ({"until": "soon"}, "until"),
    ],
)
def test_bad_filters_answer_400_naming_them(
    served: tuple[Server, list[str]], query: dict[str, str], named: str
) -> None:
    server, _ = served
    status, body = server.call("GET", query)
    assert status == 400
    assert body["message"].startswith(named), body


def test_delete_is_xsrf_protected_and_deletes_what_matches(
    served: tuple[Server, list[str]],
) -> None:
    server, _ = served
    # a browser session: the login cookie, and the _xsrf cookie the server sets
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{server.url}/login?next=%2Fapi%2Fstatus", timeout=30).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    form = urllib.parse.urlencode({"password": server.token, "_xsrf": xsrf}).encode()
    opener.open(f"{server.url}/login", data=form, timeout=30).read()
    url = f"{server.url}{ROUTE}?status=ERROR&until=2999-01-01"
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(urllib.request.Request(url, method="DELETE"), timeout=30)
    assert refused.value.code == 403
    assert server.call("GET", {"status": "ERROR"})[1]["total"] == 10
    request = urllib.request.Request(url, method="DELETE", headers={"X-XSRFToken": xsrf})
    with opener.open(request, timeout=30) as answer:
        assert json.loads(answer.read()) == {"deleted": 10}
    status, body = server.call("DELETE", {"status": "FINISHED"})
    assert status == 400 and body["message"].startswith("status")
    status, body = server.call("DELETE", {"backend": "nothing-here"})
    assert (status, body) == (200, {"deleted": 0})
    assert server.call("GET")[1]["total"] == 20


def test_with_history_off_the_api_answers_an_empty_list(tmp_path: Path) -> None:
    with jupyter_server(tmp_path, "off") as server:
        status, body = server.call("GET")
        assert (status, body["records"], body["total"], body["enabled"]) == (200, [], 0, False)
        assert server.call("GET", {"status": "FINISHED"})[0] == 400
        assert server.call("DELETE")[1] == {"deleted": 0}
    assert not (tmp_path / "data" / "jobwidgets").exists()
