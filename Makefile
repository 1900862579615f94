# `make run` and `make test` set everything up on first use (see scripts/setup.sh).
VENV := .venv
RAG := $(VENV)/bin/rag
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run index ask test test-fast lint eval bench clean

$(VENV)/.setup-done: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $@

setup: $(VENV)/.setup-done

index: setup
	$(RAG) index

run: index  ## set up, index seeds/, open the chat
	$(RAG) chat

ask: index
	$(RAG) ask "Who proposed Budapest?"

test: setup  ## every test, the real-model end-to-end ones included
	$(VENV)/bin/python -m pytest -q

test-fast: setup  ## unit tests only (fakes, seconds)
	$(VENV)/bin/python -m pytest -q -m "not real"

lint: setup
	$(VENV)/bin/ruff check rag tui tests

eval: index
	$(RAG) eval

clean:
	rm -rf index eval/reports
