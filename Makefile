# The two commands a new machine needs: `make compile` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV := .tools/checkov/bin/checkov
STAMP := $(VENV)/.installed

.PHONY: compile test lint format bench package schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,cdktf]'
	$(BIN)/python -m replgen.rds_ca  # the RDS CA bundle the zips carry: fetched once, verified
	touch $@

# checkov pins its own dependency set; it lives in its own venv, as pipx would put it.
$(CHECKOV):
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet checkov

compile: $(STAMP)
	$(BIN)/replgen compile specs/prod.yaml --backend all

# The plan and the backends are held at 100% line coverage: every line of them builds
# something a test asserts.
test: $(STAMP) $(CHECKOV)
	$(BIN)/python -m pytest -q --cov=replgen.plan --cov=replgen.backends \
		--cov-report=term-missing:skip-covered --cov-fail-under=100

lint: $(STAMP)
	$(BIN)/ruff check src tests lambda bench
	$(BIN)/ruff format --check src tests lambda bench
	$(BIN)/mypy src

format: $(STAMP)
	$(BIN)/ruff format src tests lambda bench
	$(BIN)/ruff check --fix src tests lambda bench

bench: $(STAMP)
	$(BIN)/python bench/bench_cdktf.py
	$(BIN)/python bench/bench_replsync.py

package: $(STAMP)
	$(BIN)/replgen package

schema: $(STAMP)
	$(BIN)/replgen schema > schema/replgen.schema.json
	$(BIN)/replgen schema --markdown > docs/spec-reference.md

clean:
	rm -rf $(VENV) .tools dist .pytest_cache .mypy_cache .ruff_cache
