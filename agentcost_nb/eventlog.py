"""The Parquet event log: Hive-partitioned by UTC date, append-only, atomic.

Layout::

    <events>/date=2026-12-03/part-<uuid>.parquet

Each append writes a new uniquely named file under a dot-name (which pyarrow,
pandas, DuckDB and Spark skip) and renames it into place, so readers never see
half a file and several kernels can append at once without a lock.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .errors import LogError
from .events import EVENT_SCHEMA, Event, events_to_table

__all__ = ["PARTITION_SCHEMA", "EventLog"]

PARTITION_SCHEMA = pa.schema([pa.field("date", pa.string())])


class EventLog:
    """Append events to, and read them from, one events folder."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"EventLog({str(self.path)!r})"

    def append(self, events: Iterable[Event]) -> list[Path]:
        """Write events durably; returns the files written (one per UTC date)."""
        by_date: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            by_date[event.date].append(event)
        written = []
        for date, batch in sorted(by_date.items()):
            written.append(self._write_file(date, events_to_table(batch)))
        return written

    def _write_file(self, date: str, table: pa.Table) -> Path:
        folder = self.path / f"date={date}"
        name = f"part-{uuid.uuid4().hex}.parquet"
        tmp = folder / f".{name}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                pq.write_table(table, fh, compression="zstd")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / name)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise LogError(f"could not write events to {folder}: {exc.strerror or exc}") from exc
        return folder / name

    def dataset(self) -> ds.Dataset:
        """The log as a pyarrow dataset with the fixed schema (plus the ``date`` partition).

        Files written by an older schema read with the newer columns as null.
        """
        schema = pa.unify_schemas([EVENT_SCHEMA, PARTITION_SCHEMA])
        if not self.path.exists():
            return ds.dataset(
                pa.table({f.name: pa.array([], f.type) for f in schema}, schema=schema)
            )
        try:
            return ds.dataset(
                self.path,
                format="parquet",
                schema=schema,
                partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
                exclude_invalid_files=False,
            )
        except (OSError, pa.ArrowInvalid) as exc:
            raise LogError(f"cannot read event log at {self.path}: {exc}") from exc

    def read(
        self, columns: Sequence[str] | None = None, filter: ds.Expression | None = None
    ) -> pa.Table:
        try:
            return self.dataset().to_table(
                columns=list(columns) if columns else None, filter=filter
            )
        except (OSError, pa.ArrowInvalid) as exc:
            raise LogError(f"cannot read event log at {self.path}: {exc}") from exc

    def to_pandas(self, columns: Sequence[str] | None = None):  # type: ignore[no-untyped-def]
        """All events as a DataFrame, money as exact ``Decimal`` objects."""
        return self.read(columns).to_pandas()
