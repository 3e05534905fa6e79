"""A real local HTTP server speaking OpenAI's chat-completions protocol, for tests.

Runs in a thread on 127.0.0.1 with an ephemeral port. Replies are scripted per request
(`script(...)` queues them; `default` answers once the queue is empty), and every
request is recorded with its headers and JSON body so tests can check what was sent.
Answers may carry function calls (`Reply.tool_calls`) for tool-calling agents.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    """One scripted response: status, headers and a body, optionally after a delay."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    # "body": the request's headers as a text/plain body; "content": as the answer's text
    echo: str | None = None

    @classmethod
    def content(
        cls, text: str | None, model: str = "test-model", usage: tuple[int, int] = (1, 1)
    ) -> Reply:
        """A well-formed chat completion whose message content is `text`; `usage` is its
        (prompt_tokens, completion_tokens)."""
        return cls._message({"role": "assistant", "content": text}, "stop", model, usage)

    @classmethod
    def tool_calls(
        cls,
        *calls: tuple[str, Any],
        content: str | None = None,
        usage: tuple[int, int] = (1, 1),
    ) -> Reply:
        """An answer calling tools: each call is (name, arguments); a dict is sent as its
        JSON text, a str as it is (so a test can send malformed JSON)."""
        tool_calls = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for i, (name, args) in enumerate(calls)
        ]
        message = {"role": "assistant", "content": content, "tool_calls": tool_calls}
        return cls._message(message, "tool_calls", "test-model", usage)

    @classmethod
    def _message(
        cls, message: dict[str, Any], finish: str, model: str, usage: tuple[int, int]
    ) -> Reply:
        payload = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": usage[0] + usage[1],
            },
        }
        return cls(
            body=json.dumps(payload).encode(), headers=(("Content-Type", "application/json"),)
        )

    @classmethod
    def rating(cls, rating: str, rationale: str = "Momentum is positive.") -> Reply:
        return cls.content(json.dumps({"rating": rating, "rationale": rationale}))

    @classmethod
    def error(cls, status: int, message: str = "error", retry_after: str | None = None) -> Reply:
        headers = [("Content-Type", "application/json")]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        body = json.dumps({"error": {"message": message, "type": "test", "code": status}})
        return cls(status=status, body=body.encode(), headers=tuple(headers))

    @classmethod
    def malformed(cls) -> Reply:
        """HTTP 200 with a body that is not JSON."""
        return cls(
            body=b'{"choices": [{"message": ', headers=(("Content-Type", "application/json"),)
        )

    @classmethod
    def echo_headers(cls, status: int, into: str = "body", prefix: str = "") -> Reply:
        """A debugging proxy's answer: the request's headers (Authorization included)
        echoed as a text/plain body (`into="body"`) or as the answer's text ("content")."""
        return cls(status=status, body=prefix.encode(), echo=into)

    def after(self, delay: float) -> Reply:
        """The same reply, sent `delay` seconds late."""
        return dataclasses.replace(self, delay=delay)

    def for_request(self, headers: dict[str, str]) -> Reply:
        """The reply to send to a request with these headers (fills in an echo)."""
        if self.echo is None:
            return self
        # the credential first, so that even a short preview of the echo holds it
        ordered = sorted(headers.items(), key=lambda kv: kv[0].lower() != "authorization")
        text = self.body.decode() + "".join(f"{k}: {v}\n" for k, v in ordered)
        if self.echo == "content":
            return dataclasses.replace(Reply.content(text), status=self.status)
        return dataclasses.replace(
            self, body=text.encode(), headers=(("Content-Type", "text/plain"),), echo=None
        )


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or the raw text when it is not JSON


@dataclass
class _State:
    default: Reply
    queue: deque[Reply] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    responder: Callable[[Any], Reply] | None = None
    in_flight: int = 0
    peak_in_flight: int = 0


class OpenAIServer:
    """`responder`, when given, answers each request from its JSON body once the scripted
    queue is empty (instead of `default`): replies that depend on the conversation, for
    concurrent clients whose requests interleave."""

    def __init__(
        self, default: Reply | None = None, responder: Callable[[Any], Reply] | None = None
    ):
        self._state = _State(default=default or Reply.rating("HOLD"), responder=responder)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def peak_in_flight(self) -> int:
        """The most requests the server was answering at the same time."""
        with self._state.lock:
            return self._state.peak_in_flight

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._state.lock:
            self._state.queue.extend(replies)

    def set_default(self, reply: Reply) -> None:
        with self._state.lock:
            self._state.default = reply

    def start(self) -> OpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stopping.set()  # wakes delayed replies
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like real providers
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            with state.lock:
                state.requests.append(
                    RecordedRequest(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                if state.queue:
                    reply = state.queue.popleft()
                elif state.responder is not None and isinstance(body, dict):
                    reply = state.responder(body)
                else:
                    reply = state.default
                state.in_flight += 1
                state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
            try:
                self._reply(reply)
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _reply(self, reply: Reply) -> None:
            if self.path != CHAT_PATH:
                reply = Reply.error(404, f"no route {self.path}")
            reply = reply.for_request(dict(self.headers.items()))
            if reply.delay and state.stopping.wait(reply.delay):
                return
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeout)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
