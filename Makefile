# The two commands of the README. Both set themselves up on a fresh machine.
.PHONY: setup demo test lint bench clean

VENV := .venv/bin

setup:
	@scripts/setup.sh

demo: setup
	$(VENV)/optimlab train --dataset fashion-mnist --model mlp --hidden 128,64 \
		--optimizer sgd --lr 0.1 --epochs 5 --batch-size 128 --seed 0 --out results/demo
	@echo "demo: results written to results/demo (history.json, loss.png, accuracy.png)"

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

test: lint
	$(VENV)/python -m pytest -q

bench: setup
	$(VENV)/python benchmarks/run.py

clean:
	rm -rf .venv results .pytest_cache .ruff_cache
