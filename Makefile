# caring-societies: `make all` runs the main job, `make test` the whole test suite.
# Both create a local virtual environment (.venv) and install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall when the dependency list changes, never otherwise.
STAMP  := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,pathlib;print(hashlib.sha256(pathlib.Path('pyproject.toml').read_bytes()).hexdigest()[:12])")

.PHONY: all test install fetch build info sources report notebooks bench bench-smoke clean

all: install
	$(BIN)/python -m analysis run

test: install
	$(BIN)/python -m analysis fetch --quiet
	$(BIN)/python -m analysis build --quiet
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	rm -f $(VENV)/.installed-*
	touch $@

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
# store, as nbval in `make test` checks) and export HTML to reports/notebooks/. Skips unchanged ones.
notebooks: install
	$(BIN)/python -m analysis notebooks --inplace

# Benchmarks (benchmarks/README.md): the full run rewrites benchmarks/RESULTS.md; the smoke run is a
# quick check that the script works (one run per figure), written to benchmarks/_work/.
bench: install
	$(BIN)/python benchmarks/run.py

bench-smoke: install
	$(BIN)/python benchmarks/run.py --quick --results benchmarks/_work/RESULTS-smoke.md

clean:
	rm -rf data/processed/*.parquet data/processed/*.json reports
