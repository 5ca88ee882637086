import shutil
import time

from conftest import screenshot


def test_blocked(page, lab):
    shutil.copy("/tmp/blocked.ipynb", lab.root / "blocked.ipynb")
    page.goto(f"{lab.url}/lab/tree/blocked.ipynb?reset&token={lab.token}")
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext && window.jupyterapp.shell.currentWidget.sessionContext.session && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=60000,
    )
    time.sleep(2)
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-cell-and-select-next'); }"
    )
    t0 = time.time()
    page.wait_for_selector(".jw-table .jw-cancel:not([disabled])", timeout=30000)
    print("table rendered after", time.time() - t0)
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-cell-and-select-next'); }"
    )
    page.on("console", lambda m: print("CONSOLE", m.type, m.text[:300]))
    time.sleep(3)
    screenshot(page, "blocked-3s")
    print(
        "tables at 3s",
        page.locator(".jw-table").count(),
        page.locator(".jp-OutputArea-output").count(),
    )
    page.wait_for_selector(".jw-table >> nth=1", timeout=30000)
    print("monitor rendered after", time.time() - t0)
    time.sleep(2)
    for k in range(page.locator(".jw-table").count()):
        print("TABLE", k, page.locator(".jw-table").nth(k).inner_text().replace("\n", " | ")[:400])
    screenshot(page, "blocked-before-click")
    btn = page.locator(".jw-table").first.locator("button.jw-cancel").first
    print("btn", btn.inner_text(), btn.is_enabled())
    t0 = time.time()
    btn.click(timeout=5000)
    time.sleep(0.5)
    screenshot(page, "blocked-after-click")
    page.wait_for_function("document.body.innerText.includes('waited')", timeout=30000)
    print("cell ended after", time.time() - t0)
    print(page.locator(".jp-OutputArea-output").last.inner_text())
    screenshot(page, "blocked-end")
    print(page.errors)
