"""The table's Timeline view in a real JupyterLab and Chromium.

A notebook table holds jobs in several states (done, failed, cancelled, running, queued
behind a busy backend, and one never submitted). The user switches the table to
Timeline with the keyboard; the canvas draws each job's spans in its status colour (read
back from the canvas's pixels), a running job's span grows with the clock, hovering a
span shows a tooltip naming the job, clicking it opens the job's details, Up/Down and
Enter do the same from the keyboard, and the filter applies. Then the same in the
JupyterLab job panel, and screenshots in the light and dark themes.
"""

from __future__ import annotations

import json
import time
from typing import Any

from conftest import Lab, Notebook, screenshot, write_notebook

SETUP = """\
import json, time
import jobwidgets as jw
from jobwidgets.widgets import JobTable

class Unsubmitted(jw.BaseJob):
    def submit(self): pass
    def status(self): return self.state
    def cancel(self): return False
    def result(self, timeout=None): return None

fast = jw.SimulatedBackend(seed=3, init_time=0, queue_time=0, validation_time=0,
                           capacity=100, progress_steps=0, name="fast")
slow = jw.SimulatedBackend(seed=4, init_time=0, queue_time=0, validation_time=0,
                           capacity=1, progress_steps=0, name="one-slot")
done = [fast.run(run_time=0.6 * (i + 1)) for i in range(3)]
failed = fast.run(run_time=0.4, fail=True)
stopped = fast.run(run_time=600)
for j in done + [failed]:
    j.wait_for_final_state(timeout=10)
stopped.cancel()
running = slow.run(run_time=600)
waiting = slow.run(run_time=600)
fresh = Unsubmitted(slow, "not-submitted-yet")
jobs = done + [failed, stopped, running, waiting, fresh]
table = JobTable(jobs, title="Timeline")
print(json.dumps([j.job_id() for j in jobs]))
table"""

# timeline_geometry.js: the axis band is 24 px high, each lane 22 px
AXIS, LANE = 24, 22

# The pixels of one lane's middle line that have a colour: [[x0, x1], ...] runs of the
# colour `rgb` (within a tolerance), in canvas CSS pixels.
RUNS = """([canvas, lane, rgb]) => {
  const dpr = canvas.width / canvas.getBoundingClientRect().width;
  const y = Math.round((24 + lane * 22 + 11) * dpr);
  const data = canvas.getContext('2d').getImageData(0, y, canvas.width, 1).data;
  const runs = [];
  let start = -1;
  for (let x = 0; x <= canvas.width; x++) {
    const i = x * 4;
    const hit = x < canvas.width && Math.abs(data[i] - rgb[0]) <= 40
      && Math.abs(data[i + 1] - rgb[1]) <= 40 && Math.abs(data[i + 2] - rgb[2]) <= 40;
    if (hit && start < 0) start = x;
    if (!hit && start >= 0) { runs.push([start / dpr, x / dpr]); start = -1; }
  }
  return runs;
}"""

# a CSS variable of the table, as [r, g, b]
COLOUR = """([el, name]) => {
  const probe = document.createElement('span');
  probe.style.color = getComputedStyle(el).getPropertyValue(name);
  el.appendChild(probe);
  const m = getComputedStyle(probe).color.match(/\\d+/g).map(Number);
  probe.remove();
  return m.slice(0, 3);
}"""


def _widest(runs: list[list[float]]) -> list[float]:
    assert runs, "no pixels of the colour on the lane"
    return max(runs, key=lambda r: r[1] - r[0])


def _open(page: Any, lab: Lab) -> tuple[Notebook, Any, list[str]]:
    nb = Notebook(page, lab, write_notebook(lab.root, "timeline.ipynb", [SETUP]))
    nb.run_cell(0)
    ids = json.loads(nb.wait_cell(0, timeout=60).splitlines()[0])
    assert nb.errors(0) == []
    table = page.locator(".jw-table").first
    table.locator(".jw-body .jw-row").first.wait_for(timeout=15000)
    page.wait_for_function(
        "(el) => el.querySelector('.jw-chip.jw-st-running .jw-chip-count')?.textContent === '1'"
        " && el.querySelector('.jw-chip.jw-st-queued .jw-chip-count')?.textContent === '1'",
        arg=table.element_handle(),
        timeout=15000,
    )
    return nb, table, ids


def _switch_with_keyboard(page: Any, table: Any, to: str) -> None:
    button = table.locator(".jw-view-toggle button", has_text=to)
    button.focus()
    page.keyboard.press("Enter" if to == "Timeline" else "Space")
    assert button.get_attribute("aria-pressed") == "true"


def test_timeline_in_a_notebook(page: Any, lab: Lab) -> None:
    _nb, table, ids = _open(page, lab)
    order = [t.strip() for t in table.locator(".jw-body .jw-row .jw-c-id").all_inner_texts()]
    assert order == ids  # unsorted: the kernel's order, which the lanes follow
    toggle = table.locator(".jw-view-toggle")
    assert toggle.get_attribute("role") == "group"
    assert toggle.locator("button", has_text="Table").get_attribute("aria-pressed") == "true"

    _switch_with_keyboard(page, table, "Timeline")
    canvas = table.locator("canvas.jw-tl-canvas")
    canvas.wait_for(state="visible", timeout=5000)
    assert table.locator(".jw-grid").is_hidden()
    assert canvas.get_attribute("aria-label") == f"Timeline of {len(ids)} jobs"
    page.wait_for_function(
        "(el) => el.querySelector('.jw-tl-summary').textContent.startsWith('8 jobs from')",
        arg=table.element_handle(),
        timeout=5000,
    )
    handle = table.element_handle()
    colour = {
        name: page.evaluate(COLOUR, [handle, f"--jw-{name}"])
        for name in ("brand", "success", "error", "warn", "muted")
    }
    canvas_handle = canvas.element_handle()

    def runs(lane: int, name: str) -> list[list[float]]:
        return page.evaluate(RUNS, [canvas_handle, lane, colour[name]])

    # each job's run span in its status colour, on its own lane
    for lane in range(3):
        _widest(runs(lane, "success"))  # done
    _widest(runs(3, "error"))  # failed
    assert runs(3, "success") == []
    running_lane, waiting_lane = ids.index(ids[5]), ids.index(ids[6])
    _widest(runs(waiting_lane, "warn"))  # queued: its queue span
    assert runs(waiting_lane, "brand") == []
    first = _widest(runs(running_lane, "brand"))
    # the running job's span grows with the clock
    time.sleep(3.2)
    later = _widest(runs(running_lane, "brand"))
    assert later[1] - later[0] > first[1] - first[0] + 2, (first, later)
    screenshot(table, "timeline-light")

    # hovering the running job's span shows a tooltip naming it, as text
    box = canvas.bounding_box()
    x = (later[0] + later[1]) / 2
    y = AXIS + running_lane * LANE + LANE / 2
    page.mouse.move(box["x"] + x, box["y"] + y)
    tip = table.locator(".jw-tl-tip")
    tip.wait_for(state="visible", timeout=5000)
    text = tip.inner_text()
    assert ids[5] in text and "RUNNING" in text and "started" in text
    screenshot(table, "timeline-hover")
    # off the spans, no tooltip
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + AXIS + 0 * LANE + 3)
    tip.wait_for(state="hidden", timeout=5000)

    # clicking the span opens the job's details (the table's details region)
    page.mouse.click(box["x"] + x, box["y"] + y)
    details = table.locator(".jw-details")
    details.wait_for(state="visible", timeout=5000)
    assert ids[5] in details.locator(".jw-details-title").inner_text()
    assert canvas.get_attribute("aria-controls") == details.get_attribute("id")

    # the keyboard: Home, Down, Enter open the second job's details
    canvas.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "([el, id]) => el.querySelector('.jw-details-title').textContent.includes(id)",
        arg=[handle, ids[1]],
        timeout=5000,
    )
    assert ids[1] in table.locator(".jw-tl-current").inner_text()
    # End reaches the never-submitted job: a marker, no spans
    page.keyboard.press("End")
    page.wait_for_function(
        "([el, id]) => el.querySelector('.jw-tl-current').textContent.includes(id)",
        arg=[handle, ids[7]],
        timeout=5000,
    )
    assert "INITIALIZING" in table.locator(".jw-tl-current").inner_text()

    # the table's filter applies to the lanes
    table.locator("input.jw-filter-text").fill("one-slot")
    page.wait_for_function(
        "(el) => el.querySelector('canvas.jw-tl-canvas').getAttribute('aria-label')"
        " === 'Timeline of 3 jobs'",
        arg=handle,
        timeout=5000,
    )
    _widest(runs(0, "brand"))  # the running job is now the first lane
    table.locator("input.jw-filter-text").fill("")

    # the dark theme: the canvas takes JupyterLab's theme colours
    page.mouse.move(0, 0)
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20000)
    time.sleep(1.0)
    background = page.evaluate(COLOUR, [handle, "--jw-bg"])
    assert sum(background) < 200  # a dark background
    corner = page.evaluate(
        "(c) => Array.from(c.getContext('2d').getImageData(c.width - 3, c.height - 3, 1, 1)"
        ".data).slice(0, 3)",
        canvas_handle,
    )
    assert sum(corner) < 200, corner  # the canvas redrew in the dark colours
    dark_brand = page.evaluate(COLOUR, [handle, "--jw-brand"])
    colour["brand"] = dark_brand
    _widest(runs(running_lane, "brand"))
    screenshot(table, "timeline-dark")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Light'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=20000)

    # back to the table with the keyboard
    _switch_with_keyboard(page, table, "Table")
    table.locator(".jw-grid").wait_for(state="visible", timeout=5000)
    assert canvas.is_hidden()
    assert page.errors == []


PANEL = "#jobwidgets-panel"

# every pixel row of the canvas: how many pixels have the colour `rgb`
COUNT = """([canvas, rgb]) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.abs(data[i] - rgb[0]) <= 40 && Math.abs(data[i + 1] - rgb[1]) <= 40
        && Math.abs(data[i + 2] - rgb[2]) <= 40) n += 1;
  }
  return n;
}"""


def test_timeline_in_the_job_panel(page: Any, lab: Lab) -> None:
    _nb, _table, ids = _open(page, lab)
    page.evaluate("() => { window.jupyterapp.commands.execute('jobwidgets:show-panel'); }")
    panel = page.locator(PANEL)
    panel.wait_for(state="visible", timeout=10000)
    panel.locator(".jw-body .jw-row").first.wait_for(timeout=15000)
    _switch_with_keyboard(page, panel, "Timeline")
    canvas = panel.locator("canvas.jw-tl-canvas")
    canvas.wait_for(state="visible", timeout=5000)
    page.wait_for_function(
        "([el, n]) => el.querySelector('canvas.jw-tl-canvas').getAttribute('aria-label')"
        " === `Timeline of ${n} jobs`",
        arg=[panel.element_handle(), len(ids)],
        timeout=10000,
    )
    time.sleep(0.5)
    handle = panel.element_handle()
    box = canvas.bounding_box()
    assert box["width"] > 200 and box["height"] >= AXIS + len(ids) * LANE - 1
    for name in ("brand", "success", "error", "warn"):
        rgb = page.evaluate(COLOUR, [handle, f"--jw-{name}"])
        assert page.evaluate(COUNT, [canvas.element_handle(), rgb]) > 20, name
    screenshot(panel, "timeline-panel-light")
    # a click on a lane opens the details in the panel
    page.mouse.click(box["x"] + box["width"] - 20, box["y"] + AXIS + LANE / 2)
    panel.locator(".jw-details").wait_for(state="visible", timeout=5000)
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20000)
    time.sleep(1.0)
    dark_bg = page.evaluate(COLOUR, [handle, "--jw-bg"])
    assert page.evaluate(COUNT, [canvas.element_handle(), dark_bg]) > 1000
    screenshot(panel, "timeline-panel-dark")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme',"
        " {theme: 'JupyterLab Light'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'", timeout=20000)
    assert page.errors == []
