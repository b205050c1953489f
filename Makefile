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

# One pytest worker per core (pytest-xdist, idle workers steal queued tests: the long
# CLI tests do not pile up at the end); BLAS and OpenMP one thread per worker, so
# that the workers do not wait on each other's spinning threads.
test: lint
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VENV)/python -m pytest -q -n auto --dist worksteal

bench: setup
	$(VENV)/python benchmarks/run.py

clean:
	rm -rf .venv results .pytest_cache .ruff_cache
