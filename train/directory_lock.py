"""`lock_directory`: one process at a time in a directory keras_zoo writes into.

Every directory a keras-zoo command writes into (a run, a search, an export's
``saved_model/``, ``predict --out``, ``convert --out``) is locked with an OS lock
(`fcntl.flock`, exclusive) on its file ``.keras-zoo.lock`` for the life of the
process, before anything in it is read or written. A second process gets one line
naming the directory and the process that holds it (PID, host, start time, command)
and writes nothing. The OS drops the lock when the holder ends, however it ends (a
kill -9 included), so a lock is never stale: the file may stay behind, locked by no
one, and the next command takes it.
"""

import contextlib
import datetime
import fcntl
import json
import os
import socket
import sys

LOCK_NAME = ".keras-zoo.lock"
_HELD = {}  # real path of a locked directory -> its open lock file (the lock lives with it)


class DirectoryInUse(ValueError):
    """Another process holds the directory's lock (a user error: exit 2)."""


def _holder(text):
    """"process 123 on host since 2026-12-07 10:00:00 (keras-zoo train ...)" from the
    lock file's JSON, or a vaguer phrase while its holder is still writing it."""
    try:
        info = json.loads(text)
        return (f"process {info['pid']} on {info['host']} since {info['started']} "
                f"({info['command']})")
    except (ValueError, KeyError, TypeError):
        return "another process"


def lock_directory(directory, *, what="the directory"):
    """Creates `directory` if needed and locks it for the rest of the process (a no-op
    when this process holds it already).

    Raises:
        DirectoryInUse: another process holds the lock.
    """
    directory = os.path.abspath(os.fspath(directory))
    os.makedirs(directory, exist_ok=True)
    key = os.path.realpath(directory)
    if key in _HELD:
        return
    handle = open(os.path.join(directory, LOCK_NAME), "a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = _holder(handle.read())
        handle.close()
        raise DirectoryInUse(f"Expected {what} {directory!r} to be free. Received: it is in use "
                             f"by {holder}; wait for that process to end, or choose "
                             "another directory") from None
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({
        "pid": os.getpid(), "host": socket.gethostname(),
        "started": datetime.datetime.now().isoformat(sep=" ", timespec="seconds"),
        "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])}))
    handle.flush()
    _HELD[key] = handle


def unlock_directory(directory):
    """Releases this process's lock on `directory` (if it holds one)."""
    handle = _HELD.pop(os.path.realpath(os.path.abspath(os.fspath(directory))), None)
    if handle is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def is_lock_file(name):
    """Whether a directory entry is the lock file (not a file of the user's or a run's)."""
    return name == LOCK_NAME
