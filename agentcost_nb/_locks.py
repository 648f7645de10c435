"""Advisory file locks (``fcntl.flock``), shared by the event log and the registry."""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["file_lock"]


@contextmanager
def file_lock(
    path: Path, *, exclusive: bool, wait: bool = True, required: bool = True
) -> Iterator[bool]:
    """``fcntl.flock`` on ``path``; yields False if not taken (``wait=False``).

    ``required=True`` creates the lock file if missing. ``required=False`` (a
    reader) never creates one: without the file, or where it cannot be locked
    (a read-only log, a filesystem without flock), go ahead without it.
    """
    try:
        mode = os.O_RDWR | os.O_CREAT if required else os.O_RDONLY
        fd = os.open(path, mode, 0o644)
    except OSError:
        if required:
            raise
        yield True
        return
    try:
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            yield False
            return
        except OSError as exc:
            if required or exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP):
                raise
        yield True
    finally:
        os.close(fd)  # closing releases the lock
