"""Credentials: from the card's securitySchemes, sent as asked, and never seen anywhere else."""

from __future__ import annotations

import asyncio
import base64
import json
import pickle
from urllib.parse import quote, quote_plus

import httpx
import pyarrow.parquet as pq
import pytest

from agentcost_nb.client._auth import (
    AuthScheme,
    Secret,
    auth_headers,
    redact,
    scheme_from_card,
)
from agentcost_nb.client.a2a import A2AClient
from agentcost_nb.client.chat_completions import ChatCompletionsClient
from agentcost_nb.demo_agent import DEMO_SECRET
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import ChatWidget

KEY = "sk-live-0123456789abcdefSECRET"


# ------------------------------------------------------------ card -> scheme


@pytest.mark.parametrize(
    ("schemes", "expected"),
    [
        ({"b": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}}, AuthScheme("bearer", name="b")),
        ({"b": {"type": "http", "scheme": "bearer"}}, AuthScheme("bearer", name="b")),
        (
            {"k": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}}},
            AuthScheme("header", header="X-API-Key", name="k"),
        ),
        (
            {"k": {"type": "apiKey", "in": "header", "name": "X-Goog-Key"}},
            AuthScheme("header", header="X-Goog-Key", name="k"),
        ),
        (
            {"o": {"oauth2SecurityScheme": {"flows": {}}}},
            AuthScheme("bearer", name="o", label="an OAuth 2 access token"),
        ),
        (
            {"o": {"type": "openIdConnect", "openIdConnectUrl": "x"}},
            AuthScheme("bearer", name="o", label="an OpenID Connect token"),
        ),
        (
            {"q": {"type": "apiKey", "in": "query", "name": "key"}},
            AuthScheme("query", param="key", name="q"),
        ),
        (
            {"q": {"apiKeySecurityScheme": {"location": "query", "name": "api_key"}}},
            AuthScheme("query", param="api_key", name="q"),
        ),
        (
            {"c": {"apiKeySecurityScheme": {"location": "cookie", "name": "sid"}}},
            AuthScheme("cookie", param="sid", name="c"),
        ),
        (
            {"c": {"type": "apiKey", "in": "cookie", "name": "sid"}},
            AuthScheme("cookie", param="sid", name="c"),
        ),
        ({"basic": {"type": "http", "scheme": "basic"}}, AuthScheme("basic", name="basic")),
        (
            {"basic": {"httpAuthSecurityScheme": {"scheme": "Basic"}}},
            AuthScheme("basic", name="basic"),
        ),
        ({}, None),
    ],
)
def test_scheme_from_card_reads_1_0_and_0_3_shapes(schemes, expected):
    assert scheme_from_card({"securitySchemes": schemes}) == expected


def test_a_required_scheme_wins_and_the_sdk_double_shape_reads_once():
    schemes = {
        "first": {"type": "apiKey", "in": "header", "name": "X-A"},
        # a2a-sdk 1.3 writes both shapes into one object
        "bearer": {
            "httpAuthSecurityScheme": {"scheme": "Bearer"},
            "type": "http",
            "scheme": "Bearer",
        },  # fmt: skip
    }
    card_10 = {"securitySchemes": schemes, "securityRequirements": [{"schemes": {"bearer": {}}}]}
    card_03 = {"securitySchemes": schemes, "security": [{"bearer": []}]}
    assert (
        scheme_from_card(card_10)
        == scheme_from_card(card_03)
        == AuthScheme("bearer", name="bearer")
    )
    assert scheme_from_card({"securitySchemes": schemes}).header == "X-A"  # type: ignore[union-attr]
    assert scheme_from_card(None) is None and scheme_from_card({"securitySchemes": "x"}) is None


def test_headers_secret_and_redaction():
    key = Secret(f"  {KEY} ")
    assert auth_headers(None, key) == {"Authorization": f"Bearer {KEY}"}  # Bearer by default
    assert auth_headers(AuthScheme("header", header="X-API-Key"), key) == {"X-API-Key": KEY}
    assert auth_headers(AuthScheme("bearer"), None) == {} == auth_headers(None, Secret(""))
    assert KEY not in repr(key) and KEY not in str(key) and KEY not in f"{[key]}"
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert redact(f"header value 'Bearer {KEY}' is invalid", [key, None]) == (
        "header value 'Bearer ****' is invalid"
    )


# ------------------------------------------------------------- real server


@pytest.mark.parametrize(("dialect", "header"), [("1.0", "Bearer"), ("0.3", "X-API-Key")])
def test_the_secure_agent_answers_with_the_key_sent_as_its_card_asks(demo_server, dialect, header):
    url = demo_server.agent_url("echo", dialect, secure=True)
    card = httpx.get(url + "/.well-known/agent-card.json").json()  # cards stay public
    scheme = scheme_from_card(card)
    assert scheme is not None and (scheme.header if scheme.kind == "header" else "Bearer") == header

    async def calls():
        client = A2AClient(timeout=10)
        good = await client.send(url, "let me in", auth_key=DEMO_SECRET)
        none = await client.send(url, "let me in", credential_hint="set $DEMO_KEY")
        wrong = await client.send(url, "let me in", auth_key=KEY)
        return good, none, wrong

    good, none, wrong = asyncio.run(calls())
    assert (good.status, good.text) == ("success", "echo: let me in")
    assert (none.status, none.error_type, none.http_status) == ("error", "auth", 401)
    wanted = "a Bearer token" if header == "Bearer" else "an API key in the X-API-Key header"
    assert wanted in none.error and "none was given (set $DEMO_KEY)" in none.error
    assert (wrong.error_type, wrong.http_status) == ("auth", 401)
    assert "refused the key" in wrong.error and KEY not in wrong.error


def test_a_key_sent_as_a_bearer_token_is_nowhere_in_parquet_widget_state_or_error_text(
    demo_server, tmp_path
):
    tracker = Tracker(tmp_path)
    tracker.registry.add(
        AgentConfig(
            name="vault", display_name="Vault", url=demo_server.agent_url("echo", secure=True)
        )  # fmt: skip
    )
    chat = ChatWidget(tracker)
    chat.select("vault")
    chat.agent_key.value = DEMO_SECRET  # typed into the password field
    assert chat.agent_key.value == ""  # taken out of the synced state at once
    ok = asyncio.run(chat.send("the right key"))
    assert ok is not None and (ok.reply.status, ok.reply.text) == ("success", "echo: the right key")

    chat.agent_key.value = KEY  # a wrong key this time: refused
    refused = asyncio.run(chat.send("a wrong key"))
    assert refused is not None and refused.reply.error_type == "auth"

    for secret in (DEMO_SECRET, KEY):
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
        state = json.dumps(chat.get_state(), default=str)
        state += "".join(json.dumps(w.get_state(), default=str) for w in _descendants(chat))
        assert secret not in state
        for text in (refused.reply.error, refused.event.error, chat.status.value, repr(refused),
                     repr(chat), repr(chat._agent_key), repr(refused.event)):  # fmt: skip
            assert secret not in (text or "")
    assert "refused the key sent as a Bearer token" in refused.reply.error


def _descendants(widget):
    for child in getattr(widget, "children", ()):
        yield child
        yield from _descendants(child)


def test_a_key_inside_a_library_exception_is_redacted():
    def handler(request):
        # As httpx does for a header it cannot send: the value is in the message.
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY}'")

    client = A2AClient(transport=httpx.MockTransport(handler))
    reply = asyncio.run(client.send("http://agent.test/rpc", "hi", dialect="1.0", auth_key=KEY))
    assert reply.error_type == "invalid_response"
    assert KEY not in reply.error and "Bearer ****" in reply.error


def test_the_key_comes_from_the_env_var_named_in_the_agent_config(
    demo_server, tmp_path, monkeypatch
):
    tracker = Tracker(tmp_path)
    tracker.registry.add(
        AgentConfig(
            name="vault",
            display_name="Vault",
            auth_env="VAULT_KEY",
            url=demo_server.agent_url("echo", secure=True),
        )  # fmt: skip
    )
    monkeypatch.delenv("VAULT_KEY", raising=False)
    missing = tracker.call_sync("vault", "knock knock")
    assert missing.reply.error_type == "auth"
    assert "needs a Bearer token" in missing.reply.error and "$VAULT_KEY" in missing.reply.error
    monkeypatch.setenv("VAULT_KEY", DEMO_SECRET)
    ok = tracker.call_sync("vault", "knock knock")
    assert (ok.reply.status, ok.reply.text) == ("success", "echo: knock knock")


def test_chat_completions_send_the_key_as_a_bearer_token_and_name_it_when_missing():
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return httpx.Response(401, json={"error": {"message": f"bad key {KEY[:4]}"}})
        return httpx.Response(
            200, json={"choices": [{"message": {"content": "in"}, "finish_reason": "stop"}]}
        )

    client = ChatCompletionsClient(transport=httpx.MockTransport(handler))
    ok = asyncio.run(client.send("http://gw.test/v1", "hi", auth_key=KEY, stream=False))
    assert (ok.status, ok.text) == ("success", "in")
    missing = asyncio.run(client.send("http://gw.test/v1", "hi", stream=False))
    assert (missing.error_type, missing.http_status) == ("auth", 401)
    assert "needs a Bearer token" in missing.error and "authorization" not in seen[-1].headers


def test_a_card_behind_the_key_is_fetched_again_with_it():
    gets: list[str | None] = []
    card = {"name": "G", "url": "http://gw.test/rpc", "protocolVersion": "0.3.0"}

    def handler(request):
        auth = request.headers.get("authorization")
        if request.method == "GET":
            gets.append(auth)
            return (
                httpx.Response(200, json=card) if auth == f"Bearer {KEY}" else httpx.Response(401)
            )
        ok = {"result": {"kind": "message", "parts": [{"kind": "text", "text": "inside"}]}}
        return httpx.Response(200, json=ok) if auth == f"Bearer {KEY}" else httpx.Response(401)

    client = A2AClient(transport=httpx.MockTransport(handler))
    reply = asyncio.run(client.send("http://gw.test/a", "hi", auth_key=KEY))
    assert (reply.status, reply.text) == ("success", "inside")
    assert gets == [None, f"Bearer {KEY}"]  # public first; the key only when refused
    refused = asyncio.run(
        A2AClient(transport=httpx.MockTransport(handler)).send("http://gw.test/a", "hi")
    )
    assert refused.error_type == "auth" and "the agent card needs a credential" in refused.error


# ------------------------------------------------- keys that cannot be sent

BAD_KEYS = {
    "line break": "good\nSECRETTAIL-987",
    "NUL": "good\x00SECRETTAIL-987",
    "header injection": "good\r\nX-Evil: 1SECRETTAIL-987",
    "tab": "good\tSECRETTAIL-987",
    "DEL": "good\x7fSECRETTAIL-987",
    "C1 control": "good\x85SECRETTAIL-987",
}


def _pieces(key: str) -> list[str]:
    return [p for p in ("SECRETTAIL", key, repr(key)[1:-1]) if p]


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_key_with_control_characters_is_refused_before_anything_carries_it(
    demo_server, tmp_path, caplog, capfd, key
):
    tracker = Tracker(tmp_path)
    tracker.registry.add(
        AgentConfig(
            name="vault", display_name="Vault", url=demo_server.agent_url("echo", secure=True)
        )  # fmt: skip
    )
    caplog.set_level("DEBUG")
    result = tracker.call_sync("vault", "let me in", agent_key=key)
    reply = result.reply
    assert (reply.status, reply.error_type, reply.http_status) == ("error", "auth", None)
    assert "agent key was not sent" in reply.error and "control character" in reply.error
    out, err = capfd.readouterr()
    seen = [reply.error, repr(reply), repr(result.event), out, err]
    seen += [r.getMessage() for r in caplog.records if not r.name.startswith(("a2a", "uvicorn"))]
    for path in tmp_path.rglob("*.parquet"):
        seen.append(repr(pq.read_table(path).to_pylist()))
    for text in seen:
        for piece in _pieces(key):
            assert piece not in text


@pytest.mark.parametrize(
    ("key", "needle"),
    [("good\nSECRETTAIL-987", "a line break"), ("nul\x00SECRETTAIL-987", "a NUL")],
)
def test_a_refused_key_names_the_problem_and_no_request_carries_it(key, needle):
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(401)  # a card behind the key: the keyed retry is tempting
        return httpx.Response(200, json={"result": {"message": {"parts": [{"text": "in"}]}}})

    a2a = asyncio.run(
        A2AClient(transport=httpx.MockTransport(handler)).send(
            "http://agent.test/a", "hi", auth_key=key
        )
    )
    chat = asyncio.run(
        ChatCompletionsClient(transport=httpx.MockTransport(handler)).send(
            "http://gw.test/v1", "hi", auth_key=key, stream=False
        )
    )
    for reply in (a2a, chat):
        assert (reply.status, reply.error_type) == ("error", "auth")
        assert needle in reply.error and "SECRETTAIL" not in reply.error
    assert all("SECRETTAIL" not in str(r.headers) + str(r.url) for r in seen)
    assert not [r for r in seen if r.method == "POST"]


@pytest.mark.parametrize(
    ("key", "needle"),
    [("clé-secrète-SECRETTAIL", "non-ASCII"), ("two words SECRETTAIL", "a space")],
)
def test_a_key_that_no_header_can_carry_is_refused_for_a_header_scheme(key, needle):
    def handler(request):
        return httpx.Response(200, json={"result": {"message": {"parts": [{"text": "in"}]}}})

    reply = asyncio.run(
        A2AClient(transport=httpx.MockTransport(handler)).send(
            "http://agent.test/rpc", "hi", dialect="1.0", auth_key=key
        )
    )
    assert (reply.status, reply.error_type) == ("error", "auth")
    assert needle in reply.error and "Authorization header" in reply.error
    assert "SECRETTAIL" not in reply.error


ESCAPED = {  # how a library may show the key inside its own message
    "repr": lambda k: repr(k),
    "bytes repr": lambda k: repr(("Bearer " + k).encode()),
    "percent": lambda k: quote(k, safe=""),
    "percent plus": lambda k: quote_plus(k),
    "base64": lambda k: base64.b64encode(k.encode()).decode(),
    "json": lambda k: json.dumps({"key": k}),
    "collapsed whitespace": lambda k: " ".join(k.split()),
}


@pytest.mark.parametrize("form", ESCAPED.values(), ids=ESCAPED.keys())
def test_redaction_covers_escaped_and_encoded_forms_of_the_key(form):
    key = "sk-\u00e9\"q'uote\\/+ SECRETTAIL=987\n"
    shown = form(key.strip())
    redacted = redact(f"Illegal value {shown} in request", [Secret(key)])
    assert "SECRETTAIL" not in redacted and shown not in redacted and "****" in redacted


def test_a_server_message_cut_inside_the_key_leaks_no_part_of_it():
    def handler(request):
        message = "x" * 270 + f" your key {KEY} is not valid here"
        return httpx.Response(
            200, json={"jsonrpc": "2.0", "id": 1, "error": {"code": 1, "message": message}}
        )

    reply = asyncio.run(
        A2AClient(transport=httpx.MockTransport(handler)).send(
            "http://agent.test/rpc", "hi", dialect="1.0", auth_key=KEY
        )
    )
    assert reply.error_type == "jsonrpc" and reply.error.endswith("****…"), reply.error
    assert not any(KEY[:n] in reply.error for n in range(4, len(KEY)))


@pytest.mark.parametrize("form", ESCAPED.values(), ids=ESCAPED.keys())
@pytest.mark.parametrize("path", ["a2a-1.0", "a2a-0.3", "a2a-stream", "chat", "chat-stream"])
def test_a_library_message_carrying_the_key_in_any_form_is_redacted_everywhere(form, path):
    key = "sk-live/SEC'RET\\TAIL+987=="

    def handler(request):
        if request.method == "GET":
            return httpx.Response(404)
        raise httpx.LocalProtocolError(f"Illegal header value {form(key)}")

    transport = httpx.MockTransport(handler)
    if path.startswith("chat"):
        client = ChatCompletionsClient(transport=transport)
        send = client.send("http://gw.test/v1", "hi", auth_key=key, stream=path == "chat-stream")
    else:
        dialect = "0.3" if path == "a2a-0.3" else "1.0"
        client = A2AClient(transport=transport)
        send = client.send(
            "http://agent.test/rpc",
            "hi",
            dialect=dialect,
            auth_key=key,
            stream=path == "a2a-stream",
        )
    reply = asyncio.run(send)
    assert reply.status == "error" and "****" in reply.error
    assert form(key) not in reply.error and "TAIL" not in reply.error, reply.error


# ------------------------------------------------ the key where the card asks

AUTH_CARDS = {
    "query 1.0": ({"apiKeySecurityScheme": {"location": "query", "name": "api_key"}},
                  "the query parameter api_key"),
    "query 0.3": ({"type": "apiKey", "in": "query", "name": "api_key"},
                  "the query parameter api_key"),
    "cookie 1.0": ({"apiKeySecurityScheme": {"location": "cookie", "name": "sid"}},
                   "the cookie sid"),
    "cookie 0.3": ({"type": "apiKey", "in": "cookie", "name": "sid"}, "the cookie sid"),
    "basic 1.0": ({"httpAuthSecurityScheme": {"scheme": "Basic"}}, "HTTP Basic"),
    "basic 0.3": ({"type": "http", "scheme": "basic"}, "HTTP Basic"),
}  # fmt: skip
BASIC_KEY = "alice:s3cret-PASSWORD-xyz"


def _credential_seen(request: httpx.Request, scheme: dict) -> str | None:
    """The key as this agent reads it, from where its card says."""
    spec = scheme.get("apiKeySecurityScheme", scheme)
    where = spec.get("location", spec.get("in"))
    if where == "query":
        return request.url.params.get(spec["name"])
    if where == "cookie":
        cookies = dict(
            c.strip().split("=", 1)
            for c in request.headers.get("cookie", "").split(";")
            if "=" in c
        )
        return cookies.get(spec["name"])
    auth = request.headers.get("authorization", "")
    if auth.startswith("Basic "):
        return base64.b64decode(auth[6:]).decode()
    return None


def _guarded_agent(scheme: dict, key: str, seen: list[httpx.Request]) -> httpx.MockTransport:
    card = {
        "name": "G",
        "supportedInterfaces": [
            {"url": "http://agent.test/a/rpc?tenant=acme", "protocolBinding": "JSONRPC",
             "protocolVersion": "1.0"}
        ],
        "securitySchemes": {"s": scheme},
        "securityRequirements": [{"schemes": {"s": {"list": []}}}],
    }  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=card)
        if (
            _credential_seen(request, scheme) != key
            or "authorization" in request.headers
            and (not request.headers["authorization"].startswith("Basic "))
        ):
            return httpx.Response(401, json={"error": "missing or wrong credential"})
        return httpx.Response(200, json={"result": {"message": {"parts": [{"text": "inside"}]}}})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(("scheme", "wanted"), AUTH_CARDS.values(), ids=AUTH_CARDS.keys())
def test_the_key_goes_where_the_card_asks_and_a_missing_one_is_named(scheme, wanted):
    key = BASIC_KEY if "scheme" in str(scheme).lower() and "basic" in str(scheme).lower() else KEY
    seen: list[httpx.Request] = []
    client = A2AClient(transport=_guarded_agent(scheme, key, seen))
    ok = asyncio.run(client.send("http://agent.test/a", "hi", auth_key=key))
    assert (ok.status, ok.text) == ("success", "inside"), ok.error
    post = seen[-1]
    assert post.url.params.get("tenant") == "acme"  # the card's own query stays
    assert "Bearer" not in post.headers.get("authorization", "")
    assert KEY not in ok.rpc_url and "api_key" not in ok.rpc_url
    missing = asyncio.run(client.send("http://agent.test/a", "hi", credential_hint="set $K"))
    assert (missing.error_type, missing.http_status) == ("auth", 401)
    assert wanted in missing.error and "none was given (set $K)" in missing.error
    wrong = asyncio.run(client.send("http://agent.test/a", "hi", auth_key="u:" + KEY[::-1]))
    assert wrong.error_type == "auth" and "refused the key" in wrong.error and wanted in wrong.error
    assert KEY[::-1] not in wrong.error


def test_a_key_in_a_query_string_is_nowhere_in_the_event_the_error_or_the_logs(tmp_path, caplog):
    scheme = {"apiKeySecurityScheme": {"location": "query", "name": "api_key"}}
    seen: list[httpx.Request] = []
    agent = _guarded_agent(scheme, KEY, [])

    def handler(request):
        if request.method == "POST" and "api_key" in request.url.params:
            seen.append(request)
            return httpx.Response(503, text=f"busy, your URL was {request.url}")
        return agent.handler(request)

    caplog.set_level("DEBUG")
    tracker = Tracker(tmp_path, client=A2AClient(transport=httpx.MockTransport(handler)))
    tracker.registry.add(AgentConfig(name="q", display_name="Q", url="http://agent.test/a"))
    result = tracker.call_sync("q", "hi", agent_key=KEY)
    assert seen and seen[-1].url.params["api_key"] == KEY  # it was sent, in the query
    assert result.reply.http_status == 503
    texts = [result.reply.error, result.reply.rpc_url, repr(result.event), repr(result.reply)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [repr(pq.read_table(p).to_pylist()) for p in tmp_path.rglob("*.parquet")]
    assert any("agent.test/a/rpc" in t for t in texts)
    for text in texts:
        assert KEY not in text and quote(KEY, safe="") not in text


def test_basic_needs_user_colon_password_and_says_so_without_the_key():
    scheme = {"type": "http", "scheme": "basic"}
    seen: list[httpx.Request] = []
    client = A2AClient(transport=_guarded_agent(scheme, BASIC_KEY, seen))
    reply = asyncio.run(client.send("http://agent.test/a", "hi", auth_key=KEY))
    assert (reply.status, reply.error_type) == ("error", "auth")
    assert "user:password" in reply.error and KEY not in reply.error
    assert [r.method for r in seen] == ["GET"]  # nothing was sent with it


@pytest.mark.parametrize(
    ("scheme", "wanted"),
    [
        ({"mtlsSecurityScheme": {}}, "mutual TLS"),
        ({"type": "mutualTLS"}, "mutual TLS"),
        ({"type": "http", "scheme": "digest"}, "HTTP Digest"),
        ({"oauth2SecurityScheme": {"flows": {}}}, "OAuth 2"),
        ({"type": "openIdConnect", "openIdConnectUrl": "http://idp"}, "OpenID Connect"),
    ],
)
def test_a_scheme_that_cannot_be_satisfied_is_named_in_the_error(scheme, wanted):
    seen: list[httpx.Request] = []
    client = A2AClient(transport=_guarded_agent(scheme, "never", seen))
    missing = asyncio.run(client.send("http://agent.test/a", "hi"))
    refused = asyncio.run(client.send("http://agent.test/a", "hi", auth_key=KEY))
    for reply in (missing, refused):
        assert (reply.error_type, reply.http_status) == ("auth", 401)
        assert wanted in reply.error and KEY not in reply.error


# ------------------------------------------------ a piece of the key, echoed back

PIECE_KEY = "sk-live-Ab3dEf6hIj9kLm2nOp5qRs8tUv"


@pytest.mark.parametrize("start,stop", [(7, 27), (0, 8), (20, None), (3, 11), (12, 30)])
@pytest.mark.parametrize("form", ["raw", "json", "percent"])
def test_any_run_of_8_characters_of_the_key_is_redacted(start, stop, form):
    key = PIECE_KEY + '"/ +x'  # escaped forms differ from the raw one
    piece = key[start:stop]
    shown = {"raw": piece, "json": json.dumps(piece)[1:-1], "percent": quote(piece, safe="")}[form]
    redacted = redact(f"key {shown}... is not valid (keep me)", [Secret(key)])
    assert shown not in redacted and "****" in redacted and "(keep me)" in redacted
    assert not any(key[i : i + 8] in redacted for i in range(len(key) - 7)), redacted


def test_pieces_shorter_than_8_and_keys_shorter_than_8_are_left_alone():
    assert redact("the sk-live prefix", [Secret(PIECE_KEY)]) == "the sk-live prefix"
    assert redact("short abcdefg and abcdefg!", [Secret("abcdefg")]) == (
        "short **** and ****!"  # the whole short key still goes
    )
    assert redact("abcdef is a piece of a short key", [Secret("abcdefg")]) == (
        "abcdef is a piece of a short key"
    )


def test_a_jsonrpc_error_quoting_part_of_the_key_is_stored_without_it():
    from test_bad_replies import Harness

    harness = Harness()

    def reply(request: httpx.Request) -> httpx.Response:
        auth = request.headers["authorization"]  # "Bearer sk-live-…"
        message = f"key {auth[7:27]}... is not valid"
        return httpx.Response(
            200, json={"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": message}}
        )

    harness.reply = reply
    result = harness.call(agent_key=PIECE_KEY)
    assert result.event.error_type == "jsonrpc" and "****... is not valid" in result.event.error
    stored = harness.tracker.log.read(["error"]).to_pylist()[0]["error"]
    assert PIECE_KEY[:20] not in stored and PIECE_KEY[:8] not in stored, stored
