# Two commands on a fresh machine: `make run` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# Offline at run time: no library may fetch a model, tokenizer or list when it starts.
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export DO_NOT_TRACK := 1
# Prefect runs ephemeral (SQLite under .prefect/ in the repo), without telemetry.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: run test quality venv benchmarks clean labelstudio labelstudio-stop screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/python -m flows.build_corpus --config flows/sample.toml

test: $(STAMP)
	scripts/labelstudio.sh install
	$(BIN)/pytest -q

quality: $(STAMP)
	$(BIN)/ruff check parallelner flows tests benchmarks
	$(BIN)/ruff format --check parallelner flows tests benchmarks

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/throughput.py --latency 1.0
	$(BIN)/python benchmarks/throughput.py --latency 0.2
	$(BIN)/python benchmarks/filters.py
	$(BIN)/python benchmarks/alignment.py
	$(BIN)/python benchmarks/languages.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/python benchmarks/flow_overhead.py

# Review tasks as annotators see them, in headless Chromium (Debian: chromium chromium-driver
# fonts-noto-cjk), saved under docs/screenshots/.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshot_review.py
	$(BIN)/python scripts/screenshot_report.py

# A local Label Studio for review (own venv, 127.0.0.1, SQLite under .labelstudio/).
labelstudio:
	scripts/labelstudio.sh start

labelstudio-stop:
	scripts/labelstudio.sh stop

clean:
	rm -rf out .pytest_cache .ruff_cache
