# The two commands of the README. Both set themselves up on a fresh machine.
.PHONY: setup demo test lint bench clean

VENV := .venv/bin

setup:
	@scripts/setup.sh

demo: setup
	$(VENV)/optimlab compare --config examples/demo.toml --out results/demo
	@echo "demo: open results/demo/report.html (or report.md) for the comparison"

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

test: lint
	$(VENV)/python -m pytest -q

bench: setup
	$(VENV)/python benchmarks/run.py

clean:
	rm -rf .venv results .pytest_cache .ruff_cache
