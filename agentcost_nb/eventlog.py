"""The Parquet event log: Hive-partitioned by UTC date, append-only, atomic.

Layout::

    <events>/date=2026-12-03/part-<batch hash>.parquet

How the log stays trustworthy (README "Event log: safety"):

* **Atomic, durable writes.** A batch is written under a dot-name (which
  pyarrow, pandas, DuckDB and Spark skip), fsynced, renamed into place and the
  folder fsynced: once ``append`` returns, the events survive a crash, and a
  writer killed half-way leaves at most a stray ``.part-….tmp`` file.
* **Idempotent batches.** A file is named after a hash of its event ids, so
  retrying a batch replaces its file instead of adding a copy.
* **One event, counted once.** :meth:`EventLog.read` drops repeated
  ``event_id`` s (a retry in a different batch, a compaction cut short). Only
  days with more than one file can hold a repeat, only the days a read's filter
  selects (its ``date`` bounds) are checked, and the check is cached per set of
  files, so a compacted log pays nothing.
* **Robust reads.** A zero-length, truncated or otherwise unreadable
  ``part-*.parquet`` (a filesystem without atomic rename, a copy gone wrong) is
  skipped with a :class:`LogWarning` naming it, listed in ``EventLog.skipped``;
  the other files still read.
* **Compaction** (:meth:`EventLog.compact`, see ``agentcost_nb.compaction``)
  merges a day's files into one. Readers hold a shared lock while they list and
  open files, and the compactor swaps files in and out under the exclusive lock,
  so a reader sees either the old files or the merged one, never both or neither.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import date as date_type
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ._locks import file_lock
from .errors import LogError
from .events import EVENT_SCHEMA, Event, events_to_table

if TYPE_CHECKING:
    from .compaction import CompactionResult
    from .writer import BufferedWriter

__all__ = [
    "DICTIONARY_COLUMNS",
    "PARTITION_SCHEMA",
    "EventLog",
    "LogWarning",
    "ObjectStoreLog",
    "dedupe",
]

PARTITION_SCHEMA = pa.schema([pa.field("date", pa.string())])
_SCHEMA = pa.unify_schemas([EVENT_SCHEMA, PARTITION_SCHEMA])
_MONEY_COLUMNS = tuple(f.name for f in EVENT_SCHEMA if pa.types.is_decimal(f.type))
_PARTITIONING = ds.partitioning(PARTITION_SCHEMA, flavor="hive")
# Low-cardinality string columns that ``read(..., dictionary=True)`` returns as
# ``dictionary<int32, string>``: decoded once per distinct value, not per row.
DICTIONARY_COLUMNS = (
    "agent_name",
    "display_name",
    "model",
    "status",
    "team",
    "project",
    "api_key",
    "api_key_hash",
    "endpoint",
    "protocol",
    "token_source",
    "error_type",
)
_DICT_TYPE = pa.dictionary(pa.int32(), pa.string())
# Columns with (nearly) one value per event: dictionary encoding would only be
# tried and dropped, at a cost (about a quarter of the write time).
_UNIQUE_COLUMNS = {"event_id", "timestamp", "latency_ms", "context_id", "task_id"}
WRITE_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": [n for n in EVENT_SCHEMA.names if n not in _UNIQUE_COLUMNS],
}
READ_LOCK = ".swap.lock"  # shared by readers, exclusive while compaction swaps files
SWAP_GATE = ".swap.gate"
_ATTEMPTS = 4

logger = logging.getLogger("agentcost_nb.eventlog")


class LogWarning(UserWarning):
    """Something in the event log was skipped or kept back; the message says what."""


@dataclass(frozen=True)
class LogFile:
    """One ``part-*.parquet`` file of the log and what identifies its current version."""

    path: PurePath  # a local Path, or the object's key in an ObjectStoreLog
    date: str
    size: int
    mtime_ns: int
    inode: int

    @property
    def signature(self) -> tuple[str, int, int, int]:
        return (self.path.name, self.size, self.mtime_ns, self.inode)


def is_part_file(name: str) -> bool:
    return name.startswith("part-") and name.endswith(".parquet")


def dedupe(table: pa.Table, key: str = "event_id") -> pa.Table:
    """``table`` without repeated ``key`` values, keeping each first row, in order."""
    n = table.num_rows
    if n < 2 or pc.count_distinct(table[key]).as_py() == n:
        return table
    firsts = (
        pa.table({"k": table[key], "i": pa.array(np.arange(n, dtype=np.int64))})
        .group_by("k", use_threads=False)
        .aggregate([("i", "min")])["i_min"]
    )
    return table.take(np.sort(firsts.to_numpy()))


def batch_name(ids: pa.Array | pa.ChunkedArray) -> str:
    """``part-<hash>.parquet`` from a set of event ids (order does not matter)."""
    arr = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    arr = arr.cast(pa.string()).take(pc.array_sort_indices(arr))
    digest = hashlib.sha256()
    digest.update(pc.binary_length(arr).to_numpy(zero_copy_only=False).astype("<i4").tobytes())
    if len(arr):
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1,
                                offset=arr.offset * 4)  # fmt: skip
        digest.update(memoryview(arr.buffers()[2])[offsets[0] : offsets[-1]])
    return f"part-{digest.hexdigest()[:32]}.parquet"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(folder: Path, name: str, table: pa.Table) -> Path:
    """Write ``table`` as ``folder/name``: dot-named temp file, fsync, rename, fsync folder."""
    tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            _fsync_dir(folder.parent)
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh, **WRITE_OPTIONS)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
        _fsync_dir(folder)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise LogError(f"could not write events to {folder}: {exc.strerror or exc}") from exc
    return folder / name


@contextmanager
def swap_lock(events: Path, *, exclusive: bool) -> Iterator[None]:
    """Readers share it while they list and open files; compaction holds it alone to swap.

    A turnstile (``.swap.gate``, held only for the moment of taking the lock)
    keeps a stream of overlapping readers from starving a waiting compactor.
    """
    with ExitStack() as stack:
        with file_lock(events / SWAP_GATE, exclusive=True, required=exclusive):
            stack.enter_context(
                file_lock(events / READ_LOCK, exclusive=exclusive, required=exclusive)
            )
        yield


class EventLog:
    """Append events to, and read them from, one events folder.

    ``EventLog("agentcost-data/events")`` is a local folder. A URI such as
    ``EventLog("s3://bucket/events")`` (or a ``filesystem=``) gives an
    :class:`ObjectStoreLog`: the same layout and API on object storage.
    """

    filesystem: pafs.FileSystem | None = None  # None: local, with locks, fsync and rename

    def __new__(cls, path: str | os.PathLike[str], *, filesystem: Any = None) -> EventLog:
        if cls is EventLog and (filesystem is not None or _is_remote_uri(path)):
            return super().__new__(ObjectStoreLog)
        return super().__new__(cls)

    def __init__(self, path: str | os.PathLike[str], *, filesystem: Any = None) -> None:
        if isinstance(path, str) and path.startswith("file://"):
            path = urlsplit(path).path
        self._path = Path(path)
        self.location = str(self._path)  # for messages: the folder, or the URI without secrets
        self._start()

    def _start(self) -> None:
        self.skipped: dict[str, str] = {}  # unreadable files left out of reads: path -> why
        self._bad: dict[PurePath, tuple[tuple[str, int, int, int], str]] = {}
        self._money_checked: dict[PurePath, tuple[tuple[str, int, int, int], str | None]] = {}
        self._dup_check: dict[str, tuple[tuple[Any, ...], bool]] = {}  # date -> (files, dups?)

    @property
    def path(self) -> Path:
        """The local events folder."""
        return self._path

    def __repr__(self) -> str:
        return f"EventLog({self.location!r})"

    # The few places local and object storage differ (ObjectStoreLog overrides them).

    def _base(self) -> str:
        return str(self._path)

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _shared(self) -> AbstractContextManager[None]:
        return swap_lock(self._path, exclusive=False)

    def _guarded(self) -> bool:
        return (self._path / READ_LOCK).exists()

    # ------------------------------------------------------------------ writing

    def append(self, events: Iterable[Event]) -> list[PurePath]:
        """Write events durably; returns the files written (one per UTC date).

        Idempotent per batch: appending the same events again rewrites the same
        files. An event repeated within the batch is written once.
        """
        unique: dict[str, Event] = {}
        for event in events:
            unique.setdefault(event.event_id, event)
        if not unique:
            return []
        return self.append_table(events_to_table(unique.values()))

    def append_table(self, table: pa.Table) -> list[PurePath]:
        """Write a table of events (the fixed schema) durably; one file per UTC date.

        The vectorised path for many events at once (synthetic data, imports).
        """
        try:
            table = table.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
        except (KeyError, pa.ArrowException) as exc:
            raise LogError(f"not an event table: {exc}") from exc
        if table.num_rows == 0:
            return []
        micros = pc.cast(table["timestamp"], pa.int64()).to_numpy()
        days = micros // 86_400_000_000  # UTC day numbers: only the distinct ones become text
        written = []
        for day in np.unique(days):
            mask = days == day
            part = table if mask.all() else table.filter(pa.array(mask))
            written.append(self._write_file(str(np.datetime64(int(day), "D")), part))
        return written

    def _write_file(self, date: str, table: pa.Table) -> PurePath:
        """Write one day's events as ``part-<hash of its event ids>.parquet``."""
        table = dedupe(table)
        return write_atomic(self._path / f"date={date}", batch_name(table["event_id"]), table)

    def buffered(self, **options: Any) -> BufferedWriter:
        """A :class:`~agentcost_nb.writer.BufferedWriter` on this log (flushed at exit)."""
        from .writer import BufferedWriter

        return BufferedWriter(self, **options)

    def compact(self, date: str | date_type | None = None, **options: Any) -> CompactionResult:
        """Merge each day's files (or one ``date``'s) into one; see ``agentcost_nb.compaction``."""
        from .compaction import compact

        return compact(self, date, **options)

    # ------------------------------------------------------------------ reading

    def files(self) -> list[LogFile]:
        """Every ``part-*.parquet`` file now in the log (readable or not), by day and name."""
        found: list[LogFile] = []
        try:
            days = sorted(os.scandir(self._path), key=lambda e: e.name)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LogError(
                f"cannot read event log at {self.location}: {exc.strerror or exc}"
            ) from exc
        for day in days:
            if not day.name.startswith("date=") or not day.is_dir():
                continue
            try:
                entries = sorted(os.scandir(day.path), key=lambda e: e.name)
            except FileNotFoundError:
                continue
            for entry in entries:
                if not is_part_file(entry.name):
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                found.append(
                    LogFile(Path(entry.path), day.name[5:], st.st_size, st.st_mtime_ns, st.st_ino)
                )
        return found

    def dataset(
        self, files: Sequence[LogFile] | None = None, *, dictionary: Sequence[str] = ()
    ) -> ds.Dataset:
        """The readable files as one pyarrow dataset: fixed schema plus the ``date`` partition.

        Raw: during a compaction cut short, or after a retried write, an event can
        be in two files; :meth:`read` drops the repeat. Files written by an older
        schema read with the newer columns as null. ``dictionary``: string columns
        to read as dictionary arrays (see :meth:`read`).
        """
        if files is None:
            files = self._readable(self.files())
        fmt = ds.ParquetFileFormat(
            read_options=ds.ParquetReadOptions(dictionary_columns=list(dictionary)),
            # Pre-buffering pays off only where each request is slow (object storage);
            # on a local disk it made a refresh 2-3x slower and ~170 MiB bigger.
            default_fragment_scan_options=ds.ParquetFragmentScanOptions(
                pre_buffer=self.filesystem is not None
            ),
        )
        return ds.dataset(
            [str(f.path) for f in files],
            schema=_schema(dictionary),
            format=fmt,
            filesystem=self.filesystem,
            partitioning=_PARTITIONING,
            partition_base_dir=self._base(),
        )

    def read(
        self,
        columns: Sequence[str] | None = None,
        filter: ds.Expression | None = None,
        *,
        dedupe: bool = True,
        dictionary: bool | Iterable[str] = False,
    ) -> pa.Table:
        """Events as an Arrow table, each ``event_id`` once (``dedupe=False``: raw rows).

        ``dictionary=True`` returns the low-cardinality string columns
        (:data:`DICTIONARY_COLUMNS`) among ``columns`` as ``dictionary<int32, string>``
        arrays, or pass the names of the string columns to encode. Faster to read
        and far smaller in memory (each distinct value is decoded once); the
        values are the same, and every chunk of a column shares one dictionary, so
        the table can be grouped and filtered as is. Off by default: plain strings
        are what exports and :meth:`to_pandas` give (string columns, never categoricals).
        """
        wanted = list(dict.fromkeys(columns)) if columns else list(_SCHEMA.names)
        unknown = [c for c in wanted if c not in _SCHEMA.names]
        if unknown:
            raise LogError(f"unknown event column(s): {', '.join(unknown)}")
        asked = DICTIONARY_COLUMNS if dictionary is True else (dictionary or ())
        encode = list(dict.fromkeys(asked))
        not_strings = [
            c for c in encode if c not in _SCHEMA.names or _SCHEMA.field(c).type != pa.string()
        ]
        if not_strings:
            raise LogError(f"not string event column(s): {', '.join(not_strings)}")
        encode = [c for c in encode if c in wanted]
        if not self._exists():
            return _schema(encode).empty_table().select(wanted)
        last: Exception | None = None
        for _ in range(_ATTEMPTS):
            # Readers never create the lock file. A log no compactor has touched has
            # none; if one appears while we read, a compaction may have overlapped
            # the read: read again, this time under the lock.
            guarded = self._guarded()
            with self._shared():
                files = self._readable(self.files())
                try:
                    table = self._scan(files, wanted, filter, dedupe, encode)
                except FileNotFoundError as exc:  # removed meanwhile: list again
                    last = exc
                    continue
                except (OSError, pa.ArrowException) as exc:
                    last = exc
                    if self._find_bad(files):
                        continue
                    break
            if not guarded and self._guarded():
                continue
            if "schema_version" in wanted and table["schema_version"].null_count:
                # Files from before the schema carried a version: version 0.
                i = table.schema.get_field_index("schema_version")
                table = table.set_column(
                    i, _SCHEMA.field("schema_version"), table["schema_version"].fill_null(0)
                )
            return table.unify_dictionaries() if encode else table
        raise LogError(f"cannot read event log at {self.location}: {last}") from last

    def to_pandas(self, columns: Sequence[str] | None = None):  # type: ignore[no-untyped-def]
        """All events, oldest first, money as exact ``Decimal`` objects."""
        table = self.read(columns)
        if "timestamp" in table.column_names:
            order = [("timestamp", "ascending")]
            if "event_id" in table.column_names:
                order.append(("event_id", "ascending"))
            table = table.sort_by(order)
        return table.to_pandas()

    def _scan(
        self,
        files: list[LogFile],
        wanted: list[str],
        filter: ds.Expression | None,
        dedupe_ids: bool,
        encode: Sequence[str] = (),
    ) -> pa.Table:
        if filter is not None:
            files = self._selected(files, filter)
        by_day: dict[str, list[LogFile]] = {}
        for f in files:
            by_day.setdefault(f.date, []).append(f)
        repeats = (
            {day for day, group in by_day.items() if len(group) > 1 and self._has_repeats(group)}
            if dedupe_ids
            else set()
        )
        if not repeats:
            return self.dataset(files, dictionary=encode).to_table(columns=wanted, filter=filter)
        clean = [f for f in files if f.date not in repeats]
        dirty = [f for f in files if f.date in repeats]
        with_id = wanted if "event_id" in wanted else [*wanted, "event_id"]
        fixed = dedupe(
            self.dataset(dirty, dictionary=encode).to_table(columns=with_id, filter=filter)
        )
        rest = self.dataset(clean, dictionary=encode).to_table(columns=wanted, filter=filter)
        return pa.concat_tables([rest, fixed.select(wanted)])

    def _selected(self, files: list[LogFile], filter: ds.Expression) -> list[LogFile]:
        """``files`` less those whose ``date=`` folder the filter rules out.

        Decided from the paths alone (no file is opened), so the repeat check
        and the scan only touch the days the read can return rows from.
        """
        keep = {frag.path for frag in self.dataset(files).get_fragments(filter=filter)}
        return [f for f in files if str(f.path) in keep]

    def _has_repeats(self, group: list[LogFile]) -> bool:
        """Does any event_id occur in two of this day's files? Cached per set of files."""
        key = tuple(f.signature for f in group)
        cached = self._dup_check.get(group[0].date)
        if cached is not None and cached[0] == key:
            return cached[1]
        ids = self.dataset(group).to_table(columns=["event_id"])["event_id"]
        repeats = pc.count_distinct(ids).as_py() != len(ids)
        self._dup_check[group[0].date] = (key, repeats)
        return repeats

    # ------------------------------------------------------------- bad files

    def _readable(self, files: list[LogFile]) -> list[LogFile]:
        """``files`` less those known to be unreadable in their current version."""
        for gone in set(self._bad) - {f.path for f in files}:
            del self._bad[gone]
            self.skipped.pop(str(gone), None)
        good = []
        for f in files:
            bad = self._bad.get(f.path)
            if bad is not None and bad[0] == f.signature:
                continue
            if f.size == 0:
                self._mark_bad(f, "empty file (0 bytes)")
                continue
            if bad is not None:  # rewritten since: try it again
                del self._bad[f.path]
                self.skipped.pop(str(f.path), None)
            inexact = self._inexact_money(f)
            if inexact:
                self._mark_bad(f, inexact)
                continue
            good.append(f)
        return good

    def _inexact_money(self, f: LogFile) -> str | None:
        """Why ``f`` would make money inexact (a float money column), else None.

        The scan would cast a float 0.1 to 0.100000000000000006 without a word: such a
        file (not one this toolkit wrote) is skipped and named instead. The footer is
        read once per version of a file."""
        known = self._money_checked.get(f.path)
        if known is not None and known[0] == f.signature:
            return known[1]
        try:
            schema = pq.read_schema(str(f.path), filesystem=self.filesystem)
        except (OSError, pa.ArrowException):
            return None  # unreadable: the scan finds it and says why
        floats = [
            name
            for name in _MONEY_COLUMNS
            if name in schema.names and pa.types.is_floating(schema.field(name).type)
        ]
        why = (
            f"money column(s) {', '.join(floats)} stored as floating point, not exact decimal "
            "(rewrite them as decimal128(38, 18), e.g. from Decimal(str(x)))"
            if floats
            else None
        )
        self._money_checked[f.path] = (f.signature, why)
        return why

    def _find_bad(self, files: list[LogFile]) -> bool:
        """After a failed scan: find the files that cannot be read; True if any was found."""
        found = False
        for check in (self._check_footer, self._check_full):
            for f in files:
                if f.path in self._bad:
                    continue
                try:
                    check(f.path)
                except FileNotFoundError:
                    found = True  # gone meanwhile: listing again settles it
                except (OSError, pa.ArrowException) as exc:
                    self._mark_bad(f, f"{type(exc).__name__}: {exc}")
                    found = True
            if found:
                return True
        return False

    def _check_footer(self, path: PurePath) -> None:
        pq.read_metadata(str(path), filesystem=self.filesystem)

    def _check_full(self, path: PurePath) -> None:
        ds.dataset(
            [str(path)], schema=EVENT_SCHEMA, format="parquet", filesystem=self.filesystem
        ).to_table()

    def _mark_bad(self, f: LogFile, reason: str) -> None:
        known = self._bad.get(f.path)
        self._bad[f.path] = (f.signature, reason)
        self.skipped[str(f.path)] = reason
        if known is None or known[0] != f.signature:
            message = f"skipped unreadable event file {f.path}: {reason}"
            logger.warning(message)
            warnings.warn(message, LogWarning, stacklevel=4)


def _schema(dictionary: Sequence[str] = ()) -> pa.Schema:
    """The read schema, with the ``dictionary`` columns as dictionary arrays."""
    schema = _SCHEMA
    for name in dictionary:
        i = schema.get_field_index(name)
        schema = schema.set(i, schema.field(i).with_type(_DICT_TYPE))
    return schema


class ObjectStoreLog(EventLog):
    """The event log on object storage (S3, GCS, HDFS, or any fsspec filesystem).

    Same layout, schema and API as a local log; what differs, and why it is
    still safe (README "Event log on object storage"):

    * A file is one whole-object PUT: it appears complete or not at all, so
      there is no temp file, rename or fsync. Names are still the hash of the
      batch's event ids, so a retried write replaces its object.
    * There are no locks. Compaction writes the merged object *before* it
      deletes its inputs, so an event is always in at least one object; a
      reader between the two sees it twice and :meth:`read` drops the repeat.
      Two compactors at once can leave such repeats (never a loss); the next
      compaction removes them. Run compaction from one scheduled job.

    ``EventLog("s3://bucket/events?endpoint_override=host:9000&scheme=http")``
    takes credentials the usual way (``AWS_ACCESS_KEY_ID`` …); or pass
    ``filesystem=`` (a ``pyarrow.fs.FileSystem`` or an fsspec filesystem) with the
    path inside it.
    """

    def __init__(self, path: str | os.PathLike[str], *, filesystem: Any = None) -> None:
        uri = os.fspath(path)
        self.location = _display_uri(uri)
        if filesystem is None:
            self.filesystem, root = _filesystem_from_uri(uri, self.location)
        else:
            self.filesystem = _arrow_filesystem(filesystem)
            parts = urlsplit(uri)
            root = parts.netloc + parts.path if parts.scheme and "://" in uri else uri
            if not (parts.scheme and "://" in uri):
                self.location = f"{self.filesystem.type_name}://{root.lstrip('/')}"
        self.root = root.rstrip("/")
        self._start()

    @property
    def path(self) -> Path:
        raise LogError(f"{self.location} is on object storage: it has no local folder")

    def _base(self) -> str:
        return self.root

    def _exists(self) -> bool:
        return self._info(self.root).type != pafs.FileType.NotFound

    def _shared(self) -> AbstractContextManager[None]:
        return nullcontext()

    def _guarded(self) -> bool:
        return False

    def _info(self, what: str | pafs.FileSelector) -> Any:
        assert self.filesystem is not None
        try:
            return self.filesystem.get_file_info(what)
        except (OSError, pa.ArrowException) as exc:
            raise LogError(f"cannot read event log at {self.location}: {exc}") from exc

    def files(self) -> list[LogFile]:
        """Every ``date=…/part-*.parquet`` object under the log's prefix, by day and name."""
        infos = self._info(pafs.FileSelector(self.root, recursive=True, allow_not_found=True))
        found = []
        for info in infos:
            if info.type != pafs.FileType.File:
                continue
            rel = info.path[len(self.root) :].lstrip("/").split("/")
            if len(rel) != 2 or not rel[0].startswith("date=") or not is_part_file(rel[1]):
                continue
            found.append(
                LogFile(PurePosixPath(info.path), rel[0][5:], info.size or 0, info.mtime_ns or 0, 0)
            )
        return sorted(found, key=lambda f: (f.date, f.path.name))

    def _write_file(self, date: str, table: pa.Table) -> PurePath:
        table = dedupe(table)
        return self.put(f"date={date}/{batch_name(table['event_id'])}", table)

    def put(self, name: str, table: pa.Table) -> PurePosixPath:
        """Write ``table`` as the object ``<root>/<name>`` in one PUT."""
        assert self.filesystem is not None
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, **WRITE_OPTIONS)
        data = sink.getvalue()  # serialised first: a failed write sends nothing
        key = f"{self.root}/{name}"
        try:
            try:
                out = self.filesystem.open_output_stream(key)
            except FileNotFoundError:  # filesystems with real folders (fsspec local, memory)
                self.filesystem.create_dir(key.rsplit("/", 1)[0], recursive=True)
                out = self.filesystem.open_output_stream(key)
            with out:
                out.write(data)
        except (OSError, pa.ArrowException) as exc:
            raise LogError(f"could not write events to {self.location}/{name}: {exc}") from exc
        return PurePosixPath(key)

    def delete(self, path: PurePath) -> None:
        """Remove one object (gone already is fine)."""
        assert self.filesystem is not None
        with suppress(FileNotFoundError):
            self.filesystem.delete_file(str(path))


def _is_remote_uri(path: object) -> bool:
    if not isinstance(path, str) or "://" not in path:
        return False
    scheme = urlsplit(path).scheme
    return bool(scheme) and scheme != "file"


def _display_uri(uri: str) -> str:
    """``uri`` without user info or query (either may hold a secret)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _arrow_filesystem(filesystem: Any) -> pafs.FileSystem:
    if isinstance(filesystem, pafs.FileSystem):
        return filesystem
    return pafs.PyFileSystem(pafs.FSSpecHandler(filesystem))  # an fsspec filesystem


def _filesystem_from_uri(uri: str, shown: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's own filesystems first (s3, gs, hdfs); else fsspec's, if installed."""

    def why(exc: Exception) -> str:  # the URI's query may hold a secret: never echo it
        return str(exc).replace(uri, shown)

    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowException, ValueError, OSError) as arrow_exc:
        try:
            import fsspec  # type: ignore[import-untyped]
        except ImportError:
            raise LogError(
                f"cannot open event log {shown}: {why(arrow_exc)} (install fsspec for more schemes)"
            ) from None
        try:
            fs, root = fsspec.core.url_to_fs(uri)
        except (ImportError, ValueError, OSError) as exc:
            # pyarrow knows the scheme (s3, gs, hdfs): its error is the real one
            # (no network, no bucket…), not fsspec's "install s3fs".
            native = "Unrecognized filesystem type" not in str(arrow_exc)
            reason = why(arrow_exc if native and isinstance(exc, ImportError) else exc)
            raise LogError(f"cannot open event log {shown}: {reason}") from None
        return _arrow_filesystem(fs), root
