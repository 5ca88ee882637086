"""``jobwidgets.ipython``: the Jupyter integration that ``import jobwidgets`` activates in
IPython, with and without the ``widgets`` extra.

Each case runs in a fresh interpreter (``import jobwidgets`` activates once per process),
with IPython loaded first, a kernel's shell faked by an ``InteractiveShell`` with a
``kernel``, and comms recorded instead of sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SCRIPT = """
import json, sys, threading, time

WIDGETS = {widgets!r}
if WIDGETS == "missing":
    sys.modules["anywidget"] = None  # the widgets extra is not installed
elif WIDGETS == "unbuilt":
    class Unbuilt:  # the front end was never built: importing the widgets says so
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "jobwidgets.widgets":
                raise FileNotFoundError("jobwidgets' front end is not built")
            return None
    sys.meta_path.insert(0, Unbuilt)

import comm
from comm.base_comm import BaseComm

sent = []

class Recording(BaseComm):
    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        sent.append({{"type": msg_type, "target": self.target_name, "data": data}})

comm.create_comm = Recording

from IPython.core.interactiveshell import InteractiveShell

class Kernel:  # a kernel's shell has one; JupyterLab's execute requests carry a cellId
    def get_parent(self, channel=None):
        return {{"metadata": {{"cellId": "cell-1"}}}}

shell = InteractiveShell.instance()
shell.kernel = Kernel()

import jobwidgets  # activates the Jupyter integration
from jobwidgets import feed, ipython, monitor, panel
from jobwidgets.job import BaseJob
from _jobs import PushJob

report = {{}}
formatter = shell.display_formatter.mimebundle_formatter
report["formatter"] = formatter.lookup_by_type(BaseJob) is ipython._job_bundle
report["target"] = panel.TARGET in comm.get_comm_manager().targets
report["announced"] = [
    m["data"] for m in sent if m["target"] == panel.ANNOUNCE_TARGET and m["type"] == "comm_open"
]
report["bridge"] = any(t.name == "jobwidgets-bridge" for t in threading.enumerate())
report["job_monitor_view"] = monitor.notebook_view is ipython._show_badge

job = PushJob(job_id="shown-<b>1</b>")
data, _ = shell.display_formatter.format(job)
report["mimes"] = sorted(data)
report["text"] = data.get("text/plain")
report["html"] = data.get("text/html")

# the panel lists the kernel's jobs over a comm, with or without the widgets extra
panel_comm = Recording(comm_id="panel-1", primary=False, target_name=panel.TARGET)
panel._on_comm_open(panel_comm, {{}})
deadline = time.monotonic() + 10
resets = []
while not resets and time.monotonic() < deadline:
    time.sleep(0.01)
    resets = [m["data"] for m in sent if m["target"] == panel.TARGET and m["type"] == "comm_msg"]
report["panel_rows"] = [row["job_id"] for row in resets[0]["rows"]] if resets else None
report["route"] = json.loads(feed.sync("panel-1"))
report["widget_modules"] = sorted(
    m for m, mod in sys.modules.items() if m.split(".")[0] in ("anywidget", "ipywidgets") and mod
)
print(json.dumps(report))
"""


def _activate(widgets: str) -> dict[str, object]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(widgets=widgets)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("widgets", ["installed", "missing", "unbuilt"])
def test_import_in_a_kernel_activates_the_integration(widgets: str) -> None:
    report = _activate(widgets)
    assert report["formatter"] is True
    assert report["target"] is True
    assert report["announced"] == [{"target": "jobwidgets.panel", "protocol": 1}]
    assert report["bridge"] is True
    assert report["job_monitor_view"] is True
    # the panel needs the core and a comm only
    assert report["panel_rows"] == ["shown-<b>1</b>"]
    assert report["route"] == {"ok": True}


@pytest.mark.parametrize("widgets", ["installed", "missing", "unbuilt"])
def test_a_job_displays_as_text_and_html_and_as_a_widget_where_one_renders(widgets: str) -> None:
    report = _activate(widgets)
    text, page = str(report["text"]), str(report["html"])
    assert text.startswith("… INITIALIZING shown-<b>1</b> [")
    assert "shown-&lt;b&gt;1&lt;/b&gt;" in page and "<b>" not in page
    widget_view = "application/vnd.jupyter.widget-view+json"
    if widgets == "installed":
        assert report["mimes"] == [widget_view, "text/html", "text/plain"]
    else:
        assert report["mimes"] == ["text/html", "text/plain"]
        assert report["widget_modules"] == []
