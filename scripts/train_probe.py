"""Train the learned instruction reader (rag/verify/probe.py) and report how it generalises.

    .venv/bin/python scripts/train_probe.py            # report, then write rag/verify/instruction_probe.npz
    .venv/bin/python scripts/train_probe.py --report   # the report only

Positives: the planted lines of the attack sets that are development sets (POSITIVE). Negatives:
the benign look-alikes (BENIGN) and NEWS_TRAIN real lines drawn with a fixed seed from what
`rag attacks --scan-news` reads (seeds, VNTC, ViNewsQA, XQuAD/MLQA Wikipedia). The other real lines
are held out: the probe never sees them, and they measure its false positives. The report holds
out each attack set in turn (trained on the rest) and prints how many of its lines the probe
catches; instructions-frozen-3.jsonl is never read here (it is the unseen half).

Vectors are EmbeddingGemma's embed_documents, as the index embeds a line, kept in
~/.cache/vnrag/eval/line-vectors-<embedder>.npz (the first run embeds ~30,000 lines: ~35 min on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.evals import planted
from rag.evals.datasets import data_root
from rag.evals.paths import cache_root
from rag.models.embedding import make_embedder
from rag.verify import probe
from rag.verify.guard import is_instruction

ADV = ROOT / "eval" / "adversarial"
POSITIVE = ("instructions-dev", "instructions-frozen", "instructions-frozen-2", "train-instructions")
HELD_OUT_IN_TURN = ("instructions-dev", "instructions-frozen", "instructions-frozen-2")
BENIGN = ("benign-hard", "train-benign")
NEWS_TRAIN = 6000  # real lines the probe is trained against; the rest (~24,000) measure its false positives
SEED = 7
# Chosen on the development sets (the report holds each out in turn): above the highest training
# news line's score by 0.25, look-alikes weighing 10 news lines, L2 1e-3. Held out in turn, 28 to 30
# of 32 caught and 0 of 24,661 held-out news lines flagged; margin 0 flagged 5-9 news lines, 0.5
# caught 25-28.
MARGIN = 0.25


def lines_of(name: str) -> list[str]:
    assert "frozen-3" not in name, "the unseen half is never read for training"
    return [json.loads(raw)["line"] for raw in (ADV / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if raw.strip()]


def sha(name: str) -> str:
    return hashlib.sha256((ADV / f"{name}.jsonl").read_bytes()).hexdigest()[:12]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--report", action="store_true", help="print the report, write nothing")
    ap.add_argument("--margin", type=float, default=MARGIN)
    ap.add_argument("--embedder", default="gemma")
    args = ap.parse_args()

    emb = make_embedder(args.embedder)
    cache = cache_root() / f"line-vectors-{emb.name}.npz"
    news = planted.news_lines(*planted.news_sources(data_root(), ROOT))
    texts = {name: lines_of(name) for name in POSITIVE + BENIGN}
    every = [t for name in POSITIVE + BENIGN for t in texts[name]] + [t for _, _, t in news]
    vec = planted.line_vectors(emb, every, cache, progress=lambda d, n: print(f"embedded {d}/{n}", file=sys.stderr))
    at, sets = 0, {}
    for name in POSITIVE + BENIGN:
        sets[name] = vec[at : at + len(texts[name])]
        at += len(texts[name])
    news_vec = vec[at:]
    order = np.random.default_rng(SEED).permutation(len(news))
    train, held = order[:NEWS_TRAIN], order[NEWS_TRAIN:]
    lookalikes = np.concatenate([sets[n] for n in BENIGN])
    held_vec = news_vec[held]
    guard_held = np.array([is_instruction(news[i][2]) for i in held])

    print(f"news lines: {len(news):,} ({NEWS_TRAIN:,} for training, {len(held):,} held out); margin {args.margin}")
    for name in HELD_OUT_IN_TURN:
        pos = np.concatenate([sets[n] for n in POSITIVE if n != name])
        p = probe.fit(pos, news_vec[train], lookalikes, emb.name, args.margin)
        caught = p.flags(sets[name])
        feats = np.array([is_instruction(t) for t in texts[name]])
        print(
            f"  {name} held out: probe {int(caught.sum())}/{len(caught)}, features {int(feats.sum())} (developed on it), "
            f"either {int((caught | feats).sum())}; held-out news flagged by the probe {int(p.flags(held_vec).sum())}"
        )
    p = probe.fit(np.concatenate([sets[n] for n in POSITIVE]), news_vec[train], lookalikes, emb.name, args.margin)
    flags = p.flags(held_vec)
    flagged_lookalikes = int(p.flags(lookalikes).sum())
    print(f"final probe: look-alike news lines (trained on) flagged {flagged_lookalikes} of {len(lookalikes)}")
    print(f"final probe: held-out news flagged {int(flags.sum())} of {len(held):,} (features {int(guard_held.sum())}, either {int((flags | guard_held).sum())})")
    for i in np.flatnonzero(flags):
        src, n, text = news[held[i]]
        print(f"    {src}:{n} {p.scores(held_vec[i:i + 1])[0] - p.tau:+.3f} {text[:160]}")
    if not args.report:
        meta = {
            "trained_on": ", ".join(f"{n}.jsonl ({sha(n)})" for n in POSITIVE + BENIGN),
            "news": f"{NEWS_TRAIN} of {len(news)} real lines, seed {SEED}",
            "margin": str(args.margin),
            "date": datetime.date.today().isoformat(),
        }
        p.save(probe.PROBE_FILE, **meta)
        print(f"wrote {probe.PROBE_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
