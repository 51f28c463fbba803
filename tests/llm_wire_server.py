"""A local HTTP server that speaks the OpenAI Chat Completions and Anthropic Messages wire formats.

The real ``openai`` and ``anthropic`` SDKs are pointed at it (``base_url``) so that the providers
are tested over real HTTP without any LLM API. Every request is recorded (path, headers, JSON body,
arrival time); a test queues what the next requests get: a normal reply, an error status (with
retry-after), a malformed body, or a reply slower than the client's timeout. With nothing queued
the server answers normally.

    with WireServer() as server:
        server.queue(error(429, retry_after="1"), ok("hello"))
        provider = provider_for("openai:gpt-4o", base_url=server.url + "/v1", keys=...)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"


@dataclass(frozen=True)
class Answer:
    """What the server does with one request."""

    kind: str  # "ok", "error", "malformed" or "slow"
    text: str = "Hello from the wire server."
    prompt_tokens: int = 12
    completion_tokens: int = 7
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: dict[str, Any] | None = None


def ok(
    text: str = "Hello from the wire server.", prompt_tokens: int = 12, completion_tokens: int = 7
) -> Answer:
    return Answer("ok", text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def error(
    status: int,
    *,
    retry_after: str | None = None,
    retry_after_ms: str | None = None,
    body: dict[str, Any] | None = None,
) -> Answer:
    """An error status with the provider's error body (or ``body``) and retry headers."""
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return Answer("error", status=status, headers=headers, body=body)


def malformed() -> Answer:
    """200 with a JSON content type and a truncated body."""
    return Answer("malformed")


def slow(delay_s: float) -> Answer:
    """A normal reply sent only after ``delay_s`` (cut short when the server stops)."""
    return Answer("slow", delay_s=delay_s)


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    at: float  # time.monotonic() on arrival


class WireServer:
    """The server, on 127.0.0.1 at a free port, serving from a thread.

    ``responder`` (request body to Answer) answers whatever the queue does not. With
    ``hold_after`` N, requests after the N-th are held unanswered until the server stops: a
    client killed meanwhile has paid for exactly the N answered ones (``answered``).
    """

    def __init__(
        self,
        responder: Callable[[dict[str, Any]], Answer] | None = None,
        hold_after: int | None = None,
    ) -> None:
        self.requests: list[Recorded] = []
        self.answered: list[Any] = []
        self.responder = responder
        self.hold_after = hold_after
        self._answers: deque[Answer] = deque()
        self._seen = threading.Condition()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll keeps stop() (one per test) from costing the default half second.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> WireServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def queue(self, *answers: Answer) -> None:
        """What the next requests get, in order; after these, normal replies."""
        with self._seen:
            self._answers.extend(answers)

    def wait_for_requests(self, count: int, timeout_s: float = 30.0) -> bool:
        with self._seen:
            return self._seen.wait_for(lambda: len(self.requests) >= count, timeout=timeout_s)

    def wait_for_answers(self, count: int, timeout_s: float = 30.0) -> bool:
        with self._seen:
            return self._seen.wait_for(lambda: len(self.answered) >= count, timeout=timeout_s)

    def _take(self, recorded: Recorded) -> Answer | None:
        """The answer to a request, or None for one held until the server stops."""
        with self._seen:
            self.requests.append(recorded)
            self._seen.notify_all()
            if self.hold_after is not None and len(self.requests) > self.hold_after:
                return None
            if self._answers:
                return self._answers.popleft()
            body = recorded.body if isinstance(recorded.body, dict) else {}
            return self.responder(body) if self.responder is not None else ok()

    def _answered(self, body: Any) -> None:
        with self._seen:
            self.answered.append(body)
            self._seen.notify_all()


def _handler_for(server: WireServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            recorded = Recorded(
                self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
            )
            answer = server._take(recorded)
            if answer is None:
                server._stopping.wait()
                return
            # A client that gave up (a timeout test) gets nothing.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer(answer, body if isinstance(body, dict) else {})
                if answer.kind == "ok":
                    server._answered(body)

        def _answer(self, answer: Answer, request: dict[str, Any]) -> None:
            anthropic = self.path.rstrip("/").endswith(MESSAGES)
            if not (anthropic or self.path.rstrip("/").endswith(CHAT)):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            if answer.kind == "slow" and server._stopping.wait(answer.delay_s):
                return
            if answer.kind == "malformed":
                self._send_bytes(200, b'{"id": "chatcmpl-broken", "choices": [{"index": 0, "mess')
                return
            if answer.kind == "error":
                model = str(request.get("model", ""))
                body = answer.body or (
                    _anthropic_error(answer.status, model)
                    if anthropic
                    else _openai_error(answer.status, model)
                )
                self._send(answer.status, body, answer.headers)
                return
            reply = _anthropic_reply if anthropic else _chat_reply
            self._send(200, reply(answer, request))

        def _send(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            self._send_bytes(status, json.dumps(body).encode(), headers)

        def _send_bytes(
            self, status: int, data: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _chat_reply(answer: Answer, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_wire_server",
    }


def _anthropic_reply(answer: Answer, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", ""),
        "content": [{"type": "text", "text": answer.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": answer.prompt_tokens,
            "output_tokens": answer.completion_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }


_OPENAI_ERRORS = {
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-te****1234."),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for {model} on requests per min (RPM).",
    ),
    500: ("server_error", None, "The server had an error while processing your request."),
}

_ANTHROPIC_ERRORS = {
    401: ("authentication_error", "invalid x-api-key"),
    404: ("not_found_error", "model: {model}"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def _openai_error(status: int, model: str) -> dict[str, Any]:
    kind, code, message = _OPENAI_ERRORS.get(status, ("server_error", None, f"HTTP {status}"))
    return {
        "error": {"message": message.format(model=model), "type": kind, "param": None, "code": code}
    }


def _anthropic_error(status: int, model: str) -> dict[str, Any]:
    kind, message = _ANTHROPIC_ERRORS.get(status, ("api_error", f"HTTP {status}"))
    return {
        "type": "error",
        "error": {"type": kind, "message": message.format(model=model)},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }
