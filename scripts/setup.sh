#!/usr/bin/env bash
# Everything `make demo` and `make test` need on a fresh machine: the Debian
# Fashion-MNIST files and a virtual environment in .venv with the package and
# its test dependencies. Idempotent: a second call only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR=/usr/share/datasets/fashion-mnist
if [ -z "${OPTIMLAB_DATA:-}" ] && [ ! -d "$DATA_DIR" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "setup: installing the Debian package dataset-fashion-mnist" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
    else
        echo "setup: Fashion-MNIST is missing from $DATA_DIR." >&2
        echo "setup: run as root:  apt-get update && apt-get install -y dataset-fashion-mnist" >&2
        echo "setup: (or point OPTIMLAB_DATA at a folder holding the four official .gz files)" >&2
        exit 1
    fi
fi

STAMP=.venv/.installed
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    PY=${PYTHON:-python3}
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    # One pip command: torch==2.13.0 (from the test extra) is pinned together
    # with pytorch-optimizer so that nothing upgrades it to a CUDA build.
    .venv/bin/python -m pip install -q -e ".[test,dask]"
    touch "$STAMP"
fi
