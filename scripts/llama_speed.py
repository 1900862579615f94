"""Prompt and generation tokens/s of the installed llama.cpp build on the project's LLM.

    .venv/bin/python scripts/llama_speed.py [--runs 3] [--threads N]

Prints one JSON object: the build (rag/models/llama_build.py's record and llama.cpp's own feature list),
and the median over runs of prompt tokens/s (a ~450-token prompt of seed lines, evaluated from an
empty cache) and generation tokens/s (64 greedy tokens). Used to choose the default build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.models import assets as models
from rag.models import llama_build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--gen", type=int, default=64)
    a = ap.parse_args()
    from llama_cpp import Llama

    seeds = Path(__file__).resolve().parents[1] / "seeds"
    text = " ".join(Path(p).read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt")))
    llm = Llama(model_path=str(models.llm_path()), n_ctx=2048, n_threads=a.threads, n_batch=512, verbose=False)
    toks = llm.tokenize(text.encode(), add_bos=False)[:450]
    prompt, gen = [], []
    for _ in range(a.runs):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(toks)
        prompt.append(len(toks) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(a.gen):
            tok = llm.sample(top_k=1, temp=0.0)
            llm.eval([tok])
        gen.append(a.gen / (time.perf_counter() - t0))
    print(json.dumps({
        "build": llama_build.read_record().get("flavour", "unrecorded"),
        "features": llama_build.system_info().get("features"),
        "cpu": llama_build.cpu_model(),
        "threads": a.threads,
        "runs": a.runs,
        "prompt_tokens": len(toks),
        "prompt_tok_s": [round(x, 1) for x in prompt],
        "gen_tok_s": [round(x, 1) for x in gen],
        "prompt_tok_s_median": round(statistics.median(prompt), 1),
        "gen_tok_s_median": round(statistics.median(gen), 1),
    }))


if __name__ == "__main__":
    main()
