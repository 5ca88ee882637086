import time, shutil
from conftest import screenshot

def test_blocked2(page, lab):
    shutil.copy("/tmp/blocked2.ipynb", lab.root / "blocked2.ipynb")
    page.goto(f"{lab.url}/lab/tree/blocked2.ipynb?reset&token={lab.token}")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext && window.jupyterapp.shell.currentWidget.sessionContext.session && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=60000)
    time.sleep(2)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell-and-select-next')")
    t0 = time.time()
    page.wait_for_selector(".widget-slider", timeout=30000)
    print("slider1 after", time.time() - t0)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell-and-select-next')")
    t0 = time.time()
    page.wait_for_selector(".widget-slider >> nth=1", timeout=30000)
    print("slider2 after", time.time() - t0)
    page.wait_for_function("document.body.innerText.includes('ANYWIDGET-OK')", timeout=30000)
    print("anywidget after", time.time() - t0)
