"""The OpenAI-compatible generator: against a scripted server here, and against the real
llama-cpp-python server with the real model on loopback in the `real` test."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import SEEDS, free_port, make_pipeline, start_server

from rag.answer.pipeline import load_llm
from rag.config import Settings
from rag.errors import ModelMissingError
from rag.models.generate import OpenAIGenerator


class _Server:
    """A loopback HTTP server that answers chat completions from a list of SSE lines."""

    def __init__(self, events: list[str], status: int = 200):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                self.send_response(status)
                self.send_header("Content-Type", "text/event-stream" if status == 200 else "application/json")
                self.end_headers()
                payload = "".join(e + "\n\n" for e in events) if status == 200 else '{"error": "no such model"}'
                self.wfile.write(payload.encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _delta(text: str) -> str:
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})


@pytest.fixture
def server():
    servers: list[_Server] = []

    def start(events, status=200):
        servers.append(_Server(events, status))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def test_streams_the_deltas_and_sends_a_standard_request(server):
    srv = server([": ping", _delta("Orbán "), _delta("đề xuất [1]."), "data: [DONE]", _delta("never read")])
    gen = OpenAIGenerator(srv.url, model="qwen", api_key="k")
    out = list(gen.stream([{"role": "user", "content": "Ai?"}], max_tokens=33))
    assert out == ["Orbán ", "đề xuất [1]."]
    req = srv.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == "Bearer k"
    assert req["body"]["stream"] is True and req["body"]["max_tokens"] == 33 and req["body"]["model"] == "qwen"
    assert req["body"]["messages"] == [{"role": "user", "content": "Ai?"}]


def test_url_with_or_without_v1_reaches_the_same_endpoint(server):
    srv = server([_delta("x"), "data: [DONE]"])
    for url in (srv.url, srv.url + "/v1", srv.url + "/v1/"):
        assert list(OpenAIGenerator(url).stream([{"role": "user", "content": "q"}])) == ["x"]


def test_unreachable_server_names_the_fix():
    port = free_port()
    with pytest.raises(ModelMissingError, match="Cannot reach the LLM server.*unset RAG_LLM_URL"):
        list(OpenAIGenerator(f"http://127.0.0.1:{port}", timeout=5).stream([{"role": "user", "content": "q"}]))


def test_http_error_and_malformed_events_are_clear_errors(server):
    with pytest.raises(ModelMissingError, match="HTTP 404.*no such model"):
        list(OpenAIGenerator(server([], status=404).url).stream([{"role": "user", "content": "q"}]))
    with pytest.raises(ModelMissingError, match="malformed event"):
        list(OpenAIGenerator(server(["data: {not json"]).url).stream([{"role": "user", "content": "q"}]))


def test_pipeline_answers_through_the_server_and_still_verifies_citations(server, hash_index):
    """The generator is swapped, nothing else: the answer is checked against the shown lines."""
    line = hash_index.docs["001_f9b850b45a61ace5.txt"].line(15)
    srv = server([_delta(line[:60] + " [1]"), "data: [DONE]"])
    settings = Settings(corpus=str(SEEDS), embedder="hash", llm_url=srv.url, llm_model="remote-qwen")
    gen = load_llm(settings)
    assert isinstance(gen, OpenAIGenerator) and gen.name == "remote-qwen"
    pipe = make_pipeline(hash_index)
    pipe._generator = gen
    a = pipe.ask(line[:80])
    assert not a.refused and a.citations and a.citations[0].file == "001_f9b850b45a61ace5.txt"
    assert srv.requests and srv.requests[0]["body"]["messages"][0]["role"] == "system"


@pytest.mark.real
def test_real_llama_cpp_server_on_loopback(hash_index):
    """llama-cpp-python's own OpenAI-compatible server with the real GGUF: the same answer path."""
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] (installed by the set-up)")
    from rag.models.assets import llm_path

    port = free_port()
    proc = start_server(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(llm_path()), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "2048", "--model_alias", "qwen-local"],
        port, timeout=120,
    )
    try:
        gen = OpenAIGenerator(f"http://127.0.0.1:{port}", model="qwen-local")
        text = "".join(gen.stream([{"role": "user", "content": "Reply with the single word: yes"}], max_tokens=8))
        assert "yes" in text.lower()
        pipe = make_pipeline(hash_index)
        pipe._generator = gen
        a = pipe.ask("Ai đề xuất tổ chức hội nghị thượng đỉnh Nga - Mỹ ở Budapest?")
        assert a.raw  # the server answered; whatever it said went through the citation check
        cited = {(c.file, c.line_start) for c in a.citations}
        shown = {(e.file, e.start_line) for e in a.evidence}
        assert cited <= shown
    finally:
        proc.terminate()
        proc.wait(timeout=30)
