"""The event log on object storage: a real S3 API (moto's server) on loopback.

Everything goes over HTTP through pyarrow's own S3 client, the one a user's
``EventLog("s3://…")`` uses against AWS or MinIO.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

from agentcost_nb import analytics
from agentcost_nb.cli import main
from agentcost_nb.demo_setup import register_demo_agents
from agentcost_nb.errors import LogError
from agentcost_nb.eventlog import EventLog, LogWarning, ObjectStoreLog
from agentcost_nb.home import DataHome
from agentcost_nb.synthetic import generate_events
from agentcost_nb.tracker import Tracker

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

END = datetime(2026, 11, 30, 18, tzinfo=UTC)


@pytest.fixture(scope="module")
def s3(monkeypatch_module) -> Iterator[str]:
    """``host:port`` of an S3 API on loopback; any credentials are accepted."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}.items():  # fmt: skip
        monkeypatch_module.setenv(name, value)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture
def bucket(s3) -> str:
    name = f"acnb-{uuid.uuid4().hex[:12]}"
    _client(s3).create_bucket(Bucket=name)
    return name


def _client(s3: str):
    return boto3.client("s3", endpoint_url=f"http://{s3}", region_name="us-east-1")


def _uri(s3: str, bucket: str, prefix: str = "events") -> str:
    return f"s3://{bucket}/{prefix}?endpoint_override={s3}&scheme=http&region=us-east-1"


def _keys(s3: str, bucket: str) -> list[str]:
    """The Parquet objects in the bucket (pyarrow may leave empty ``date=…/`` folder markers)."""
    listed = _client(s3).list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(o["Key"] for o in listed if o["Key"].endswith(".parquet"))


def _synthetic(n: int, batch: int) -> list[pa.Table]:
    return list(generate_events(n, days=5, end=END, seed=7, batch_size=batch))


def test_the_same_events_read_the_same_from_s3_as_from_a_local_folder(s3, bucket, tmp_path):
    remote, local = EventLog(_uri(s3, bucket)), EventLog(tmp_path / "events")
    assert isinstance(remote, ObjectStoreLog) and not isinstance(local, ObjectStoreLog)
    for table in _synthetic(3_000, 1_000):
        remote.append_table(table)
        local.append_table(table)

    keys = _keys(s3, bucket)
    assert keys and all(k.startswith("events/date=2026-11-") and k.endswith(".parquet")
                        and "/part-" in k for k in keys)  # fmt: skip
    assert {k.split("/")[1] for k in keys} == {f.parent.name for f in local.path.rglob("*.parquet")}

    a, b = remote.read().sort_by("event_id"), local.read().sort_by("event_id")
    assert a.num_rows == 3_000 and a.equals(b)
    f = analytics.Filters(start=END.date() - timedelta(days=2), end=END.date(), tz="UTC")
    got, want = analytics.dashboard_data(remote, f), analytics.dashboard_data(local, f)
    assert got.totals == want.totals and got.totals.requests > 0
    assert got.spend_per_agent.equals(want.spend_per_agent)
    assert got.daily_spend.equals(want.daily_spend)


def test_a_retried_batch_replaces_its_object_and_counts_once(s3, bucket):
    log = EventLog(_uri(s3, bucket))
    (table,) = _synthetic(200, 200)
    day = table.filter(pc.equal(pc.cast(table["timestamp"], pa.date32()), END.date()))
    log.append_table(day)
    before = _keys(s3, bucket)
    log.append_table(day)  # the same batch again (a retried flush)
    assert _keys(s3, bucket) == before and len(before) == 1
    # Some of the same events again in a different batch: two objects, still counted once.
    log.append_table(day.slice(0, 5))
    assert len(_keys(s3, bucket)) == 2
    assert log.read().num_rows == day.num_rows
    assert (
        analytics.totals(log, analytics.Filters(tz="UTC")).spend == pc.sum(day["cost_usd"]).as_py()
    )


def test_compaction_merges_each_day_into_one_object_and_loses_nothing(s3, bucket):
    log = EventLog(_uri(s3, bucket))
    tables = _synthetic(2_000, 100)  # 20 batches over 5 days: many small objects per day
    for t in tables:
        log.append_table(t)
    log.append_table(tables[3])  # a repeat, in its own object already: idempotent
    log.append_table(pa.concat_tables([tables[4].slice(0, 10), tables[5].slice(0, 5)]))  # repeats
    before = log.read().sort_by("event_id")
    days = {k.split("/")[1] for k in _keys(s3, bucket)}
    assert len(_keys(s3, bucket)) > len(days)

    result = log.compact()

    keys = _keys(s3, bucket)
    assert len(keys) == len(days) == len(result.days)
    assert sum(d.rows_out for d in result.days) == 2_000 == before.num_rows
    assert result.duplicates_removed == 15
    assert log.read().sort_by("event_id").equals(before)
    raw = ds.dataset(f"{bucket}/events", filesystem=log.filesystem, partitioning="hive")
    assert raw.count_rows() == 2_000  # no repeats left even for readers that do not dedupe
    assert log.compact().days == ()  # nothing left to do


def test_a_reader_between_the_merged_write_and_the_deletes_counts_each_event_once(s3, bucket):
    log = EventLog(_uri(s3, bucket))
    tables = _synthetic(300, 100)
    for t in tables:
        log.append_table(t)
    # What a compactor leaves if it stops after writing the merged object: inputs and output.
    merged = pa.concat_tables(tables)
    for day in sorted({f.date for f in log.files()}):
        rows = merged.filter(pc.equal(pc.cast(merged["timestamp"], pa.date32()), pa.scalar(
            datetime.fromisoformat(day).date())))  # fmt: skip
        log.put(f"date={day}/part-merged.parquet", rows)
    assert log.read().num_rows == 300
    assert log.compact().duplicates_removed == 300  # the next compaction finishes the job
    assert log.read().num_rows == 300 and len(log.files()) == len({f.date for f in log.files()})


def test_an_unreadable_object_is_skipped_named_and_never_deleted(s3, bucket):
    log = EventLog(_uri(s3, bucket))
    for t in _synthetic(200, 100):
        log.append_table(t)
    day = log.files()[0].date
    bad_key = f"events/date={day}/part-garbage.parquet"
    _client(s3).put_object(Bucket=bucket, Key=bad_key, Body=b"PAR1 not really parquet")
    with pytest.warns(LogWarning, match="part-garbage.parquet"):
        assert log.read().num_rows == 200
    assert any("part-garbage" in k for k in log.skipped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogWarning)
        result = log.compact()
    assert [p.name for p in result.unreadable] == ["part-garbage.parquet"]
    assert bad_key in _keys(s3, bucket)
    assert log.read().num_rows == 200


def test_duckdb_and_pyarrow_read_the_objects_as_is(s3, bucket):
    """No agentcost_nb code in the read: the Hive layout and schema are the interface."""
    duckdb = pytest.importorskip("duckdb")
    log = EventLog(_uri(s3, bucket))
    for t in _synthetic(1_000, 500):
        log.append_table(t)
    s3fs, root = pafs.FileSystem.from_uri(_uri(s3, bucket))
    con = duckdb.connect()
    con.register("events", ds.dataset(root, filesystem=s3fs, format="parquet", partitioning="hive"))
    rows = con.sql(
        "select agent_name, sum(cost_usd) as spend, count(*) as n, count(distinct date) as days "
        "from events group by 1 order by 1"
    ).fetchall()
    want = analytics.spend_per_agent(log, analytics.Filters(tz="UTC"))
    assert [(r[0], r[1]) for r in rows] == sorted(
        zip(want["agent_name"], want["spend"], strict=True)
    )
    assert sum(r[2] for r in rows) == 1_000 and {r[3] for r in rows} <= {1, 2, 3, 4, 5, 6}
    priced = [r[1] for r in rows if r[1] is not None]  # an unpriced agent sums to NULL
    assert priced and all(isinstance(v, D) for v in priced)  # exact money survives


def test_a_chat_call_through_the_tracker_lands_in_s3(demo_server, s3, bucket, tmp_path):
    home = DataHome.resolve(tmp_path, events_uri=_uri(s3, bucket))
    tracker = Tracker(home)
    register_demo_agents(tracker.registry, demo_server.base_url)
    ok = tracker.call_sync("echo", "hello object storage")
    bad = tracker.call_sync("echo", "hello", timeout=0.000001)
    assert ok.reply.status == "success" and bad.reply.status != "success"
    rows = EventLog(_uri(s3, bucket)).to_pandas()
    assert sorted(rows["event_id"]) == sorted([ok.event.event_id, bad.event.event_id])
    assert rows.set_index("event_id").loc[ok.event.event_id, "cost_usd"] == D("0.01")
    assert not (tmp_path / "events").exists()  # nothing went to the local folder


def test_the_cli_compacts_and_reports_a_log_on_s3(s3, bucket, tmp_path, capsys):
    log = EventLog(_uri(s3, bucket))
    for t in _synthetic(400, 100):
        log.append_table(t)
    dates = [f.date for f in log.files()]
    several = {d for d in dates if dates.count(d) > 1}
    assert several and main(["--home", str(tmp_path), "--events", _uri(s3, bucket), "compact"]) == 0
    out = capsys.readouterr().out
    assert {line.split(":")[0][5:] for line in out.splitlines()} == several
    assert len(log.files()) == len(set(dates))
    assert main(["--home", str(tmp_path), "--events", _uri(s3, bucket), "report", "--since",
                 "2026-11-25", "--until", "2026-11-30", "--tz", "UTC", "--out",
                 str(tmp_path / "report")]) == 0  # fmt: skip
    assert "400" in capsys.readouterr().out


def test_credentials_in_the_uri_never_reach_a_message(s3):
    secret = "s3cr3t-" + uuid.uuid4().hex
    uri = f"s3://AKIDEXAMPLE:{secret}@no-such-bucket-{uuid.uuid4().hex[:8]}/events?endpoint_override={s3}&scheme=http"
    log = EventLog(uri)
    assert secret not in repr(log) and secret not in log.location and "AKIDEXAMPLE" not in repr(log)
    (table,) = _synthetic(10, 10)
    with pytest.raises(LogError) as err:
        log.append_table(table)
    assert "no-such-bucket" in str(err.value) and secret not in str(err.value)
    with pytest.raises(LogError) as err:
        EventLog(f"nosuchscheme://user:{secret}@host/events")
    assert "nosuchscheme://host/events" in str(err.value) and secret not in str(err.value)


def test_any_fsspec_filesystem_works_too(tmp_path):
    """A scheme pyarrow lacks goes through fsspec (here its in-memory filesystem)."""
    pytest.importorskip("fsspec")
    root = f"memory://acnb-{uuid.uuid4().hex[:8]}/events"
    log = EventLog(root)
    tables = _synthetic(500, 100)
    for t in tables:
        log.append_table(t)
    local = EventLog(tmp_path / "events")
    for t in tables:
        local.append_table(t)
    assert log.read().num_rows == 500
    assert log.compact().files_removed > 0
    assert log.read().sort_by("event_id").equals(local.read().sort_by("event_id"))


def test_a_log_on_object_storage_says_it_has_no_local_folder(s3, bucket):
    log = EventLog(_uri(s3, bucket))
    with pytest.raises(LogError, match="object storage"):
        _ = log.path


def test_a_bucket_that_cannot_be_reached_says_why_not_install_s3fs(monkeypatch):
    # pyarrow has its own S3 client: its error (here: no network to resolve the
    # bucket's region) is the one to show, not the fsspec fallback's "install s3fs".
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(LogError) as info:
        EventLog("s3://agentcost-nb-no-such-bucket/events").read()
    assert "s3fs" not in str(info.value) and "agentcost-nb-no-such-bucket" in str(info.value)
