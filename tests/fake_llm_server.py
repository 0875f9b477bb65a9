"""A scriptable OpenAI-compatible chat server on loopback for offline tests.

The real litellm client talks to it over HTTP, so tests exercise our real
gateway code (retries, parsing, cost) without touching the network.

A *script* decides each reply: ``responder(request) -> Reply``. Replies can
carry latency and faults (HTTP status, Retry-After, bad bodies, truncation,
dropped connections), so a fault case is data, not code.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from collections.abc import Callable


@dataclass
class Reply:
    """One scripted response. ``content`` is the assistant message text."""

    content: str = ""
    status: int = 200
    finish_reason: str = "stop"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes | None = None  # send exactly these bytes (HTML, empty, garbage)
    drop_connection: bool = False  # close the socket without answering
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    chunk_delay: float = 0.0  # seconds between streamed chunks (a slow model)
    break_stream_after: int | None = None  # drop the connection after this many streamed chunks


@dataclass
class Request:
    """What the client sent, recorded for assertions."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """All prompt text joined (OpenAI/Ollama messages, Anthropic system, Ollama prompt)."""
        parts = [_flatten(self.body.get("system")), _flatten(self.body.get("prompt"))]
        parts += [_flatten(m.get("content")) for m in self.body.get("messages", [])]
        return "\n".join(p for p in parts if p)

    @property
    def system(self) -> str:
        """The system prompt, wherever the protocol puts it."""
        for m in self.body.get("messages", []):
            if m.get("role") == "system":
                return _flatten(m.get("content"))
        return _flatten(self.body.get("system")) or _flatten(self.body.get("prompt"))[:4000]


def _flatten(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


Responder = Callable[[Request], Reply | str]


def _native_payload(path: str, body: dict[str, Any], reply: "Reply", prompt_tokens: int,
                    completion_tokens: int) -> dict[str, Any] | None:
    """Anthropic (/v1/messages) and Ollama (/api/chat, /api/generate, /api/show) reply shapes."""
    model = body.get("model") or body.get("name") or "fake-model"
    truncated = reply.finish_reason == "length"
    if path.endswith("/v1/messages"):
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": reply.content}],
                "stop_reason": "max_tokens" if truncated else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens}}
    ollama = {"model": model, "created_at": "2026-01-01T00:00:00Z", "done": True,
              "done_reason": "length" if truncated else "stop",
              "prompt_eval_count": prompt_tokens, "eval_count": completion_tokens}
    if path.endswith("/api/chat"):
        return {**ollama, "message": {"role": "assistant", "content": reply.content}}
    if path.endswith("/api/generate"):
        return {**ollama, "response": reply.content}
    if path.endswith("/api/show"):
        return {"modelfile": "", "parameters": "", "template": "", "details": {}, "model_info": {}}
    return None


def _count_tokens(text: str) -> int:
    """Rough and deterministic: one token per 4 characters."""
    return max(1, len(text) // 4)


class RecordingResponder:
    """A request log and the responder that answers it: what both fakes (HTTP and in-process) share."""

    def __init__(self, responder: Responder):
        self.responder = responder
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def answer(self, req: Request) -> Reply:
        """Record ``req``; the responder's reply as a ``Reply``, after its scripted delay."""
        with self._lock:
            self.requests.append(req)
        reply = self.responder(req)
        if isinstance(reply, str):
            reply = Reply(content=reply)
        if reply.delay:
            time.sleep(reply.delay)
        return reply


class FakeLLMServer(RecordingResponder):
    """Threaded HTTP server with a swappable responder and a request log."""

    def __init__(self, responder: Responder | None = None, host: str = "127.0.0.1", port: int = 0):
        super().__init__(responder or (lambda req: Reply(content="ok")))
        self.completed = 0  # replies fully sent; requests minus completed = in flight
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without TCP_NODELAY, delayed ACKs add
            # ~40 ms per reply on loopback, which would pollute latency benchmarks.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # /v1/models for doctor-style probes
                body = json.dumps({"object": "list", "data": [{"id": "fake-model", "object": "model"}]}).encode()
                self._send(200, body, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                req = Request(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
                reply = server.answer(req)
                if reply.drop_connection:
                    with server._lock:
                        server.completed += 1
                    self.close_connection = True
                    try:
                        self.connection.shutdown(2)
                    except OSError:
                        pass
                    return
                if reply.raw_body is not None:
                    self._send(reply.status, reply.raw_body, reply.headers)
                    return
                if reply.status != 200:
                    err = {"error": {"message": reply.content or f"fake error {reply.status}", "type": "fake_error", "code": reply.status}}
                    self._send(reply.status, json.dumps(err).encode(), reply.headers)
                    return
                prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else _count_tokens(req.text)
                completion_tokens = reply.completion_tokens if reply.completion_tokens is not None else _count_tokens(reply.content)
                native = _native_payload(self.path, body, reply, prompt_tokens, completion_tokens)
                if native is not None:
                    self._send(200, json.dumps(native).encode(), reply.headers)
                    return
                if body.get("stream"):
                    self._stream(body, reply, prompt_tokens, completion_tokens)
                    return
                payload = {
                    "id": f"chatcmpl-fake-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "fake-model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": reply.finish_reason,
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                }
                self._send(200, json.dumps(payload).encode(), reply.headers)

            def _stream(self, body: dict[str, Any], reply: "Reply", prompt_tokens: int, completion_tokens: int) -> None:
                """OpenAI server-sent events: content deltas, a finish chunk, a usage chunk, [DONE]."""
                base = {"id": f"chatcmpl-fake-{len(server.requests)}", "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": body.get("model", "fake-model")}
                text = reply.content
                step = max(16, len(text) // 200)
                pieces = [text[i:i + step] for i in range(0, len(text), step)]
                events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece},
                                                "finish_reason": None}]} for piece in pieces]
                events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    events.append({**base, "choices": [], "usage": {
                        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens}})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for i, event in enumerate([*events, "[DONE]"]):
                        if reply.break_stream_after is not None and i >= reply.break_stream_after:
                            self.close_connection = True
                            self.connection.shutdown(2)
                            break
                        data = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                        if reply.chunk_delay:
                            time.sleep(reply.chunk_delay)
                    else:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass
                with server._lock:
                    server.completed += 1

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "application/json") if headers else "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if self.command == "POST":
                    with server._lock:
                        server.completed += 1

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients killed mid-request (kill -9 tests) are expected here

        self._httpd = QuietServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def in_flight(self) -> int:
        """Chat requests received whose replies have not been sent yet."""
        with self._lock:
            return len(self.requests) - self.completed

    def calls(self, path_part: str = "") -> list[Request]:
        """Completion requests of any protocol (or those whose path contains ``path_part``)."""
        kinds = ("chat/completions", "/v1/messages", "/api/chat", "/api/generate")
        with self._lock:
            return [r for r in self.requests
                    if (path_part in r.path if path_part else any(k in r.path for k in kinds))]

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
