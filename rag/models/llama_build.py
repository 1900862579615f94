"""How llama.cpp is compiled for this machine, and whether the compiled build runs here.

Standard library only: set-up runs it (`python -m rag.models.llama_build install`) before the project
is installed. Two builds ("flavours") of llama-cpp-python are known:

  native    -march=native with AMX switched off (-mno-amx-*). Some Xeon VMs list amx_tile in
            /proc/cpuinfo but do not let a process use the tile registers; a native build then
            dies with SIGILL at the first prompt longer than one token (ggml's AMX kernels).
  portable  GGML_NATIVE=OFF with AVX2, FMA, F16C and BMI2 only (x86-64-v3): runs on any x86-64
            CPU made since about 2015, whatever this one advertises.

Which one set-up builds first is DEFAULT, chosen by measured tokens/s (docs/setup.md).
Every build is checked in a child process that loads the model and generates a few tokens
(`smoke_llm`), so a build that crashes is found at set-up, not at the user's first question.
Built wheels are kept in ~/.cache/vnrag/wheels/<flavour>-<key>/ (the key covers the flags and,
for native, the CPU's flags), so a new venv on the same machine does not compile again.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

LLAMA_VERSION = "0.3.36"
_NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
FLAVOURS: dict[str, list[str]] = {
    "native": ["-DLLAVA_BUILD=OFF", "-DGGML_NATIVE=ON", f"-DCMAKE_C_FLAGS={_NO_AMX}", f"-DCMAKE_CXX_FLAGS={_NO_AMX}"],
    "portable": [
        "-DLLAVA_BUILD=OFF", "-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON",
        "-DGGML_BMI2=ON", "-DGGML_AVX512=OFF", "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF",
    ],
}
DEFAULT = "native"
# The CPU flags a build may depend on (what `rag doctor` shows).
CPU_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
    "avx512_bf16", "avx512vbmi", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16",
)
_ARCH_GET_XCOMP_SUPP = 0x1021  # arch_prctl: which extended CPU states the kernel supports
_XFEATURE_XTILEDATA = 18  # AMX tile data


@dataclass
class SmokeResult:
    """One model checked in a child process."""

    model: str
    ok: bool
    seconds: float
    detail: str = ""  # what it produced, or how it failed
    signal: str = ""  # SIGILL, SIGSEGV ... when the child was killed by one
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def cpu_flags() -> set[str]:
    """The flags /proc/cpuinfo advertises (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def amx_supported() -> bool | None:
    """Whether the kernel supports AMX tile state (None: cannot tell). A CPU that advertises AMX
    where this is False is the SIGILL case native builds used to hit."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        mask = ctypes.c_uint64(0)
        if libc.syscall(158, _ARCH_GET_XCOMP_SUPP, ctypes.byref(mask)) != 0:  # 158: SYS_arch_prctl
            return None
        return bool(mask.value >> _XFEATURE_XTILEDATA & 1)
    except (OSError, AttributeError):
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def wheel_dir(flavour: str) -> Path:
    """Where a built wheel of `flavour` for this machine is kept."""
    args = " ".join(FLAVOURS[flavour])
    cpu = " ".join(sorted(f for f in cpu_flags() if f in CPU_FLAGS)) if flavour == "native" else ""
    key = hashlib.sha256(f"{LLAMA_VERSION}|{sys.version_info[:2]}|{args}|{cpu}".encode()).hexdigest()[:12]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vnrag" / "wheels"
    return base / f"{flavour}-{key}"


def record_path(prefix: str | None = None) -> Path:
    """The venv's note of which flavour it holds (written by `install`)."""
    return Path(prefix or sys.prefix) / "llama-build.json"


def read_record(prefix: str | None = None) -> dict:
    try:
        return json.loads(record_path(prefix).read_text())
    except (OSError, ValueError):
        return {}


def install(flavour: str, log=print, python: str | None = None) -> dict:
    """Build (or reuse the kept wheel of) `flavour` and install it into `python`'s environment."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown llama.cpp build {flavour!r}: use one of {', '.join(FLAVOURS)}")
    python = python or sys.executable
    where = wheel_dir(flavour)
    wheels = sorted(where.glob("llama_cpp_python-*.whl"))
    started = time.monotonic()
    if not wheels:
        log(f"compiling llama.cpp ({flavour} build; ~3-5 min on 2 cores) ...")
        tmp = where.with_name(where.name + ".tmp")
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
        env = dict(os.environ, CMAKE_ARGS=" ".join(_quote(a) for a in FLAVOURS[flavour]), FORCE_CMAKE="1")
        cmd = [python, "-m", "pip", "wheel", "-q", "--no-deps", "--no-cache-dir", "-w", str(tmp), f"llama-cpp-python=={LLAMA_VERSION}"]
        proc = subprocess.run(cmd, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"compiling llama-cpp-python ({flavour}) failed (pip exit {proc.returncode}); see the output above")
        os.replace(tmp, where)
        wheels = sorted(where.glob("llama_cpp_python-*.whl"))
    else:
        log(f"llama.cpp {flavour} build: reusing {wheels[-1]}")
    cmd = [python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheels[-1])]
    if subprocess.run(cmd, check=False).returncode != 0:
        raise RuntimeError(f"installing {wheels[-1]} failed; see the output above")
    prefix = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True).stdout.strip()
    record = {
        "flavour": flavour,
        "version": LLAMA_VERSION,
        "cmake_args": FLAVOURS[flavour],
        "wheel": str(wheels[-1]),
        "cpu": cpu_model(),
        "built_for_flags": sorted(f for f in cpu_flags() if f in CPU_FLAGS),
        "installed": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.monotonic() - started, 1),
    }
    record_path(prefix).write_text(json.dumps(record, indent=1) + "\n")
    return record


def _quote(arg: str) -> str:
    return f"'{arg}'" if " " in arg else arg


# ------------------------------------------------------------------ checks in a child process

_LLM_CHILD = r"""
import json, sys, time
from llama_cpp import Llama
t0 = time.monotonic()
llm = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=int(sys.argv[2]), n_batch=256, verbose=False)
loaded = time.monotonic() - t0
# A prompt of many tokens: one token alone never reaches the matrix kernels that crash bad builds.
prompt = "<|im_start|>user\nNgày 20-10, Ngoại trưởng Nga Sergey Lavrov điện đàm với Ngoại trưởng Mỹ Marco Rubio. Ai điện đàm với Lavrov?<|im_end|>\n<|im_start|>assistant\n"
toks = llm.tokenize(prompt.encode(), add_bos=False, special=True)
t1 = time.monotonic(); out = llm.create_completion(toks, max_tokens=8, temperature=0.0, top_k=1); t2 = time.monotonic()
print(json.dumps({"prompt_tokens": len(toks), "text": out["choices"][0]["text"], "load_s": round(loaded, 2),
                  "answer_s": round(t2 - t1, 2)}, ensure_ascii=False))
"""

_GEMMA_CHILD = r"""
import json, sys, time
import torch
from sentence_transformers import SentenceTransformer
t0 = time.monotonic()
m = SentenceTransformer(sys.argv[1], device="cpu", model_kwargs={"torch_dtype": torch.bfloat16})
v = m.encode_query(["Ai đề xuất tổ chức hội nghị ở Budapest?"], normalize_embeddings=True)
print(json.dumps({"dim": int(v.shape[1]), "norm": round(float((v[0] ** 2).sum() ** 0.5), 3), "seconds": round(time.monotonic() - t0, 2)}))
"""

_INFO_CHILD = r"""
import json, llama_cpp
print(json.dumps({"version": llama_cpp.__version__, "system_info": llama_cpp.llama_print_system_info().decode()}))
"""


def _child(model: str, code: str, args: list[str], timeout: float, python: str | None = None) -> SmokeResult:
    started = time.monotonic()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    try:
        proc = subprocess.run([python or sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return SmokeResult(model, False, round(time.monotonic() - started, 1), f"no answer within {timeout:.0f} s")
    seconds = round(time.monotonic() - started, 1)
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name if -proc.returncode in signal.Signals._value2member_map_ else str(-proc.returncode)
        return SmokeResult(model, False, seconds, _last_line(proc.stderr) or f"killed by {name}", signal=name)
    if proc.returncode != 0:
        return SmokeResult(model, False, seconds, _last_line(proc.stderr) or f"exit status {proc.returncode}")
    try:
        info = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return SmokeResult(model, False, seconds, f"unreadable output: {proc.stdout[-200:]!r}")
    return SmokeResult(model, True, seconds, info.get("text", ""), info=info)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def smoke_llm(model_path: str | Path, threads: int = 0, timeout: float = 180.0, python: str | None = None) -> SmokeResult:
    """Load the GGUF and generate a few tokens from a ~50-token prompt, in a child process."""
    res = _child("llm", _LLM_CHILD, [str(model_path), str(threads or os.cpu_count() or 1)], timeout, python)
    if res.ok and not res.detail.strip():
        res.ok, res.detail = False, "the model generated nothing"
    return res


def smoke_gemma(folder: str | Path, timeout: float = 300.0, python: str | None = None) -> SmokeResult:
    """Load EmbeddingGemma and embed one question, in a child process."""
    res = _child("gemma", _GEMMA_CHILD, [str(folder)], timeout, python)
    if res.ok:
        res.detail = f"{res.info.get('dim')}-d vector, norm {res.info.get('norm')}"
        if res.info.get("dim") != 768 or abs(float(res.info.get("norm", 0)) - 1.0) > 0.01:
            res.ok = False
    return res


def system_info(python: str | None = None, timeout: float = 60.0) -> dict:
    """llama.cpp's own list of the CPU features it was compiled to use (in a child)."""
    res = _child("llama.cpp", _INFO_CHILD, [], timeout, python)
    if not res.ok:
        return {"error": res.detail, "signal": res.signal}
    text = res.info.get("system_info", "")
    used = sorted({part.split("=")[0].strip() for part in text.replace("CPU :", "|").split("|") if part.strip().endswith("= 1")})
    return {"version": res.info.get("version"), "features": used, "raw": text.strip()}


def explain(res: SmokeResult) -> str:
    """One line: what broke and the command that fixes it."""
    if res.model == "gemma":
        return f"EmbeddingGemma does not load here ({res.detail}). Fix: rag setup --only gemma (re-assembles the model files)."
    if res.signal == "SIGILL":
        return (
            "llama.cpp was compiled for instructions this CPU does not allow (SIGILL). "
            "Fix: rag setup --llama-build portable (recompiles it for any x86-64 CPU, ~5 min)."
        )
    if res.signal:
        return f"llama.cpp crashed ({res.signal}: {res.detail}). Fix: rag setup --llama-build portable (recompiles it, ~5 min)."
    if "llama_cpp" in res.detail or "libllama" in res.detail or "libggml" in res.detail:
        return f"llama-cpp-python does not load ({res.detail}). Fix: rag setup --llama-build portable (recompiles it, ~5 min)."
    return f"The LLM does not answer ({res.detail}). Fix: rag setup --only llm (re-checks the model file), then rag doctor."


def _main(argv: list[str]) -> int:
    """`python -m rag.models.llama_build install [--if-missing] [FLAVOUR]`: what set-up runs first."""
    if not argv or argv[0] != "install":
        print("usage: python -m rag.models.llama_build install [--if-missing] [native|portable]", file=sys.stderr)
        return 2
    rest = [a for a in argv[1:] if a != "--if-missing"]
    flavour = rest[0] if rest else os.environ.get("RAG_LLAMA_BUILD") or DEFAULT
    if "--if-missing" in argv:
        probe = subprocess.run([sys.executable, "-c", "import llama_cpp; print(llama_cpp.__version__)"], capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == LLAMA_VERSION:
            have = read_record().get("flavour", "unknown (installed before set-up recorded builds)")
            print(f"llama-cpp-python {LLAMA_VERSION} already installed ({have} build); `rag setup` checks that it runs")
            return 0
    rec = install(flavour)
    print(f"llama-cpp-python {LLAMA_VERSION}: {flavour} build installed in {rec['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
