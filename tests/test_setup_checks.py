"""The set-up's model checks: a crashing or broken llama.cpp build is found in a child process,
named with its fix, and repaired by recompiling portable (`rag setup`)."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from rag.cli.main import cli
from rag.models import llama_build


def test_a_child_killed_by_sigill_is_reported_with_the_portable_fix():
    res = llama_build._child("llm", "import os, signal; os.kill(os.getpid(), signal.SIGILL)", [], timeout=30)
    assert not res.ok and res.signal == "SIGILL"
    assert "rag setup --llama-build portable" in llama_build.explain(res)


def test_a_llama_cpp_that_does_not_load_is_found(tmp_path, monkeypatch):
    """A build left broken (its shared library unloadable) fails the check; it does not crash it."""
    broken = tmp_path / "site" / "llama_cpp"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise RuntimeError(\"Failed to load shared library 'libllama.so': file too short\")\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    res = llama_build.smoke_llm(tmp_path / "model.gguf", timeout=60)
    assert not res.ok and "libllama" in res.detail
    assert "--llama-build portable" in llama_build.explain(res)
    assert "error" in llama_build.system_info()


def test_flavours_never_compile_amx():
    for args in llama_build.FLAVOURS.values():
        joined = " ".join(args)
        assert "-mno-amx-tile" in joined or "-DGGML_AMX_TILE=OFF" in joined
    assert "-DGGML_NATIVE=OFF" in llama_build.FLAVOURS["portable"] and "-DGGML_AVX512=OFF" in llama_build.FLAVOURS["portable"]
    assert llama_build.DEFAULT in llama_build.FLAVOURS


def test_wheels_are_kept_apart_by_flavour():
    assert llama_build.wheel_dir("native") != llama_build.wheel_dir("portable")
    assert llama_build.wheel_dir("portable").name.startswith("portable-")


@pytest.fixture
def fake_setup(tmp_path, monkeypatch):
    """`rag setup` with the model files present and scripted checks and builds."""
    from rag.models import assets as models

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x")
    monkeypatch.setattr(models, "ensure_llm", lambda log: gguf)
    monkeypatch.setattr(models, "ensure_gemma", lambda log: tmp_path)
    monkeypatch.setattr(llama_build, "smoke_gemma", lambda p: llama_build.SmokeResult("gemma", True, 1.0, "768-d vector, norm 1.0"))
    state = {"installed": [], "flavour": "native", "checks": [], "prompt_states": []}
    from rag.cli import main

    monkeypatch.setattr(main, "_save_prompt_states", lambda s, llm: state["prompt_states"].append((state["flavour"], llm)))

    def install(flavour, log=print, python=None):
        state["installed"].append(flavour)
        state["flavour"] = flavour
        return {"flavour": flavour}

    def smoke(path, threads=0):
        state["checks"].append(state["flavour"])
        if state["flavour"] in (None, "native"):  # the broken build: killed at the first real prompt
            return llama_build.SmokeResult("llm", False, 2.0, "killed by SIGILL", signal="SIGILL")
        return llama_build.SmokeResult("llm", True, 3.0, " Marco Rubio")

    monkeypatch.setattr(llama_build, "install", install)
    monkeypatch.setattr(llama_build, "smoke_llm", smoke)
    monkeypatch.setattr(llama_build, "read_record", lambda prefix=None: {"flavour": state["flavour"]} if state["flavour"] else {})
    return state


def test_setup_repairs_a_crashing_build_by_recompiling_portable(fake_setup):
    r = CliRunner().invoke(cli, ["setup"])
    assert r.exit_code == 0, r.output
    assert fake_setup["installed"] == ["portable"] and fake_setup["checks"] == ["native", "portable"]
    assert "SIGILL" in r.output and "portable" in r.output and "Marco Rubio" in r.output
    assert [f for f, _ in fake_setup["prompt_states"]] == ["portable"]  # saved with the build that passed, once


def test_an_unrecorded_build_left_by_an_older_setup_is_replaced_by_the_default_then_portable(fake_setup):
    fake_setup["flavour"] = None
    r = CliRunner().invoke(cli, ["setup"])
    assert r.exit_code == 0, r.output
    assert fake_setup["installed"] == ["native", "portable"] and fake_setup["checks"] == [None, "native", "portable"]


def test_setup_says_the_fix_when_the_repair_does_not_help(fake_setup, monkeypatch):
    monkeypatch.setattr(llama_build, "smoke_llm", lambda p, threads=0: llama_build.SmokeResult("llm", False, 1.0, "killed by SIGSEGV", signal="SIGSEGV"))
    r = CliRunner().invoke(cli, ["setup"])
    last = r.output.splitlines()[-1]
    assert r.exit_code == 2 and last.startswith("error: ") and "even built portable" in last and "rag setup --only llm" in last
    assert "Traceback" not in r.output and fake_setup["installed"] == ["native", "portable"]  # reinstalled, then portable
    assert fake_setup["prompt_states"] == []  # a build that crashes is never loaded in this process


@pytest.mark.real
def test_real_models_pass_the_setup_checks_and_doctor_reports_the_build():
    from rag.models import assets as models

    res = llama_build.smoke_llm(models.llm_path())
    assert res.ok and res.info["prompt_tokens"] > 20, res
    r = CliRunner().invoke(cli, ["doctor", "--json"])
    report = json.loads(r.output)
    assert r.exit_code == 0 and report["ok"], report["problems"]
    assert "AVX2" in report["llama_build"]["features"] and not any(f.startswith("AMX") for f in report["llama_build"]["features"])
    assert report["llm"]["check"]["ok"] and report["embedder"]["check"]["ok"]
    assert sys.prefix == report["python"]["prefix"]
