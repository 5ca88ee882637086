"""Fixtures for the browser tests: a real JupyterLab on 127.0.0.1 and Debian's Chromium.

JupyterLab runs from this checkout's virtual environment, with project-local Jupyter
folders, on a free port with a random token. Chromium is launched by Playwright with a
fresh profile. Screenshots go to ``artifacts/ui/`` (git-ignored).

The plain helpers (``running_lab``, ``chromium``, ``Notebook``, ``write_notebook``) are
also used by ``benchmarks/bench_browser.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LabError(RuntimeError):
    """JupyterLab or the browser did not do what a helper waited for."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    """A running JupyterLab server and a way to talk to its REST API."""

    def __init__(self, url: str, token: str, root: Path) -> None:
        self.url = url
        self.token = token
        self.root = root

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def shutdown_kernels(self) -> None:
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")


@contextmanager
def running_lab(home: Path, root: Path, log_path: Path) -> Iterator[Lab]:
    """Start JupyterLab with its Jupyter folders under ``home``, serving ``root``."""
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        # the user folders first, also in a virtual environment (jupyter_core would put
        # the environment's first, and serve the environment's build of the panel)
        JUPYTER_PREFER_ENV_PATH="0",
    )
    # The panel under test is this tree's build, whatever the environment installed
    # (the user data folder comes first in JupyterLab's extension path).
    built = ROOT / "src" / "jobwidgets" / "labextension"
    if (built / "package.json").is_file():
        extensions = home / "data" / "labextensions"
        extensions.mkdir(parents=True, exist_ok=True)
        if not (extensions / "jobwidgets").exists():
            (extensions / "jobwidgets").symlink_to(built, target_is_directory=True)
    # No "get notified about official Jupyter news?" toast over the widgets.
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # Notebook 7 exposes its app as window.jupyterapp too, for the same helpers
    (home / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"JupyterNotebookApp": {"expose_app_in_browser": True}})
    )
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", token, root)
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                server.api("GET", "/api/status")
                break
            except OSError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    msg = f"JupyterLab did not start; see {log_path}"
                    raise LabError(msg) from exc
                time.sleep(0.5)
        yield server
    finally:
        try:
            if process.poll() is None:
                server.shutdown_kernels()
        except OSError:
            pass
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A Playwright persistent context of Debian's Chromium, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """Write a notebook of code ``cells`` into the lab root; return its name."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(notebook, str(root / name))
    return name


_NB = "window.jupyterapp.shell.currentWidget"

_OUTPUT_TEXT = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const outs = cell.model.outputs ? cell.model.outputs.toJSON() : [];
  return outs.map((o) => {
    if (o.output_type === 'stream') return Array.isArray(o.text) ? o.text.join('') : o.text;
    if (o.output_type === 'error') return o.ename + ': ' + o.evalue;
    const d = o.data || {};
    const t = d['text/plain'];
    return t === undefined ? '' : (Array.isArray(t) ? t.join('') : t);
  }).join('\\n');
}"""


_ERRORS = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const outs = cell.model.outputs ? cell.model.outputs.toJSON() : [];
  return outs.filter((o) => o.output_type === 'error').map((o) => o.ename + ': ' + o.evalue);
}"""


class Notebook:
    """Drive one open notebook in JupyterLab through ``window.jupyterapp``.

    Commands are started without awaiting their promise (``page.evaluate`` would wait
    for the cell to finish); the helpers then poll the notebook model.
    """

    def __init__(
        self, page: Any, lab: Lab, name: str, timeout: float = 60, front_end: str = "lab"
    ) -> None:
        """Open notebook ``name`` in JupyterLab, or in Notebook 7 (``front_end="notebook"``)."""
        self.page = page
        self.lab = lab
        self.name = name
        if front_end == "notebook":
            page.goto(f"{lab.url}/notebooks/{name}?token={lab.token}")
        else:
            page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
        page.wait_for_function(
            f"""() => {{
              const w = window.jupyterapp && {_NB};
              const k = w && w.sessionContext && w.sessionContext.session
                && w.sessionContext.session.kernel;
              return !!(k && k.connectionStatus === 'connected' && k.status === 'idle'
                && w.content && w.content.widgets.length > 0);
            }}""",
            timeout=timeout * 1000,
        )

    # ------------------------------------------------------------------ commands
    def command(self, name: str) -> None:
        """Start a JupyterLab command; do not wait for it."""
        self.page.evaluate(
            "(name) => { window.jupyterapp.commands.execute(name); }",
            name,
        )

    def select(self, index: int) -> None:
        self.page.evaluate(f"(i) => {{ {_NB}.content.activeCellIndex = i; }}", index)

    def run_cell(self, index: int) -> None:
        """Start running cell ``index`` (it may queue behind a running cell)."""
        self._record_inputs()
        self.select(index)
        self.command("notebook:run-cell")

    def _record_inputs(self) -> None:
        """Keep, on the kernel connection, the code of each cell the main shell starts.

        The kernel's ``status`` is no proof that a cell runs: a request on a subshell
        (a table's sync, say) publishes its own busy/idle, and JupyterLab then shows the
        kernel idle while the main shell still runs the cell. The main shell's
        ``execute_input`` is.
        """
        self.page.evaluate(
            f"""() => {{
              const k = {_NB}.sessionContext.session.kernel;
              if (k.__jwInputs) return;
              k.__jwInputs = [];
              k.anyMessage.connect((_, args) => {{
                const m = args.msg;
                if (args.direction === 'recv' && m.channel === 'iopub'
                    && m.header.msg_type === 'execute_input'
                    && !(m.parent_header && m.parent_header.subshell_id)) {{
                  k.__jwInputs.push(m.content.code);
                }}
              }});
            }}"""
        )

    def wait_started(self, index: int, timeout: float = 30) -> None:
        """Wait until the kernel's main shell has started running cell ``index``
        (started with ``run_cell``)."""
        self.page.wait_for_function(
            f"""(i) => {{
              const w = {_NB};
              const k = w.sessionContext.session.kernel;
              const code = w.content.widgets[i].model.sharedModel.getSource();
              return !!(k.__jwInputs && k.__jwInputs.includes(code));
            }}""",
            arg=index,
            timeout=timeout * 1000,
            polling=50,
        )

    def run_all(self) -> None:
        self.command("notebook:run-all-cells")

    @property
    def cell_count(self) -> int:
        return int(self.page.evaluate(f"() => {_NB}.content.widgets.length"))

    def append(self, code: str) -> int:
        """Add a code cell with ``code`` at the end; return its index."""
        return int(
            self.page.evaluate(
                f"""(code) => {{
                  const nb = {_NB}.content;
                  nb.activeCellIndex = nb.widgets.length - 1;
                  window.jupyterapp.commands.execute('notebook:insert-cell-below');
                  nb.activeCell.model.sharedModel.setSource(code);
                  return nb.activeCellIndex;
                }}""",
                code,
            )
        )

    # ------------------------------------------------------------------ waiting
    def cell_finished(self, index: int) -> bool:
        return bool(
            self.page.evaluate(
                f"""(i) => {{
                  const m = {_NB}.content.widgets[i].model;
                  return m.type !== 'code'
                    || (m.executionCount !== null && m.executionState !== 'running');
                }}""",
                index,
            )
        )

    def wait_cell(self, index: int, timeout: float = 60) -> str:
        """Wait until cell ``index`` has run; return its output text."""
        self.page.wait_for_function(
            f"""(i) => {{
              const m = {_NB}.content.widgets[i].model;
              return m.executionCount !== null && m.executionState !== 'running';
            }}""",
            arg=index,
            timeout=timeout * 1000,
            polling=50,
        )
        return self.output_text(index)

    def output_text(self, index: int) -> str:
        return str(self.page.evaluate(_OUTPUT_TEXT, index))

    def errors(self, index: int) -> list[str]:
        """The exceptions a cell raised (its ``error`` outputs), as ``Name: message``."""
        return [str(text) for text in self.page.evaluate(_ERRORS, index)]

    def run_code(self, code: str, timeout: float = 60) -> str:
        """Append a cell with ``code``, run it, wait for it, return its output text."""
        index = self.append(code)
        self.run_cell(index)
        return self.wait_cell(index, timeout)

    def wait_all_run(self, timeout: float = 120) -> None:
        """Wait until every code cell has an execution count and the kernel is idle."""
        self.page.wait_for_function(
            f"""() => {{
              const w = {_NB};
              if (w.sessionContext.session.kernel.status !== 'idle') return false;
              return w.content.widgets.every((c) => c.model.type !== 'code'
                || (c.model.executionCount !== null && c.model.executionState !== 'running'));
            }}""",
            timeout=timeout * 1000,
            polling=200,
        )

    def kernel_status(self) -> str:
        return str(self.page.evaluate(f"() => {_NB}.sessionContext.session.kernel.status"))

    def wait_idle(self, timeout: float = 15) -> None:
        """Wait until the kernel reports idle (the job panel's own requests, say, can
        make it busy for a moment)."""
        self.page.wait_for_function(
            f"() => {_NB}.sessionContext.session.kernel.status === 'idle'",
            timeout=timeout * 1000,
        )

    def cell_node(self, index: int) -> Any:
        """A locator of cell ``index``, scrolled into view (cells are virtualised)."""
        self.page.evaluate(
            f"(i) => {{ const nb = {_NB}.content; nb.scrollToItem(i, 'start'); }}", index
        )
        self.page.wait_for_function(
            f"(i) => {{ const c = {_NB}.content.widgets[i]; return c && c.node.isConnected; }}",
            arg=index,
        )
        # the cell's node carries no index attribute; address it through a marker
        self.page.evaluate(
            f"""(i) => {{
              document.querySelectorAll('[data-jw-cell]').forEach(
                (n) => n.removeAttribute('data-jw-cell'));
              {_NB}.content.widgets[i].node.setAttribute('data-jw-cell', String(i));
            }}""",
            index,
        )
        return self.page.locator(f'[data-jw-cell="{index}"]')


def screenshot(target: Any, name: str, full_page: bool = False) -> Path:
    """Save a screenshot of a page or an element (a Playwright locator) under artifacts/ui/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if hasattr(target, "goto"):
        target.screenshot(path=str(path), full_page=full_page)
    else:
        target.scroll_into_view_if_needed()
        target.screenshot(path=str(path))
    return path


# ---------------------------------------------------------------------- fixtures
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a browser test that takes more than 10 s")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    home = tmp_path_factory.mktemp("jupyter")
    root = tmp_path_factory.mktemp("lab-root")
    try:
        with running_lab(home, root, ARTIFACTS / "jupyterlab.log") as server:
            yield server
    except LabError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser_context: Any, lab: Lab) -> Iterator[Any]:
    page = browser_context.new_page()
    errors: list[str] = []
    console_errors: list[str] = []
    console_warnings: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on(
        "console",
        lambda msg: (
            console_errors.append(msg.text)
            if msg.type == "error"
            else console_warnings.append(msg.text)
            if msg.type == "warning"
            else None
        ),
    )
    page.errors = errors
    page.console_errors = console_errors
    page.console_warnings = console_warnings
    try:
        yield page
    finally:
        page.close()
        lab.shutdown_kernels()


# ---------------------------------------------------------------------- timing in the page
WS_TIMING_SCRIPT = """(() => {
  // Record when each large websocket message arrives, before JupyterLab handles it
  // (this listener is added in the constructor, so it runs before JupyterLab's onmessage).
  const Native = window.WebSocket;
  window.__wsLog = [];
  class TimedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const d = event.data;
        const size = typeof d === 'string' ? d.length : (d.byteLength ?? d.size ?? 0);
        if (size >= (window.__wsMinSize ?? 100000)) {
          window.__wsLog.push({t: performance.now(), size});
        }
      });
    }
  }
  window.WebSocket = TimedWebSocket;
})();"""
"""Add with ``page.add_init_script`` before ``goto``; read ``window.__wsLog``."""

WATCH_PAINT = """({title, status, count}) => {
  // Set window.__painted once the table titled `title` shows rows, its first row shows
  // `status` and the chip of `status` reads `count`: `seen` is when the DOM had them,
  // `painted` is after the next frame was drawn (performance.now() milliseconds).
  window.__painted = null;
  const ready = () => [...document.querySelectorAll('.jw-table')].some((t) => {
    const head = t.querySelector('.jw-title');
    const first = t.querySelector('.jw-body .jw-row .jw-pill-label');
    const chip = t.querySelector('.jw-chip.jw-st-' + status.toLowerCase());
    return head && head.textContent === title && first && first.textContent === status
      && chip && !chip.hidden
      && chip.querySelector('.jw-chip-count').textContent === String(count);
  });
  const observer = new MutationObserver(() => {
    if (!ready()) return;
    observer.disconnect();
    const seen = performance.now();
    requestAnimationFrame(() => setTimeout(() => {
      window.__painted = {seen, painted: performance.now()};
    }, 0));
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""

PUSH_JOBS = """\
import json, threading, time
import jobwidgets as jw
from jobwidgets import JobStatus
from jobwidgets.widgets import JobTable

class PushJob(jw.BaseJob):
    \"\"\"A job that changes only when told to: no timers, no polling.\"\"\"
    pushes_status = True
    def submit(self):
        self._report(JobStatus.QUEUED)
    def status(self):
        return self.state
    def cancel(self):
        return self._report(JobStatus.CANCELLED)
    def result(self, timeout=None):
        return None

class PushBackend:
    name = "push"

def push_jobs(n, prefix="push"):
    jobs = [PushJob(PushBackend(), f"{prefix}-{i:05d}") for i in range(n)]
    for job in jobs:
        job.submit()
    return jobs"""
"""Kernel code shared by the scale test and the browser benchmark."""
