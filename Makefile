# The two commands: `make demo` runs the project, `make test` tests it.
# Both set up everything they need, from a fresh clone, by themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= widgets,dask,qiskit,tqdm,test
# project-local Jupyter folders, so nothing from the user's own setup leaks in
export JUPYTER_CONFIG_DIR  := $(CURDIR)/.jupyter-local/config
export JUPYTER_DATA_DIR    := $(CURDIR)/.jupyter-local/data
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.jupyter-local/runtime
export IPYTHONDIR          := $(CURDIR)/.jupyter-local/ipython

.PHONY: all install js chromium demo demo-terminal test lint typecheck pytest jstest notebooks ui bench clean

all: test

# pip install builds the front end (js/ -> src/jobwidgets/static/) through hatch-jupyter-builder
$(STAMP): pyproject.toml js/package.json js/package-lock.json js/labextension/package.json js/labextension/yarn.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	mkdir -p $(JUPYTER_CONFIG_DIR) $(JUPYTER_DATA_DIR) $(JUPYTER_RUNTIME_DIR) $(IPYTHONDIR)
	touch $(STAMP)

install: $(STAMP)

js: install
	cd js && npm ci --no-audit --no-fund && PATH="$(CURDIR)/$(BIN):$$PATH" npm run build

# Debian's Chromium for the browser tests (Playwright can't download browsers here)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

PORT  ?= 8888
TOKEN := $(or $(TOKEN),$(shell $(PYTHON) -c 'import secrets; print(secrets.token_hex(16))'))

demo: install
	@echo "Opening JupyterLab on the quickstart. Point your browser at:"
	@echo "  http://127.0.0.1:$(PORT)/lab/tree/notebooks/01-quickstart.ipynb?token=$(TOKEN)"
	$(BIN)/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	  --IdentityProvider.token=$(TOKEN) $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) \
	  --ServerApp.root_dir=$(CURDIR)

demo-terminal: install
	$(BIN)/python -m jobwidgets.demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy --strict src/jobwidgets

jstest: js
	cd js && npm test

pytest: install
	$(BIN)/python -m pytest tests --ignore=tests/ui

notebooks: install
	$(BIN)/python -m pytest --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg notebooks -p no:cacheprovider

# the browser tests inject axe-core from js/node_modules (npm ci in `js`)
ui: install chromium js
	$(BIN)/python -m pytest tests/ui

test: lint typecheck jstest pytest notebooks ui

bench: install chromium
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_widgets.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_qiskit.py
	$(BIN)/python benchmarks/bench_browser.py
	$(BIN)/python benchmarks/bench_panel.py
	$(BIN)/python benchmarks/bench_history_view.py
	$(BIN)/python benchmarks/bench_live.py
	$(BIN)/python benchmarks/bench_logs.py --dask
	$(BIN)/python benchmarks/bench_history.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .jupyter-local js/node_modules src/jobwidgets/static \
	  js/labextension/node_modules js/labextension/lib js/labextension/.yarn src/jobwidgets/labextension
