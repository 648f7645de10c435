"""Benchmark runner for agentcost_nb.

    .venv/bin/python bench/run.py [--sizes 100000,1000000] [--repeat 5] [--seed 0]

Every timing is the median of ``--repeat`` runs (micro-operations: the median of
``--repeat`` × ``--calls`` samples).  Baselines (naive pandas, DuckDB SQL, a bare
HTTP POST) are measured in the same run and reported as ratios.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pandas as pd  # noqa: E402

from agentcost_nb import analytics, charts  # noqa: E402
from agentcost_nb.eventlog import EventLog  # noqa: E402

END = datetime(2026, 11, 1, tzinfo=UTC)  # fixed end: the same data on every run
DAYS = 90
TZ = "UTC"  # UTC local days = the date= partitions, so all three engines agree
LAST_DAY = (END - timedelta(days=1)).date()
FIRST_DAY = LAST_DAY - timedelta(days=29)
ONE_AGENT = "research-agent"
BUFFER_EVENTS = 100  # events per batch for the buffered record overhead


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


# ----------------------------------------------------------------------------- data


def dataset(n: int, seed: int) -> Path:
    """Events folder with ``n`` synthetic events, cached under bench/.data/."""
    from agentcost_nb.synthetic import write_synthetic

    final = HERE / ".data" / f"n{n}_seed{seed}_end{END:%Y%m%d}"
    if (final / "COMPLETE").exists():
        return final / "events"
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-n{n}-", dir=final.parent))
    t0 = time.perf_counter()
    write_synthetic(EventLog(tmp / "events"), n, end=END, days=DAYS, seed=seed)
    print(f"  generated {n:,} events in {time.perf_counter() - t0:.1f} s", flush=True)
    (tmp / "COMPLETE").write_text("ok\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final / "events"


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.parquet"))


# ------------------------------------------------------------------ dashboard refresh


def views() -> dict[str, analytics.Filters]:
    base = analytics.Filters(start=FIRST_DAY, end=LAST_DAY, tz=TZ)
    return {
        "all_agents_30d": base,
        "one_agent_30d": analytics.Filters(
            start=FIRST_DAY, end=LAST_DAY, agents=(ONE_AGENT,), tz=TZ
        ),
    }


def refresh_ours(log: EventLog, f: analytics.Filters) -> analytics.DashboardData:
    """One read, one rollup: ``analytics.dashboard_data`` (what the dashboard should call)."""
    return analytics.dashboard_data(log, f, limit=20)


def refresh_ours_7calls(log: EventLog, f: analytics.Filters) -> dict[str, Any]:
    """The seven module functions, each reading the log on its own."""
    return {
        "totals": analytics.totals(log, f),
        "spend_per_agent": analytics.spend_per_agent(log, f),
        "daily_spend": analytics.daily_spend(log, f),
        "model_usage": analytics.model_usage(log, f),
        "activity": analytics.activity(log, f),
        "tokens_over_time": analytics.tokens_over_time(log, f),
        "recent_events": analytics.recent_events(log, f, limit=20),
    }


def refresh_pandas(path: Path, agent: str | None) -> dict[str, Any]:
    """Naive: read every column of every file, then filter and group in pandas."""
    df = pd.read_parquet(path)
    df["date"] = df["date"].astype(str)
    df = df[(df["date"] >= str(FIRST_DAY)) & (df["date"] <= str(LAST_DAY))]
    if agent is not None:
        df = df[df["agent_name"] == agent]
    df = df.assign(
        cost=pd.to_numeric(df["cost_usd"], errors="coerce").astype(float),
        ok=(df["status"] == "success").astype(int),
    )
    g_agent = df.groupby("agent_name")
    return {
        "totals": {
            "spend": df["cost"].sum(),
            "requests": len(df),
            "successful": int(df["ok"].sum()),
            "unpriced": int(df["cost"].isna().sum()),
            "input_tokens": int(df["input_tokens"].sum()),
            "output_tokens": int(df["output_tokens"].sum()),
        },
        "spend_per_agent": g_agent.agg(
            spend=("cost", "sum"),
            requests=("cost", "size"),
            priced=("cost", "count"),
            display_name=("display_name", "last"),
        ).sort_values("spend", ascending=False),
        "daily_spend": df.groupby(["date", "agent_name"]).agg(
            spend=("cost", "sum"), requests=("cost", "size"), priced=("cost", "count")
        ),
        "model_usage": df.groupby(["agent_name", "model"], dropna=False).agg(
            requests=("cost", "size"),
            spend=("cost", "sum"),
            input_tokens=("input_tokens", "sum"),
            output_tokens=("output_tokens", "sum"),
        ),
        "activity": g_agent.agg(
            requests=("ok", "size"),
            successful=("ok", "sum"),
            input_tokens=("input_tokens", "sum"),
            output_tokens=("output_tokens", "sum"),
        ).join(g_agent["latency_ms"].quantile([0.5, 0.95]).unstack()),
        "tokens_over_time": df.groupby("date")[["input_tokens", "output_tokens"]].sum(),
        "recent_events": df.sort_values(["timestamp", "event_id"], ascending=False).head(20),
    }


def refresh_duckdb(con: Any, path: Path, agent: str | None) -> dict[str, Any]:
    src = f"read_parquet('{path}/*/*.parquet', hive_partitioning=true)"
    where = f"date BETWEEN '{FIRST_DAY}' AND '{LAST_DAY}'"
    if agent is not None:
        where += f" AND agent_name = '{agent}'"
    q = {
        "totals": f"""SELECT sum(cost_usd), count(*), count(*) FILTER (status='success'),
            count(*) - count(cost_usd), sum(input_tokens), sum(output_tokens)
            FROM {src} WHERE {where}""",
        "spend_per_agent": f"""SELECT agent_name, arg_max(display_name, timestamp),
            sum(cost_usd) AS spend, count(*), count(*) - count(cost_usd)
            FROM {src} WHERE {where} GROUP BY 1 ORDER BY spend DESC NULLS LAST, 1""",
        "daily_spend": f"""SELECT date, agent_name, sum(cost_usd), count(*),
            count(*) - count(cost_usd) FROM {src} WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2""",
        "model_usage": f"""SELECT agent_name, model, count(*), sum(input_tokens),
            sum(output_tokens), sum(cost_usd) AS spend, count(*) - count(cost_usd)
            FROM {src} WHERE {where} GROUP BY 1, 2 ORDER BY spend DESC NULLS LAST""",
        "activity": f"""SELECT agent_name, count(*), count(*) FILTER (status='success'),
            sum(input_tokens), sum(output_tokens), quantile_cont(latency_ms, 0.5),
            quantile_cont(latency_ms, 0.95) FROM {src} WHERE {where}
            GROUP BY 1 ORDER BY 2 DESC""",
        "tokens_over_time": f"""SELECT date, sum(input_tokens), sum(output_tokens)
            FROM {src} WHERE {where} GROUP BY 1 ORDER BY 1""",
        "recent_events": f"""SELECT * FROM {src} WHERE {where}
            ORDER BY timestamp DESC, event_id DESC LIMIT 20""",
    }
    return {k: con.execute(sql).fetchall() for k, sql in q.items()}


def bench_refresh(path: Path, repeat: int, with_pandas: bool) -> dict[str, Any]:
    import duckdb

    log = EventLog(path)
    con = duckdb.connect()
    out: dict[str, Any] = {}
    for name, f in views().items():
        agent = f.agents[0] if f.agents else None
        ours = median_time(partial(refresh_ours, log, f), repeat)
        seven = median_time(partial(refresh_ours_7calls, log, f), repeat)
        duck = median_time(partial(refresh_duckdb, con, path, agent), repeat)
        pand = median_time(partial(refresh_pandas, path, agent), repeat) if with_pandas else None
        rows = analytics.totals(log, f).requests
        out[name] = {
            "rows_in_view": rows,
            "ours_s": ours,
            "ours_7calls_s": seven,
            "duckdb_s": duck,
            "pandas_s": pand,
            "ours_over_duckdb": ours / duck,
            "pandas_over_ours": pand / ours if pand is not None else None,
        }
    con.close()
    return out


def peak_memory(path: Path, engine: str) -> dict[str, float]:
    """Peak RSS of one all-agents refresh, in a fresh subprocess (MiB)."""
    res = subprocess.run(
        [sys.executable, __file__, "--_child", engine, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def _hwm_mib() -> float:
    """Peak RSS of this process (VmHWM; ru_maxrss on Linux keeps the parent's across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(engine: str, path_str: str) -> None:
    path = Path(path_str)
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
    before = _hwm_mib()
    if engine == "ours":
        refresh_ours(EventLog(path), views()["all_agents_30d"])
    elif engine == "ours_7calls":
        refresh_ours_7calls(EventLog(path), views()["all_agents_30d"])
    elif engine == "pandas":
        refresh_pandas(path, None)
    else:
        refresh_duckdb(con, path, None)
    peak = _hwm_mib()
    print(
        json.dumps({"peak_rss_mib": peak, "after_imports_mib": before, "delta_mib": peak - before})
    )


# ------------------------------------------------------------------- record overhead


def bench_record(repeat: int, calls: int) -> dict[str, Any]:
    import uuid

    import httpx

    from agentcost_nb.billing import Caller, price_reply
    from agentcost_nb.client.types import AgentReply, ReportedUsage
    from agentcost_nb.demo_agent import DemoAgentServer
    from agentcost_nb.pricing import PriceSheet
    from agentcost_nb.registry import AgentConfig

    agent = AgentConfig(
        name="bench-agent",
        display_name="Bench Agent",
        url="http://127.0.0.1:1/a2a",
        model="bench-model",
        prices=(
            PriceSheet(
                cost_per_query=Decimal("0.001"),
                input_cost_per_token=Decimal("0.000002"),
                output_cost_per_token=Decimal("0.000008"),
                effective_from=datetime(2025, 1, 1, tzinfo=UTC),
            ),
        ),
    )
    reply = AgentReply(
        status="success",
        text="hello back",
        usage=ReportedUsage(input_tokens=1200, output_tokens=300),
        model="bench-model",
        protocol="a2a-1.0",
        rpc_url=agent.url,
        http_status=200,
        latency_ms=12.5,
    )
    caller = Caller(api_key="sk-bench-0000-0000-abcd", team="bench", project="bench")

    def build() -> Any:
        return price_reply(
            agent, reply, request_text="hello", caller=caller, started_at=datetime.now(UTC)
        )

    def timed(fn: Callable[[], Any], n: int) -> list[float]:
        fn()
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return ts

    def samples(fn: Callable[[], Any]) -> float:
        return statistics.median(timed(fn, repeat * calls)) * 1000

    with tempfile.TemporaryDirectory() as tmp:
        log = EventLog(Path(tmp) / "events")
        build_ms = samples(build)
        record_ms = samples(lambda: log.append([build()]))
        # Tracker(batch_events=N): a call only enqueues; every Nth call writes the batch.
        # The median is the enqueue; the mean spreads the batch writes over the calls.
        with log.buffered(max_events=BUFFER_EVENTS, max_age=600) as writer:
            ts = timed(lambda: writer.append(build()), 10 * BUFFER_EVENTS)
        buffered_ms = statistics.median(ts) * 1000
        buffered_mean_ms = statistics.fmean(ts) * 1000

    with DemoAgentServer(port=0) as server:
        url = server.agent_url("echo") + "/"  # the card's rpc URL (no 307 redirect)

        def post() -> None:
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "SendMessage",
                "params": {
                    "message": {
                        "role": "ROLE_USER",
                        "parts": [{"text": "hello"}],
                        "messageId": uuid.uuid4().hex,
                    }
                },
            }
            r = httpx.post(url, json=body, headers={"A2A-Version": "1.0"})
            r.raise_for_status()

        post_ms = samples(post)
    return {
        "bare_post_ms": post_ms,
        "price_and_build_ms": build_ms,
        "price_build_append_ms": record_ms,
        "buffer_events": BUFFER_EVENTS,
        "price_build_buffered_ms": buffered_ms,
        "price_build_buffered_mean_ms": buffered_mean_ms,
        "buffered_pct_of_post": 100 * buffered_ms / post_ms,
        "build_pct_of_post": 100 * build_ms / post_ms,
        "record_pct_of_post": 100 * record_ms / post_ms,
    }


# ------------------------------------------------------------------- write throughput


def bench_write(repeat: int, n: int, seed: int) -> dict[str, Any]:
    import pyarrow as pa

    from agentcost_nb.events import Event
    from agentcost_nb.synthetic import generate_events

    table = pa.concat_tables(list(generate_events(n, end=END, days=1, seed=seed, batch_size=n)))
    t0 = time.perf_counter()
    rows = table.to_pylist()
    fields = set(Event.__dataclass_fields__)
    events = []
    for r in rows:
        kw = {k: v for k, v in r.items() if k in fields}
        kw["tags"] = tuple(kw.get("tags") or ())
        events.append(Event(**kw))
    build_s = time.perf_counter() - t0

    def append_events() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            EventLog(Path(tmp) / "events").append(events)

    def append_table() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            EventLog(Path(tmp) / "events").append_table(table)

    from agentcost_nb.events import events_to_table

    conv_s = median_time(lambda: events_to_table(events), repeat)
    ev_s = median_time(append_events, repeat)
    tb_s = median_time(append_table, repeat)
    return {
        "batch_events": n,
        "build_event_objects_s": build_s,
        "events_to_table_per_s": n / conv_s,
        "append_events_per_s": n / ev_s,
        "append_table_per_s": n / tb_s,
    }


# --------------------------------------------------------------------------- driver


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--calls", type=int, default=40, help="samples per repeat, record bench")
    p.add_argument("--write-batch", type=int, default=100_000)
    p.add_argument(
        "--pandas-max",
        type=int,
        default=2_000_000,
        help="skip naive pandas above this size (it reads everything: ~2.3 GiB RSS per 1M)",
    )
    p.add_argument("--_child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a._child:
        child(*a._child)
        return
    sizes = [int(s) for s in a.sizes.split(",") if s]
    t_start = time.perf_counter()
    result: dict[str, Any] = {
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "args": {
            "sizes": sizes,
            "repeat": a.repeat,
            "seed": a.seed,
            "calls": a.calls,
            "pandas_max": a.pandas_max,
        },
        "data": {
            "end": END.isoformat(),
            "days": DAYS,
            "tz": TZ,
            "view": [str(FIRST_DAY), str(LAST_DAY)],
            "one_agent": ONE_AGENT,
        },
        "sizes": {},
    }
    for n in sizes:
        print(f"size {n:,}", flush=True)
        path = dataset(n, a.seed)
        log = EventLog(path)
        size = disk_bytes(path)
        chart_json = len(
            charts.daily_spend_chart(
                analytics.daily_spend(log, views()["all_agents_30d"])
            ).to_json()
        )
        entry = {
            "disk_bytes": size,
            "disk_mib_per_million": size / 2**20 / n * 1_000_000,
            "daily_spend_chart_json_bytes": chart_json,
            "refresh": bench_refresh(path, a.repeat, n <= a.pandas_max),
            "peak_memory": {
                e: peak_memory(path, e)
                for e in ("ours", "ours_7calls", "pandas", "duckdb")
                if e != "pandas" or n <= a.pandas_max
            },
        }
        result["sizes"][str(n)] = entry
    print("record overhead", flush=True)
    result["record"] = bench_record(a.repeat, a.calls)
    print("write throughput", flush=True)
    result["write"] = bench_write(a.repeat, a.write_batch, a.seed)
    result["elapsed_s"] = time.perf_counter() - t_start
    report(result)
    out = HERE / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(HERE.parent)}")


def report(r: dict[str, Any]) -> None:
    print(f"\ncpus={r['cpu_count']} {r['platform']} python {r['python']}")
    print(
        f"\n{'size':>10} {'view':<15} {'rows':>9} {'ours s':>8} {'7 calls s':>9} "
        f"{'duckdb s':>9} {'pandas s':>9} {'ours/duck':>10} {'pandas/ours':>12}"
    )
    for n, e in r["sizes"].items():
        for v, x in e["refresh"].items():
            pand = f"{x['pandas_s']:>9.3f}" if x["pandas_s"] is not None else f"{'-':>9}"
            ratio = x["pandas_over_ours"]
            print(
                f"{int(n):>10,} {v:<15} {x['rows_in_view']:>9,} {x['ours_s']:>8.3f} "
                f"{x['ours_7calls_s']:>9.3f} {x['duckdb_s']:>9.3f} {pand} "
                f"{x['ours_over_duckdb']:>10.2f} "
                + (f"{ratio:>12.2f}" if ratio is not None else f"{'-':>12}")
            )
    print(
        f"\n{'size':>10} {'MiB/1M ev':>10} {'chart JSON':>11} "
        f"{'peak ours':>10} {'peak pandas':>12} {'peak duckdb':>12}  (MiB RSS)"
    )
    for n, e in r["sizes"].items():
        pm = e["peak_memory"]
        pandas_peak = pm["pandas"]["peak_rss_mib"] if "pandas" in pm else float("nan")
        print(
            f"{int(n):>10,} {e['disk_mib_per_million']:>10.1f} "
            f"{e['daily_spend_chart_json_bytes']:>11,} {pm['ours']['peak_rss_mib']:>10.0f} "
            f"{pandas_peak:>12.0f} {pm['duckdb']['peak_rss_mib']:>12.0f}"
        )
    rec = r["record"]
    print(
        f"\nrecord: bare POST {rec['bare_post_ms']:.2f} ms | price+build "
        f"{rec['price_and_build_ms']:.3f} ms ({rec['build_pct_of_post']:.1f} %) | "
        f"price+build+append {rec['price_build_append_ms']:.2f} ms "
        f"({rec['record_pct_of_post']:.0f} % of POST) | buffered ({rec['buffer_events']}/batch) "
        f"{rec['price_build_buffered_ms']:.3f} ms median, "
        f"{rec['price_build_buffered_mean_ms']:.3f} ms mean ({rec['buffered_pct_of_post']:.1f} %)"
    )
    w = r["write"]
    print(
        f"write: {w['batch_events']:,}-event batch: events_to_table "
        f"{w['events_to_table_per_s']:,.0f} ev/s, EventLog.append "
        f"{w['append_events_per_s']:,.0f} ev/s, table write {w['append_table_per_s']:,.0f} ev/s "
        f"(building Event objects took {w['build_event_objects_s']:.1f} s)"
    )
    print(f"elapsed {r['elapsed_s']:.0f} s")


if __name__ == "__main__":
    main()
