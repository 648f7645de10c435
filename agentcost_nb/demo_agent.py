"""Bundled demo A2A agents: no network, no keys, deterministic replies.

Built on the official a2a-sdk server side, so the client is tested against the
real thing. One Starlette app holds every agent, each under its own prefix:

    /<name>/                              JSON-RPC, A2A 1.0 and 0.3 on one URL
    /<name>/.well-known/agent-card.json   card advertising both (1.0 first)
    /v03/<name>/                          the same agent as a 0.3-only server (1.0
                                          methods are unknown there), with a 0.3 card
    /legacy/<name>/.well-known/agent.json     a 0.2-style card at the old path
    /secure/<name>/                       the same agent behind a key: JSON-RPC needs
                                          ``Authorization: Bearer demo-secret``; its
                                          (public) card lists the Bearer scheme
    /v03/secure/<name>/.well-known/agent-card.json
                                          a 0.3 card asking for ``X-API-Key: demo-secret``,
                                          pointing at /secure/<name>/key/
    /openai/v1/chat/completions           an OpenAI-compatible chat completions endpoint

``/<name>/`` and ``/v03/<name>/`` share one handler (and task store); the
legacy card points at the 0.3 one.
Every agent streams (``capabilities.streaming``).

Message text switches behaviour, for tests:

- ``#fail``: the task ends in state failed ("demo failure");
- ``#error``: the executor raises, the server answers JSON-RPC error -32603;
- ``#slow``: waits 1.5 s first (with ``#stream``: between chunks instead);
- ``#input``: asks a question (task state input-required); the next message
  on the same task is answered;
- ``#stream``: the answer comes as several artifact chunks (at least 3).
  The summarizer reports ADK usage per chunk (one model call each: add them
  up), the translator a running ``usage`` total (the last one is the total);
- ``#working``: the task stays working for 0.8 s before it completes (ask with
  ``returnImmediately`` / ``blocking: false`` to get it while working, then poll);
- ``#drip``: the reply comes one byte every 0.5 s (an ASGI middleware).

The chat completions endpoint answers ``echo: <last user message>`` with
``usage`` counting words (earlier turns as cached prompt tokens, 2 reasoning
tokens); ``#error`` gives HTTP 500, ``#slow`` waits, ``stream: true`` streams
(with ``stream_options.include_usage``, a last chunk holds the usage).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import httpx
import uvicorn
from a2a.helpers import new_task_from_user_message, new_text_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
    TaskState,
)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from .demo_http import (
    CHAT_MODEL,
    CHUNK_SECONDS,
    DEMO_SECRET,
    SLOW_SECONDS,
    Drip,
    KeyGate,
    Only03,
    chat_completion_usage,
    chat_completions,
    chunks,
    words,
)

__all__ = [
    "CHAT_MODEL",
    "DEMO_AGENTS",
    "DEMO_SECRET",
    "DemoAgentServer",
    "DemoAgentSpec",
    "build_app",
    "chat_completion_usage",
    "chunks",
    "serve",
]

Dialect = Literal["1.0", "0.3", "legacy"]

WORK_SECONDS = 0.8  # how long a #working task stays working
FAILURE_TEXT = "demo failure"
QUESTION_TEXT = "which language should I use?"
WORKING_TEXT = "working on it"


@dataclass(frozen=True)
class DemoAgentSpec:
    name: str  # URL prefix
    display_name: str
    model: str  # label reported in metadata {"model": ...}
    description: str


DEMO_AGENTS: tuple[DemoAgentSpec, ...] = (
    DemoAgentSpec(
        "echo",
        "Echo Agent",
        "demo-echo-1",
        "Repeats your message. Reports no token usage.",
    ),
    DemoAgentSpec(
        "summarizer",
        "Summarizer",
        "demo-sum-2",
        "Answers with a Task whose artifact holds the first 8 words; reports ADK-style usage.",
    ),
    DemoAgentSpec(
        "translator",
        "Translator",
        "demo-tr-1",
        "Word-by-word toy translation to French; reports a usage object.",
    ),
)

_FRENCH = {
    "hello": "bonjour",
    "world": "monde",
    "good": "bon",
    "morning": "matin",
    "cat": "chat",
    "dog": "chien",
    "thank": "merci",
    "you": "vous",
    "and": "et",
    "the": "le",
    "is": "est",
    "yes": "oui",
    "no": "non",
}


def summarize(text: str) -> str:
    return "summary: " + " ".join(words(text)[:8])


def translate(text: str) -> str:
    return "fr: " + " ".join(_FRENCH.get(w.lower(), w) for w in words(text))


def _spec(name: str) -> DemoAgentSpec:
    for spec in DEMO_AGENTS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in DEMO_AGENTS)
    raise KeyError(f"no demo agent named {name!r} (known: {known})")


def _adk(prompt: int, candidates: int) -> dict[str, Any]:
    return {
        "adk_usage_metadata": {
            "promptTokenCount": prompt,
            "candidatesTokenCount": candidates,
            "totalTokenCount": prompt + candidates,
        }
    }


class _DemoExecutor(AgentExecutor):
    def __init__(self, spec: DemoAgentSpec) -> None:
        self.spec = spec

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = context.get_user_input()
        if "#error" in text:
            raise RuntimeError("demo error (the message asked for #error)")
        if "#slow" in text and "#stream" not in text:
            await asyncio.sleep(SLOW_SECONDS)
        switches = ("#fail", "#input", "#stream", "#working")
        wants_task = any(s in text for s in switches) or self.spec.name == "summarizer"
        # A follow-up to a task (e.g. after input-required) must answer on that task.
        if wants_task or context.current_task is not None:
            await self._answer_with_task(context, event_queue, text)
        else:
            answer, metadata = self._answer(text)
            message = new_text_message(answer, context_id=context.context_id)
            message.metadata.update(metadata)
            await event_queue.enqueue_event(message)

    def _answer(self, text: str) -> tuple[str, dict[str, Any]]:
        """The reply text and the metadata reported with it."""
        metadata: dict[str, Any] = {"model": self.spec.model}
        if self.spec.name == "summarizer":
            answer = summarize(text)
            metadata.update(_adk(len(words(text)), len(words(answer))))
        elif self.spec.name == "translator":
            answer = translate(text)
            metadata["usage"] = {
                "input_tokens": len(words(text)),
                "output_tokens": len(words(answer)),
            }
        else:
            answer = f"echo: {text}"
        return answer, metadata

    async def _answer_with_task(
        self, context: RequestContext, event_queue: EventQueue, text: str
    ) -> None:
        assert context.message is not None  # execute() is only called for a message
        task = context.current_task
        if task is None:
            task = new_task_from_user_message(context.message)
            task.metadata.update({"model": self.spec.model})
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        if "#fail" in text:
            await updater.failed(updater.new_agent_message([new_text_part(FAILURE_TEXT)]))
            return
        if "#input" in text:
            await updater.requires_input(updater.new_agent_message([new_text_part(QUESTION_TEXT)]))
            return
        if "#working" in text:
            await updater.start_work(updater.new_agent_message([new_text_part(WORKING_TEXT)]))
            await asyncio.sleep(WORK_SECONDS)
        answer, metadata = self._answer(text)
        if "#stream" in text:
            gap = SLOW_SECONDS if "#slow" in text else CHUNK_SECONDS
            await self._stream(updater, text, answer, gap)
            return
        usage = {k: metadata.pop(k) for k in ("adk_usage_metadata",) if k in metadata}
        if usage:
            # As ADK does: the model call's usage rides on a working status
            # event (a2a-sdk merges it into Task.metadata), not on the result.
            await updater.update_status(TaskState.TASK_STATE_WORKING, metadata=usage)
        await updater.add_artifact([new_text_part(answer)], name="result", metadata=metadata)
        await updater.update_status(TaskState.TASK_STATE_COMPLETED, metadata=metadata)

    async def _stream(self, updater: TaskUpdater, text: str, answer: str, gap: float) -> None:
        """The answer in chunks: appended to one artifact, the usage as each agent reports it."""
        prompt = len(words(text))
        pieces = chunks(answer)
        written = 0
        for i, piece in enumerate(pieces):
            if i:
                await asyncio.sleep(gap)
            written += len(words(piece))
            metadata: dict[str, Any] = {"model": self.spec.model}
            if self.spec.name == "summarizer":
                # One model call per chunk: its own counts, on a status event.
                await updater.update_status(
                    TaskState.TASK_STATE_WORKING, metadata=_adk(prompt, len(words(piece)))
                )
            elif self.spec.name == "translator":
                # A running total: each chunk repeats the counts so far.
                metadata["usage"] = {"input_tokens": prompt, "output_tokens": written}
            await updater.add_artifact(
                [new_text_part(piece)],
                artifact_id="answer",
                name="result",
                metadata=metadata,
                append=i > 0,
                last_chunk=i == len(pieces) - 1,
            )
        await updater.update_status(TaskState.TASK_STATE_COMPLETED)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        if context.task_id and context.context_id:
            await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def _skill(spec: DemoAgentSpec) -> AgentSkill:
    return AgentSkill(
        id=spec.name, name=spec.display_name, description=spec.description, tags=["demo"]
    )


def _card(spec: DemoAgentSpec, rpc_url: str, *, secure: bool = False) -> AgentCard:
    """The 1.0 card: both dialects on one URL, 1.0 listed first (``secure``: Bearer wanted)."""
    security: dict[str, Any] = {}
    if secure:
        security = {
            "security_schemes": {
                "bearer": SecurityScheme(
                    http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="Bearer")
                )
            },
            "security_requirements": [SecurityRequirement(schemes={"bearer": StringList()})],
        }
    return AgentCard(
        name=spec.display_name,
        description=spec.description,
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=rpc_url, protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=rpc_url, protocol_binding="JSONRPC", protocol_version="0.3"),
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[_skill(spec)],
        **security,
    )


def _card_v03(spec: DemoAgentSpec, rpc_url: str) -> dict[str, Any]:
    """A card as a 0.3 server writes it: no supportedInterfaces."""
    return {
        "name": spec.display_name,
        "description": spec.description,
        "version": "1.0.0",
        "url": rpc_url,
        "preferredTransport": "JSONRPC",
        "protocolVersion": "0.3.0",
        "capabilities": {"streaming": True},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [
            {
                "id": spec.name,
                "name": spec.display_name,
                "description": spec.description,
                "tags": ["demo"],
            }
        ],
    }


def _card_v03_api_key(spec: DemoAgentSpec, rpc_url: str) -> dict[str, Any]:
    """A 0.3 card asking for an API key in a named header (OpenAPI-style scheme)."""
    return {
        **_card_v03(spec, rpc_url),
        "securitySchemes": {"apikey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        "security": [{"apikey": []}],
    }


def _card_v02(spec: DemoAgentSpec, rpc_url: str) -> dict[str, Any]:
    """A 0.2-style card: only ``url`` says where to send."""
    card = _card_v03(spec, rpc_url)
    for key in ("preferredTransport", "protocolVersion"):
        del card[key]
    return card


def _static_json(payload: dict[str, Any]) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(payload)

    return endpoint


def _handler(spec: DemoAgentSpec, card: AgentCard) -> DefaultRequestHandler:
    return DefaultRequestHandler(
        agent_executor=_DemoExecutor(spec), task_store=InMemoryTaskStore(), agent_card=card
    )


def _jsonrpc(handler: DefaultRequestHandler, rpc_url: str = "/") -> list[Route]:
    return create_jsonrpc_routes(handler, rpc_url=rpc_url, enable_v0_3_compat=True)


def build_app(base_url: str = "http://127.0.0.1:8000") -> Starlette:
    """All demo agents in one Starlette app; cards advertise URLs under ``base_url``."""
    base = base_url.rstrip("/")
    routes: list[BaseRoute] = []
    for spec in DEMO_AGENTS:
        rpc_url = f"{base}/{spec.name}/"
        card = _card(spec, rpc_url)
        handler = _handler(spec, card)
        routes.append(
            Mount(f"/{spec.name}", routes=[*create_agent_card_routes(card), *_jsonrpc(handler)])
        )
        # The same agent as a 0.3 server (0.3 methods only, see _Only03) and a 0.2 card.
        v03_url = f"{base}/v03/{spec.name}/"
        v03_card = Route(
            "/.well-known/agent-card.json", _static_json(_card_v03(spec, v03_url)), methods=["GET"]
        )
        routes.append(Mount(f"/v03/{spec.name}", routes=[v03_card, *_jsonrpc(handler)]))
        routes.append(
            Route(
                f"/legacy/{spec.name}/.well-known/agent.json",
                _static_json(_card_v02(spec, v03_url)),
                methods=["GET"],
            )
        )
        secure_url = f"{base}/secure/{spec.name}/"
        secure_card = _card(spec, secure_url, secure=True)
        secure = _handler(spec, secure_card)
        routes.append(
            Mount(
                f"/secure/{spec.name}",
                routes=[
                    *create_agent_card_routes(secure_card),
                    *_jsonrpc(secure),
                    *_jsonrpc(secure, "/key/"),
                ],
            )
        )
        routes.append(
            Route(
                f"/v03/secure/{spec.name}/.well-known/agent-card.json",
                _static_json(_card_v03_api_key(spec, secure_url + "key/")),
                methods=["GET"],
            )
        )
    routes.append(Route("/openai/v1/chat/completions", chat_completions, methods=["POST"]))
    middleware = [Middleware(KeyGate), Middleware(Only03), Middleware(Drip)]
    return Starlette(routes=routes, middleware=middleware)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listen now: connections queue until uvicorn accepts, so nobody is refused.
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _advertised_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0") else host


def _agent_url(base_url: str, name: str, dialect: Dialect, *, secure: bool = False) -> str:
    _spec(name)
    prefix = {"1.0": "", "0.3": "/v03", "legacy": "/legacy"}.get(dialect)
    if prefix is None or (secure and dialect == "legacy"):
        raise ValueError(f"dialect must be '1.0', '0.3' or 'legacy', not {dialect!r}")
    return f"{base_url}{prefix}{'/secure' if secure else ''}/{name}"


class DemoAgentServer:
    """The demo agents on a uvicorn server in a background thread.

    A thread, not a task, so that it runs beside an asyncio loop that is
    already running (a Jupyter kernel) and survives ``asyncio.run`` in tests.

        with DemoAgentServer() as server:        # port 0: a free port
            url = server.agent_url("echo")
    """

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("DemoAgentServer is not started")
        return f"http://{_advertised_host(self.host)}:{self.port}"

    def agent_url(self, name: str, dialect: Dialect = "1.0", *, secure: bool = False) -> str:
        """Base URL of one agent; its card is at ``<url>/.well-known/...``.

        ``secure``: the same agent behind a key (1.0: Bearer, 0.3: X-API-Key).
        """
        return _agent_url(self.base_url, name, dialect, secure=secure)

    @property
    def chat_url(self) -> str:
        """Base URL of the OpenAI-compatible endpoint (``…/v1/chat/completions`` under it)."""
        return f"{self.base_url}/openai/v1"

    def start(self, *, wait: float = 10.0) -> DemoAgentServer:
        if self._server is not None:
            raise RuntimeError("DemoAgentServer is already started")
        # Bind first, so port 0 is resolved before the cards are built.
        self._sock = _bind(self.host, self.port)
        self.port = self._sock.getsockname()[1]
        base_url = f"http://{_advertised_host(self.host)}:{self.port}"
        config = uvicorn.Config(
            build_app(base_url),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        sock = self._sock
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="demo-agent-server", daemon=True
        )
        self._thread.start()
        try:
            self._wait_until_answering(wait)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self, wait: float) -> None:
        card_url = self.agent_url(DEMO_AGENTS[0].name) + "/.well-known/agent-card.json"
        deadline = time.monotonic() + wait
        with httpx.Client(timeout=1.0) as client:
            while True:
                if self._thread is not None and not self._thread.is_alive():
                    raise RuntimeError(f"demo agent server on port {self.port} exited at start")
                try:
                    if client.get(card_url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"demo agent server did not answer at {card_url}")
                time.sleep(0.02)

    def stop(self) -> None:
        server, thread, sock = self._server, self._thread, self._sock
        self._server = self._thread = self._sock = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=5)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout=5)
        if sock is not None:
            sock.close()

    def __enter__(self) -> DemoAgentServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve the demo agents until interrupted (``agentcost-nb demo-agent``)."""
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    base_url = f"http://{_advertised_host(host)}:{port}"
    for spec in DEMO_AGENTS:
        print(
            f"{spec.display_name} ({spec.model}): {_agent_url(base_url, spec.name, '1.0')}",
            flush=True,
        )
    server = uvicorn.Server(uvicorn.Config(build_app(base_url), log_level="warning"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
