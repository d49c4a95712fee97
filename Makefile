# Two commands on a fresh machine:  `make run` (set up + open the app)  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench setup clean docs-images wheel bundle icons

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/nndyn-gui $(ARGS)

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	bash scripts/test.sh --lint-only

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train.py
	bash scripts/with-x.sh $(BIN)/python benchmarks/bench_views.py

wheel:  # -> /tmp/nndyn-build/wheels/ (see packaging/README.md)
	bash packaging/build.sh --wheel

bundle:  # PyInstaller one-folder app -> /tmp/nndyn-build/dist/nndyn/, then a smoke run
	bash packaging/build.sh --smoke

icons: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/render_icons.py

docs-images: $(STAMP)
	bash scripts/with-x.sh $(BIN)/python scripts/docs_images.py docs/img

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
