# The two commands of README.md: `make demo` and `make test`.
PY := .venv/bin/python
DEMO_DATA ?= .demo-data
PYTEST_ARGS ?=

.PHONY: setup demo city-demo test bench clean

setup:
	bash scripts/setup.sh

demo: setup
	$(PY) -m demo --data $(DEMO_DATA)

city-demo: setup
	$(PY) -m demo.city

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) bench/http.py
	$(PY) bench/wire.py
	$(PY) bench/keypad_bus.py
	$(PY) bench/kiosk.py

clean:
	rm -rf .venv $(DEMO_DATA)
