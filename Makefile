# 满天星 Tracker: `make demo` and `make test` work on a fresh machine (Python >= 3.11 and network to PyPI).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: demo test test-sqlite bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

## The main job on the embedded default: SQLite, bundled sample data, no network.
demo: $(VENV)/.installed
	$(VENV)/bin/mtx demo --port $(PORT)

## The whole suite on SQLite, and everything database-dependent also on PostgreSQL (installed/started if needed).
test: $(VENV)/.installed
	MTX_TEST_DATABASE_URL="$$(scripts/ensure-postgres.sh)" $(PY) -m pytest -n auto -q

test-sqlite: $(VENV)/.installed
	MTX_TEST_DATABASE_URL= $(PY) -m pytest -n auto -q

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache mtx-demo.db
