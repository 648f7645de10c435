"""Compaction: merge a day's many small event files into one.

Every append is a new file, so a busy log grows thousands of tiny files that
slow every read. :func:`compact` (also ``EventLog.compact``) rewrites each day
as one file, safely while other processes append and read:

1. **One compactor at a time**: it holds ``<events>/.compact.lock``
   (``fcntl.flock``); a second one waits, or returns at once with ``wait=False``.
2. **Write first**: the day's files are read, repeated ``event_id`` s dropped,
   rows sorted by time and written as ``part-<hash of the ids>.parquet`` under
   a dot-name, fsynced — readers still see only the old files.
3. **Swap under the read lock**: with ``<events>/.swap.lock`` held exclusively
   (readers take it shared while they list and open files; a turnstile lock
   keeps a stream of readers from starving the compactor), the merged file is
   renamed into place and its inputs deleted. A reader sees the inputs or the
   merged file, never both, never neither.
4. Files appended meanwhile were not inputs and are left alone. A compactor
   killed between the rename and the deletes leaves the merged file beside
   some inputs: reads drop the repeated events, and the next compaction
   finishes the job (its output has the same name, the ids being the same).

Unreadable files are never deleted: they stay, skipped with a warning, and are
moved to ``<events>/_quarantine/`` once older than ``stale_after`` seconds (a
file still being written on a filesystem without atomic rename is young).
Stray temporary files older than ``stale_after`` (writers killed mid-write) are
removed. External readers (pandas, DuckDB) take no lock: for the few
milliseconds of a swap they may count a day twice.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date as date_type
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from .errors import LogError
from .eventlog import (
    LogFile,
    LogWarning,
    ObjectStoreLog,
    batch_name,
    dedupe,
    file_lock,
    swap_lock,
    write_atomic,
)
from .events import EVENT_SCHEMA

if TYPE_CHECKING:
    from .eventlog import EventLog

__all__ = ["COMPACT_LOCK", "CompactedDay", "CompactionResult", "compact"]

COMPACT_LOCK = ".compact.lock"
QUARANTINE = "_quarantine"

logger = logging.getLogger("agentcost_nb.compaction")


@dataclass(frozen=True)
class CompactedDay:
    date: str
    files_in: int
    rows_in: int
    rows_out: int  # rows_in - rows_out repeated events were dropped
    output: PurePath  # a local Path, or the object's key on object storage


@dataclass(frozen=True)
class CompactionResult:
    days: tuple[CompactedDay, ...] = ()
    busy: bool = False  # another compactor held the lock (only with wait=False)
    quarantined: tuple[Path, ...] = ()  # unreadable files moved aside
    unreadable: tuple[PurePath, ...] = ()  # unreadable files left in place (still young)
    removed_temp_files: tuple[Path, ...] = field(default=())

    @property
    def files_removed(self) -> int:
        return sum(d.files_in for d in self.days) - len(self.days)

    @property
    def duplicates_removed(self) -> int:
        return sum(d.rows_in - d.rows_out for d in self.days)


def compact(
    log: EventLog,
    date: str | date_type | None = None,
    *,
    wait: bool = True,
    min_files: int = 2,
    stale_after: float = 600.0,
) -> CompactionResult:
    """Merge each day's files into one (or only ``date``'s: ``"YYYY-MM-DD"`` or a date).

    Days with fewer than ``min_files`` readable files are left as they are.
    Safe with concurrent appenders and readers (see the module docstring).
    """
    day = date.isoformat() if isinstance(date, date_type) else date
    if day is not None:
        date_type.fromisoformat(day)  # ValueError for anything but YYYY-MM-DD
    if isinstance(log, ObjectStoreLog):
        return _compact_objects(log, day, min_files)
    if not log.path.is_dir():
        return CompactionResult()
    with file_lock(log.path / COMPACT_LOCK, exclusive=True, wait=wait) as got:
        if not got:
            return CompactionResult(busy=True)
        by_day: dict[str, list[LogFile]] = {}
        for f in log.files():
            by_day.setdefault(f.date, []).append(f)
        days: list[CompactedDay] = []
        quarantined: list[Path] = []
        unreadable: list[PurePath] = []
        temps: list[Path] = []
        folders = (
            [log.path / f"date={day}"]
            if day
            else sorted(p for p in log.path.iterdir() if p.name.startswith("date="))
        )
        for folder in folders:
            temps += _remove_stale_temps(folder, stale_after)
            files = by_day.get(folder.name[5:], [])
            if len(files) < max(min_files, 2):
                continue
            tables, inputs, bad = _read_day(files)
            for f, reason in bad:
                moved = _set_aside(log, f, reason, stale_after)
                if moved:
                    quarantined.append(moved)
                else:
                    unreadable.append(f.path)
            if len(inputs) < max(min_files, 2):
                continue
            days.append(_merge(log, folder, inputs, tables))
        return CompactionResult(
            days=tuple(days),
            quarantined=tuple(quarantined),
            unreadable=tuple(unreadable),
            removed_temp_files=tuple(temps),
        )


def _compact_objects(log: ObjectStoreLog, only: str | None, min_files: int) -> CompactionResult:
    """Compaction without locks: write the merged object, then delete its inputs.

    An event is always in at least one object; between the two steps it is in
    two, and reads drop the repeat (see :class:`~agentcost_nb.eventlog.ObjectStoreLog`).
    """
    by_day: dict[str, list[LogFile]] = {}
    for f in log.files():
        if only is None or f.date == only:
            by_day.setdefault(f.date, []).append(f)
    days: list[CompactedDay] = []
    unreadable: list[PurePath] = []
    for day, files in sorted(by_day.items()):
        if len(files) < max(min_files, 2):
            continue
        tables, inputs, bad = _read_day(files, log.filesystem)
        for f, reason in bad:
            _warn(
                f"compaction skipped unreadable event file {log.location}/{f.path.name}: {reason}"
            )
            unreadable.append(f.path)
        if len(inputs) < max(min_files, 2):
            continue
        merged, rows_in = _merged(tables)
        output = log.put(f"date={day}/{batch_name(merged['event_id'])}", merged)
        for f in inputs:
            if f.path != output:
                log.delete(f.path)
        logger.info("compacted %s/date=%s: %d files, %d -> %d rows", log.location, day,
                    len(inputs), rows_in, merged.num_rows)  # fmt: skip
        days.append(CompactedDay(day, len(inputs), rows_in, merged.num_rows, output))
    return CompactionResult(days=tuple(days), unreadable=tuple(unreadable))


def _read_day(
    files: Sequence[LogFile], filesystem: pafs.FileSystem | None = None
) -> tuple[list[pa.Table], list[LogFile], list[tuple[LogFile, str]]]:
    """A day's files as tables: (tables, the files read, the unreadable files and why).

    All at once; file by file only to single out an unreadable one. A file gone
    meanwhile (another compactor) is neither read nor unreadable.
    """
    try:
        return [_read([f.path for f in files], filesystem)], list(files), []
    except (OSError, pa.ArrowException):
        pass
    tables, inputs, bad = [], [], []
    for f in files:
        try:
            tables.append(_read([f.path], filesystem))
            inputs.append(f)
        except FileNotFoundError:
            continue
        except (OSError, pa.ArrowException) as exc:
            bad.append((f, f"{type(exc).__name__}: {exc}"))
    return tables, inputs, bad


def _merged(tables: Sequence[pa.Table]) -> tuple[pa.Table, int]:
    """One table from a day's tables, each event once, by time: (table, rows in)."""
    merged = pa.concat_tables(tables)
    rows_in = merged.num_rows
    merged = dedupe(merged).sort_by([("timestamp", "ascending"), ("event_id", "ascending")])
    return merged.replace_schema_metadata(EVENT_SCHEMA.metadata), rows_in


def _warn(message: str) -> None:
    logger.warning(message)
    warnings.warn(message, LogWarning, stacklevel=4)


def _read(paths: Iterable[PurePath], filesystem: pafs.FileSystem | None = None) -> pa.Table:
    """Files in the current schema (older files get the newer columns as null)."""
    table = ds.dataset(
        [str(p) for p in paths], schema=EVENT_SCHEMA, format="parquet", filesystem=filesystem
    ).to_table()
    version = table["schema_version"]
    if version.null_count:  # written before the schema carried a version
        i = table.schema.get_field_index("schema_version")
        table = table.set_column(i, EVENT_SCHEMA.field(i), version.fill_null(0))
    return table


def _merge(
    log: EventLog, folder: Path, inputs: Sequence[LogFile], tables: Sequence[pa.Table]
) -> CompactedDay:
    merged, rows_in = _merged(tables)
    name = batch_name(merged["event_id"])
    staged = write_atomic(folder, f".compact-{uuid.uuid4().hex}.parquet.tmp", merged)
    try:
        with swap_lock(log.path, exclusive=True):
            os.replace(staged, folder / name)
            for f in inputs:
                if f.path.name != name:
                    Path(f.path).unlink(missing_ok=True)
            fsync = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fsync)
            finally:
                os.close(fsync)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise LogError(f"compaction of {folder} failed: {exc.strerror or exc}") from exc
    logger.info("compacted %s: %d files, %d -> %d rows", folder, len(inputs), rows_in,
                merged.num_rows)  # fmt: skip
    return CompactedDay(folder.name[5:], len(inputs), rows_in, merged.num_rows, folder / name)


def _remove_stale_temps(folder: Path, stale_after: float) -> list[Path]:
    removed = []
    cutoff = time.time() - stale_after
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            try:
                if entry.stat().st_mtime <= cutoff:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except FileNotFoundError:
                continue
    return removed


def _set_aside(log: EventLog, f: LogFile, reason: str, stale_after: float) -> Path | None:
    """Move an old unreadable file to ``_quarantine/`` (renamed ``.bad``); None if too young."""
    message = f"compaction skipped unreadable event file {f.path}: {reason}"
    if f.mtime_ns / 1e9 > time.time() - stale_after:
        _warn(message)
        return None
    target = log.path / QUARANTINE / f"date={f.date}" / f"{f.path.name}.bad"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(f.path, target)
    _warn(f"{message}; moved to {target}")
    return target
