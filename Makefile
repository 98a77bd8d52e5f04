# Weifu: `make run` serves the demo on SQLite; `make test` runs the whole suite (SQLite + memory,
# then PostgreSQL + Redis when they answer on 127.0.0.1).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '.[dev]'
	touch $(STAMP)

# WEIFU_FAKE_GSX=1 make run: the demo's GSX is the fake GSX (server/gsx/fake.py) on :8443
# WEIFU_FAKE_SMS=1 make run: the demo's SMS notices go to the fake gateway (server/notices/fake.py) on :8025
run: $(STAMP)
	$(BIN)/python -m server migrate
	$(BIN)/python -m server demo
	@if [ "$$WEIFU_FAKE_GSX" = 1 ]; then $(BIN)/python -m server fake-gsx --port 8443 --step-seconds 120 & fi; \
	if [ "$$WEIFU_FAKE_SMS" = 1 ]; then $(BIN)/python -m server fake-sms --port 8025 & fi; \
	$(BIN)/python -m server serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	@sqlite=0; postgres=0; \
	$(MAKE) test-sqlite || sqlite=$$?; \
	if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1); socket.create_connection(('127.0.0.1', 6379), 1)" 2>/dev/null; then \
		$(MAKE) test-postgres || postgres=$$?; \
		echo "=== SQLite + memory pass: $$( [ $$sqlite = 0 ] && echo passed || echo FAILED ); PostgreSQL + Redis pass: $$( [ $$postgres = 0 ] && echo passed || echo FAILED )"; \
	else \
		echo "!!! PostgreSQL or Redis is not answering on 127.0.0.1: the PostgreSQL + Redis run was SKIPPED"; \
		echo "=== SQLite + memory pass: $$( [ $$sqlite = 0 ] && echo passed || echo FAILED )"; \
	fi; \
	[ $$sqlite = 0 ] && [ $$postgres = 0 ]

test-sqlite: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-postgres: $(STAMP)
	TEST_DATABASE_URL=$(PG_URL) TEST_REDIS_URL=$(REDIS) $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check server realtime tests bench

clean:
	rm -rf $(VENV) var
