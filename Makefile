# caring-societies: `make all` runs the main job, `make test` the whole test suite.
# Both create a local virtual environment (.venv) with exactly the versions in uv.lock first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# uv itself, pinned, installed from PyPI into .uv/ (not into .venv, which it keeps exactly as locked).
UV_VERSION := 0.13.9
UV_DIR := .uv
UV     := $(UV_DIR)/bin/uv
# Always this machine's Python (python3), never one that uv would download.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Reinstall when the dependency list or the lock changes, never otherwise.
STAMP  := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,pathlib;print(hashlib.sha256(b''.join(pathlib.Path(p).read_bytes() for p in ('pyproject.toml','uv.lock'))).hexdigest()[:12])")

.PHONY: all test install lock fetch build info sources report notebooks check-notebooks bench bench-smoke clean

# The main job: fetch, build, report, notebooks; published all or nothing (see `python -m analysis run --help`).
all: install
	$(BIN)/python -m analysis run

# Notebook charts go to a throwaway folder: a test run leaves reports/ and scratch/ as they were.
test: install
	$(BIN)/python -m analysis fetch --quiet
	$(BIN)/python -m analysis build --quiet
	@figures=$$(mktemp -d); ANALYSIS_FIGURES_DIR=$$figures $(BIN)/python -m pytest; status=$$?; \
		rm -rf $$figures; exit $$status

install: $(STAMP)

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		--target $(UV_DIR) uv==$(UV_VERSION)

# --locked: install exactly uv.lock, and stop if pyproject.toml changed since it was written (`make lock`).
# --compile-bytecode: every library's .pyc written once at install; where PYTHONDONTWRITEBYTECODE is set (as
# on this CI machine) each process would otherwise compile pandas & co. again (import pandas 1.4 s vs 0.5 s).
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --extra dev --python $(PYTHON) --quiet --compile-bytecode
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-*
	touch $@

# After changing the dependencies in pyproject.toml: resolve again and write uv.lock (commit it).
lock: | $(UV)
	$(UV) lock --python $(PYTHON)

fetch: install
	$(BIN)/python -m analysis fetch

build: install
	$(BIN)/python -m analysis build

info: install
	$(BIN)/python -m analysis info

sources: install
	$(BIN)/python -m analysis sources

# Headline charts, chart pack, country profiles and the gallery (skips work when nothing changed).
report: install
	$(BIN)/python -m analysis report

# After a data refresh: re-execute the notebooks over the committed copies (outputs then match the
# store, as nbval in `make test` checks). Publishes nothing: their charts go to scratch/figures/ and
# the HTML for readers is made by `make all`. Skips unchanged ones.
notebooks: install
	$(BIN)/python -m analysis notebooks --inplace --no-html

# The committed notebooks are what executing them gives: `make notebooks` must change nothing.
check-notebooks: notebooks
	git diff --exit-code --stat -- notebooks/

# Benchmarks (benchmarks/README.md): the full run rewrites benchmarks/RESULTS.md; the smoke run is a
# quick check that the script works (one run per figure), written to benchmarks/_work/.
bench: install
	$(BIN)/python benchmarks/run.py

bench-smoke: install
	$(BIN)/python benchmarks/run.py --quick --results benchmarks/_work/RESULTS-smoke.md

# Everything the commands make, including the staging folders of runs that were killed.
clean:
	rm -rf data/processed/*.parquet data/processed/*.json data/processed/.staging-* data/processed/.*.tmp \
		data/.staging-* reports scratch
