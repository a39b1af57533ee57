PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test fuzz check fmt bench vsix tables clean

$(BIN)/whuffie: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	if command -v java >/dev/null; then $(BIN)/pip install --quiet -e '.[spark]'; fi
	touch $@

demo: $(BIN)/whuffie
	$(BIN)/whuffie check examples/library/rules.whuf
	$(BIN)/whuffie fmt --check examples/library/rules.whuf
	$(BIN)/whuffie score examples/library/rules.whuf examples/library/events.jsonl --subjects examples/library/subjects.jsonl
	$(BIN)/whuffie explain examples/library/rules.whuf examples/library/events.jsonl carol

# The VS Code grammar test (tests/test_textmate.py) needs editors/vscode/node_modules: installed once
# from the lock file when npm is there; offline or without npm the test skips and says why.
test: $(BIN)/whuffie
	@if command -v npm >/dev/null && [ ! -d editors/vscode/node_modules ]; then \
		(cd editors/vscode && npm ci --no-audit --no-fund --prefer-offline --loglevel=error --fetch-timeout=20000 --fetch-retries=1) \
		|| echo "npm ci failed (offline?): the TextMate grammar test will be skipped"; fi
	$(BIN)/python -m pytest -n auto --dist loadfile

# The VS Code extension as a .vsix (needs npm and the npm registry, or its cache)
vsix:
	cd editors/vscode && npm ci --no-audit --no-fund && npx vsce package

# The fuzzers of tests/fuzz (and the engine generator on Spark, where Java is) searching 12 times longer than in
# `make test` (about ten minutes, and ten more for Spark)
# (WHUFFIE_FUZZ_FACTOR=N to change), with fresh seeds on every run.
fuzz: $(BIN)/whuffie
	WHUFFIE_FUZZ=deep $(BIN)/python -m pytest tests/fuzz tests/engines/spark/test_spark_agree.py -q

bench: $(BIN)/whuffie
	$(BIN)/python benchmarks/bench_frontend.py

# The grammar's LALR tables shipped in the package (interpreter/whuffie/lalr_tables.py), after a grammar edit
# (tests/test_parser_tables.py fails until they match)
tables: $(BIN)/whuffie
	$(BIN)/python -c "from whuffie.parser import write_table_module; write_table_module()"

clean:
	rm -rf $(VENV) build dist editors/vscode/*.vsix
