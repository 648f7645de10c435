"""Bundled demo A2A agents: no network, no keys, deterministic replies.

Built on the official a2a-sdk server side, so the client is tested against the
real thing. One Starlette app holds every agent, each under its own prefix:

    /<name>/                              JSON-RPC, A2A 1.0 and 0.3 on one URL
    /<name>/.well-known/agent-card.json   card advertising both (1.0 first)
    /v03/<name>/.well-known/agent-card.json   a hand-built 0.3-only card
    /legacy/<name>/.well-known/agent.json     a 0.2-style card at the old path

The 0.3 and legacy cards point at the same JSON-RPC handler as ``/<name>/``.

Message text switches behaviour, for tests: ``#fail`` ends the task in state
failed ("demo failure"), ``#error`` makes the executor raise (the server answers
JSON-RPC error -32603), ``#slow`` waits 1.5 s first, ``#input`` asks a question
(task state input-required).
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
    TaskState,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

__all__ = ["DEMO_AGENTS", "DemoAgentServer", "DemoAgentSpec", "build_app", "serve"]

Dialect = Literal["1.0", "0.3", "legacy"]

SLOW_SECONDS = 1.5
FAILURE_TEXT = "demo failure"
QUESTION_TEXT = "which language should I use?"


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


def _words(text: str) -> list[str]:
    return text.split()


def summarize(text: str) -> str:
    return "summary: " + " ".join(_words(text)[:8])


def translate(text: str) -> str:
    return "fr: " + " ".join(_FRENCH.get(w.lower(), w) for w in _words(text))


def _spec(name: str) -> DemoAgentSpec:
    for spec in DEMO_AGENTS:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in DEMO_AGENTS)
    raise KeyError(f"no demo agent named {name!r} (known: {known})")


class _DemoExecutor(AgentExecutor):
    def __init__(self, spec: DemoAgentSpec) -> None:
        self.spec = spec

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = context.get_user_input()
        if "#error" in text:
            raise RuntimeError("demo error (the message asked for #error)")
        if "#slow" in text:
            await asyncio.sleep(SLOW_SECONDS)
        wants_task = "#fail" in text or "#input" in text or self.spec.name == "summarizer"
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
            prompt, candidates = len(_words(text)), len(_words(answer))
            metadata["adk_usage_metadata"] = {
                "promptTokenCount": prompt,
                "candidatesTokenCount": candidates,
                "totalTokenCount": prompt + candidates,
            }
        elif self.spec.name == "translator":
            answer = translate(text)
            metadata["usage"] = {
                "input_tokens": len(_words(text)),
                "output_tokens": len(_words(answer)),
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
        answer, metadata = self._answer(text)
        # As ADK does: the usage of the model call on the artifact and on the
        # status event (which a2a-sdk merges into Task.metadata).
        await updater.add_artifact([new_text_part(answer)], name="result", metadata=metadata)
        await updater.update_status(TaskState.TASK_STATE_COMPLETED, metadata=metadata)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        if context.task_id and context.context_id:
            await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def _skill(spec: DemoAgentSpec) -> AgentSkill:
    return AgentSkill(
        id=spec.name, name=spec.display_name, description=spec.description, tags=["demo"]
    )


def _card(spec: DemoAgentSpec, rpc_url: str) -> AgentCard:
    """The 1.0 card: both dialects on one URL, 1.0 listed first."""
    return AgentCard(
        name=spec.display_name,
        description=spec.description,
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(url=rpc_url, protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=rpc_url, protocol_binding="JSONRPC", protocol_version="0.3"),
        ],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[_skill(spec)],
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
        "capabilities": {"streaming": False},
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


def build_app(base_url: str = "http://127.0.0.1:8000") -> Starlette:
    """All demo agents in one Starlette app; cards advertise URLs under ``base_url``."""
    base = base_url.rstrip("/")
    routes: list[BaseRoute] = []
    for spec in DEMO_AGENTS:
        rpc_url = f"{base}/{spec.name}/"
        card = _card(spec, rpc_url)
        handler = DefaultRequestHandler(
            agent_executor=_DemoExecutor(spec), task_store=InMemoryTaskStore(), agent_card=card
        )
        agent_routes = [
            *create_agent_card_routes(card),
            *create_jsonrpc_routes(handler, rpc_url="/", enable_v0_3_compat=True),
        ]
        routes.append(Mount(f"/{spec.name}", routes=agent_routes))
        routes.append(
            Route(
                f"/v03/{spec.name}/.well-known/agent-card.json",
                _static_json(_card_v03(spec, rpc_url)),
                methods=["GET"],
            )
        )
        routes.append(
            Route(
                f"/legacy/{spec.name}/.well-known/agent.json",
                _static_json(_card_v02(spec, rpc_url)),
                methods=["GET"],
            )
        )
    return Starlette(routes=routes)


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


def _agent_url(base_url: str, name: str, dialect: Dialect) -> str:
    _spec(name)
    prefix = {"1.0": "", "0.3": "/v03", "legacy": "/legacy"}.get(dialect)
    if prefix is None:
        raise ValueError(f"dialect must be '1.0', '0.3' or 'legacy', not {dialect!r}")
    return f"{base_url}{prefix}/{name}"


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

    def agent_url(self, name: str, dialect: Dialect = "1.0") -> str:
        """Base URL of one agent; its card is at ``<url>/.well-known/...``."""
        return _agent_url(self.base_url, name, dialect)

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
