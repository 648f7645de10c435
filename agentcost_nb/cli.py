"""``agentcost-nb``: the command line, a thin layer over the same code the widgets use.

Errors print one line to stderr and exit non-zero (2 for bad input or
configuration, 1 for a call that failed — its event is still recorded).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from .errors import AgentCostError, ValidationError
from .home import ENV_EVENTS, ENV_HOME, DataHome
from .pricing import PRICE_UNITS, PriceSheet, format_usd
from .text import clean_label, one_line, unprintable

__all__ = ["main"]


def _home(args: argparse.Namespace) -> DataHome:
    return DataHome.resolve(args.home, events_uri=getattr(args, "events", None))


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


def _from_env(option: str, var: str) -> str:
    """The secret held in environment variable ``var``; a clear error when there is none.

    A value that is no variable name is never echoed: it may be the key itself.
    """
    if not _ENV_NAME.fullmatch(var):
        raise ValidationError(
            {option: "give the name of an environment variable (letters, digits, _), "
             "e.g. MY_API_KEY, not the key itself"}
        )  # fmt: skip
    value = os.environ.get(var)
    if value is None:
        raise ValidationError({option: f"environment variable {var} is not set"})
    if not value.strip():
        raise ValidationError({option: f"environment variable {var} is empty"})
    return value


def _add_agent(args: argparse.Namespace) -> int:
    from .registry import Registry, validate_agent_input

    home = _home(args)
    values = {
        "name": args.name,
        "display_name": args.display_name,
        "url": args.url,
        "model": args.model,
        "cost_per_query": args.cost_per_query,
        "input_cost_per_token": args.input_cost_per_token,
        "output_cost_per_token": args.output_cost_per_token,
        "endpoint_type": args.endpoint_type,
        "dialect": args.dialect,
        "stream": not args.no_stream,
        "retries": args.retries,
        "auth_env": args.auth_env,
    }
    units = {"input_cost_per_token": args.unit, "output_cost_per_token": args.unit}
    cfg, problems = validate_agent_input(values, units)
    if cfg is None:
        raise ValidationError(problems)
    Registry(home.registry_path).add(cfg)
    print(f"added {cfg.name!r} ({cfg.display_name}) -> {cfg.url}")
    return 0


def _set_price(args: argparse.Namespace) -> int:
    """Prices given change; prices not given carry over; ``none`` unsets one."""
    from .pricing import parse_price
    from .registry import Registry, parse_effective_from

    changes: dict[str, Any] = {}
    for name, unit in (
        ("cost_per_query", "token"),
        ("input_cost_per_token", args.unit),
        ("output_cost_per_token", args.unit),
        ("cached_input_cost_per_token", args.unit),
        ("reasoning_cost_per_token", args.unit),
    ):
        given = getattr(args, name)
        if given is None:
            continue
        try:
            changes[name] = None if given.strip().lower() == "none" else parse_price(given, unit)
        except ValueError as exc:
            raise ValidationError({name: str(exc)}) from None
    if not changes:
        raise ValidationError({"prices": "give at least one price to change (or 'none' to unset)"})
    try:
        when = parse_effective_from(args.effective_from) or datetime.now(UTC)
    except ValueError as exc:
        raise ValidationError({"--effective-from": str(exc)}) from None
    registry = Registry(_home(args).registry_path)
    agent = registry.change_prices(args.name, changes, effective_from=when)
    added = next(p for p in agent.prices if p.effective_from == when)
    later = " (scheduled; the current prices apply until then)" if when > datetime.now(UTC) else ""
    print(
        f"{agent.name}: price version {agent.prices.index(added) + 1} effective from "
        f"{when.isoformat(timespec='seconds')}{later}"
    )
    return 0


def _list_agents(args: argparse.Namespace) -> int:
    from .registry import Registry

    registry = Registry(_home(args).registry_path)
    if not len(registry):
        print("no agents registered")
        return 0
    for a in registry:
        print(f"{a.name}\t{a.display_name}\t{a.url}\t{_price_parts(a.current_prices)}")
        for p in a.scheduled_prices:
            when = p.effective_from.isoformat(timespec="seconds")
            print(f"  scheduled from {when}: {_price_parts(p)}")
    return 0


def _price_parts(p: PriceSheet) -> str:
    parts = [
        f"{label} {format_usd(v)}"
        for label, v in (
            ("query", p.cost_per_query),
            ("in/token", p.input_cost_per_token),
            ("out/token", p.output_cost_per_token),
            ("cached in/token", p.cached_input_cost_per_token),
            ("reasoning/token", p.reasoning_cost_per_token),
        )
        if v is not None
    ]
    return ", ".join(parts) or "unpriced"


def _send(args: argparse.Namespace) -> int:
    from .billing import Caller
    from .tracker import Tracker

    if not args.text.strip():
        raise ValidationError({"text": "the message is empty; nothing was sent"})
    for option, values in (("--team", [args.team]), ("--project", [args.project]),
                           ("--tag", args.tag)):  # fmt: skip
        if any(unprintable(v) for v in values):
            raise ValidationError({option: "must not contain control characters"})
    api_key = _from_env("--api-key-env", args.api_key_env) if args.api_key_env else ""
    agent_key = _from_env("--auth-env", args.auth_env) if args.auth_env else None
    tracker = Tracker(_home(args), timeout=args.timeout)
    caller = Caller(api_key=api_key, team=args.team, project=args.project, tags=tuple(args.tag))
    streamed: list[str] = []

    def show(delta: str) -> None:  # the answer as it arrives
        streamed.append(delta)
        print(delta, end="", flush=True)

    result = tracker.call_sync(
        args.agent,
        args.text,
        caller=caller,
        timeout=args.timeout,
        stream=args.stream,
        retries=args.retries,
        context_id=args.context_id,
        task_id=args.task_id,
        agent_key=agent_key,
        on_text=show,
    )
    reply = result.reply
    if streamed:
        print()  # end the streamed line
    if (result.ok or reply.status == "input_required") and "".join(streamed) != reply.text:
        print(reply.text)
    if not result.ok and reply.status != "input_required":
        print(f"{reply.status}: {reply.error}", file=sys.stderr)
    if reply.status == "input_required":
        print(
            f"the agent asks a question: answer with --context-id {reply.context_id} "
            f"--task-id {reply.task_id}",
            file=sys.stderr,
        )
    print(f"[{result.event.status}] {result.summary()}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.log_error:
        print(f"warning: {result.log_error}", file=sys.stderr)
    return 0 if result.event.status == "success" else 1


def _budgets(args: argparse.Namespace) -> int:
    from .budgets import Budget, Budgets
    from .eventlog import EventLog
    from .registry import Registry

    home = _home(args)
    budgets = Budgets(home.path / "budgets.json")
    if args.budgets_command == "set":
        kw = {"period": args.period, "hard": not args.soft}
        if args.scope == "api_key":
            budget = Budget.for_key(_from_env("api_key", args.value), args.limit, **kw)
        else:
            value = args.value
            if args.scope == "agent" and value.strip():
                agent = Registry(home.registry_path).find(value)
                if agent is None:
                    print(f"warning: no agent named {value!r} is registered yet", file=sys.stderr)
                else:
                    value = agent.name  # the registered spelling: "ECHO" is the agent echo
            budget = Budget(args.scope, value, args.limit, **kw)  # type: ignore[arg-type]
        budgets.add(budget)
        print(
            f"{budget.label}: {format_usd(budget.limit_usd)} ({'hard' if budget.hard else 'soft'})"
        )
        return 0
    checks = budgets.status(EventLog(home.events), tz=args.tz)
    if not checks:
        print("no budgets set")
    for c in checks:
        limit, spent = format_usd(c.budget.limit_usd), format_usd(c.spent)
        print(f"{c.budget.label}: {limit} ({'hard' if c.budget.hard else 'soft'}), spent {spent}")
    return 0


def _demo_agent(args: argparse.Namespace) -> int:
    from .demo_agent import serve

    serve(args.port, host=args.host)
    return 0


def _app(args: argparse.Namespace) -> int:
    """Serve the Voila app with the demo agents running in this process."""
    from .demo_agent import DemoAgentServer
    from .demo_setup import copy_sample, register_demo_agents
    from .registry import Registry

    home = _home(args)
    notebook = Path(args.notebook)
    if not notebook.exists():
        raise AgentCostError(f"notebook {notebook} not found; run from the project folder")
    if args.sample and copy_sample(Path(args.sample), home.path):
        print(f"seeded {home.path} from {args.sample}")
    with DemoAgentServer(port=args.demo_port) as server:
        try:
            register_demo_agents(Registry(home.registry_path), server.base_url)
        except AgentCostError as exc:  # the app starts anyway and shows what is wrong
            print(f"warning: demo agents not registered: {exc}", file=sys.stderr)
        print(f"demo agents at {server.base_url}; data home {home.path}")
        print(f"app: http://{args.ip}:{args.port}/", flush=True)
        env = {**os.environ, ENV_HOME: str(home.path), "AGENTCOST_NB_DEMO_URL": server.base_url}
        if home.events_uri:
            env[ENV_EVENTS] = home.events_uri
        # Each page view gets its own kernel (~400 MB): one whose page was closed (no
        # connection left) is shut down after --cull-idle seconds without activity.
        # Voila serves no files beside the page: the data home holds the registry.
        cull = [
            f"--MappingKernelManager.cull_idle_timeout={args.cull_idle}",
            f"--MappingKernelManager.cull_interval={max(1, min(60, args.cull_idle))}",
        ] if args.cull_idle else []  # fmt: skip
        cmd = [
            sys.executable, "-m", "voila", str(notebook), "--no-browser",
            f"--port={args.port}", f"--Voila.ip={args.ip}", "--theme=light",
            "--VoilaConfiguration.file_allowlist=[]", *cull,
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            return proc.wait()


def _report(args: argparse.Namespace) -> int:
    from .eventlog import EventLog
    from .report import report_filters, write_report

    home = _home(args)
    f = report_filters(
        args.since,
        tz=args.tz,
        until=args.until,
        agents=args.agent,
        teams=args.team,
        projects=args.project,
    )
    print(write_report(EventLog(home.events), f, Path(args.out)).summary())
    return 0


def _compact(args: argparse.Namespace) -> int:
    from .eventlog import EventLog

    log = EventLog(_home(args).events)
    try:
        result = log.compact(args.date, wait=not args.no_wait)
    except ValueError:
        raise ValidationError({"--date": f"expected YYYY-MM-DD, got {args.date!r}"}) from None
    if result.busy:
        print(f"{log.location}: another compaction is running; nothing done")
        return 1
    for day in result.days:
        print(f"date={day.date}: {day.files_in} files -> 1, {day.rows_in} -> {day.rows_out} rows")
    for path in result.unreadable:
        print(f"left in place, unreadable: {path}")
    for path in result.quarantined:
        print(f"moved aside, unreadable: {path}")
    if not result.days:
        print(f"{log.location}: nothing to compact")
    return 0


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line too (sub-commands inherit this class)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port from 0 (any free) to 65535")
    return port


def _seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"{seconds} is negative; use 0 to never shut down")
    return seconds


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="agentcost-nb", description=__doc__.splitlines()[0])
    p.add_argument("--home", help=f"data home folder (default ${ENV_HOME} or ./agentcost-data)")
    p.add_argument(
        "--events",
        metavar="URI",
        help=f"event log folder or URI such as s3://bucket/events (default ${ENV_EVENTS} "
        "or <home>/events)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo-agent", help="serve the bundled demo A2A agents")
    d.add_argument("--port", type=_port, default=8765)
    d.add_argument("--host", default="127.0.0.1")
    d.set_defaults(func=_demo_agent)

    agents = sub.add_parser("agents", help="register and list agents").add_subparsers(
        dest="agents_command", required=True
    )
    add = agents.add_parser("add", help="register an agent and its prices")
    add.add_argument("name", help="Agent Name: unique id used in calls")
    add.add_argument("--display-name", default="")
    add.add_argument("--url", required=True, help="agent base URL (where its card is)")
    add.add_argument("--model", default="", help="model label when the agent reports none")
    add.add_argument("--cost-per-query", default=None, metavar="USD")
    add.add_argument("--input-cost-per-token", default=None, metavar="USD")
    add.add_argument("--output-cost-per-token", default=None, metavar="USD")
    add.add_argument(
        "--unit", choices=list(PRICE_UNITS), default="token", help="unit of the token prices"
    )
    add.add_argument("--endpoint-type", choices=["a2a", "openai-chat"], default="a2a")
    add.add_argument(
        "--dialect", choices=["", "1.0", "0.3"], default="", help="A2A dialect to force"
    )
    add.add_argument("--no-stream", action="store_true", help="never stream replies")
    add.add_argument("--retries", type=int, default=0, help="extra tries on connect/502/503/504")
    add.add_argument("--auth-env", default="", help="env var holding the agent's credential")
    add.set_defaults(func=_add_agent)
    sp = agents.add_parser(
        "set-price",
        help="add a price version (effective now unless --effective-from): prices given "
        "change, others carry over, 'none' unsets one; older events keep their prices",
    )
    sp.add_argument("name", help="Agent Name")
    for flag in ("--cost-per-query", "--input-cost-per-token", "--output-cost-per-token",
                 "--cached-input-cost-per-token", "--reasoning-cost-per-token"):  # fmt: skip
        sp.add_argument(flag, default=None, metavar="USD")
    sp.add_argument("--unit", choices=list(PRICE_UNITS), default="token")
    sp.add_argument(
        "--effective-from", default="", metavar="WHEN",
        help="ISO date or date-time the version applies from (UTC unless it has a zone; "
        "default now); a later one is scheduled",
    )  # fmt: skip
    sp.set_defaults(func=_set_price)
    ls = agents.add_parser("list", help="list registered agents")
    ls.set_defaults(func=_list_agents)

    s = sub.add_parser("send", help="send one message, print the reply and its cost, log it")
    s.add_argument("--agent", required=True, help="Agent Name")
    s.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    s.add_argument("--api-key-env", default="", help="env var with the caller's API key")
    s.add_argument("--team", default="")
    s.add_argument("--project", default="")
    s.add_argument("--tag", action="append", default=[])
    s.add_argument(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stream the answer as it arrives (default: the agent's setting)",
    )
    s.add_argument(
        "--retries", type=int, default=None, metavar="N",
        help="extra tries on connect errors and HTTP 502/503/504 (default: the agent's)",
    )  # fmt: skip
    s.add_argument(
        "--auth-env", default="", metavar="VAR",
        help="env var with the key the agent asks for (default: the agent's auth_env)",
    )  # fmt: skip
    s.add_argument("--context-id", default=None, help="continue this conversation")
    s.add_argument("--task-id", default=None, help="answer this task's question")
    s.add_argument("text")
    s.set_defaults(func=_send)

    bud = sub.add_parser("budgets", help="set and list budgets").add_subparsers(
        dest="budgets_command", required=True
    )
    bs = bud.add_parser("set", help="set a budget for an agent, team or API key")
    bs.add_argument("scope", choices=["agent", "team", "api_key"])
    bs.add_argument("value", help="agent name, team, or (api_key) the env var holding the key")
    bs.add_argument("limit", metavar="USD")
    bs.add_argument("--period", choices=["day", "month"], default="month")
    bs.add_argument("--soft", action="store_true", help="warn only, never refuse")
    bs.set_defaults(func=_budgets)
    bl = bud.add_parser("list", help="list budgets and this period's spend")
    bl.add_argument("--tz", default=None, help="reporting time zone (default: the machine's)")
    bl.set_defaults(func=_budgets)

    a = sub.add_parser("app", help="serve the Voila app with the embedded demo agents")
    a.add_argument("--port", type=_port, default=os.environ.get("AGENTCOST_NB_PORT", "8866"))
    a.add_argument("--ip", default="127.0.0.1")
    a.add_argument("--demo-port", type=_port, default=0, help="demo agents' port (0: any free)")
    a.add_argument("--notebook", default="notebooks/app.ipynb")
    a.add_argument("--sample", default="data", help="seed an empty data home from this folder")
    a.add_argument(
        "--cull-idle",
        type=_seconds,
        default=600,
        metavar="SECONDS",
        help="shut down the kernel of a page closed this long ago (default 600; 0: never)",
    )
    a.set_defaults(func=_app)

    r = sub.add_parser("report", help="write every chart (PNG and SVG) and CSV summaries")
    r.add_argument("--since", default="30d", help="30d (last 30 days), 24h or an ISO date")
    r.add_argument("--until", default=None, metavar="DATE", help="last day (default today)")
    r.add_argument("--out", default="report", help="folder to write (default ./report)")
    r.add_argument("--tz", default=None, help="reporting time zone (default the machine's)")
    r.add_argument("--agent", action="append", default=[], help="Agent Name (repeatable)")
    r.add_argument("--team", action="append", default=[], help="team (repeatable)")
    r.add_argument("--project", action="append", default=[], help="project (repeatable)")
    r.set_defaults(func=_report)

    c = sub.add_parser("compact", help="merge each day's event files into one")
    c.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="only this UTC day")
    c.add_argument("--no-wait", action="store_true", help="give up if another compactor runs")
    c.set_defaults(func=_compact)
    return p


def _secrets(args: argparse.Namespace) -> list[str]:
    """Values this command read from the environment: never to appear in an error."""
    names = [getattr(args, "api_key_env", ""), getattr(args, "auth_env", "")]
    if getattr(args, "scope", None) == "api_key":
        names.append(args.value)
    # Very short values are left alone: scrubbing "1" would garble the message, not hide a key.
    return [v for n in names if n and len(v := os.environ.get(n, "").strip()) >= 4]


def _one_line(message: str, args: argparse.Namespace) -> str:
    from .client._auth import Secret, redact

    # The agents' own redaction: escaped forms and any 8-character piece go too.
    message = redact(message, [Secret(v) for v in _secrets(args)])
    return clean_label(one_line(message, limit=len(message) + 1)) or "failed"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except AgentCostError as exc:
        message = str(exc)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    # Last resort: whatever slipped through still ends as one line, never a traceback.
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{args.command}: {where}{exc.strerror or exc}"
    except RecursionError:
        message = f"{args.command}: input nested too deeply"
    except Exception as exc:
        if os.environ.get("AGENTCOST_NB_DEBUG"):
            raise
        message = (
            f"{args.command} failed unexpectedly ({type(exc).__name__}: {exc}); "
            "AGENTCOST_NB_DEBUG=1 shows the traceback"
        )
    print(f"error: {_one_line(message, args)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
