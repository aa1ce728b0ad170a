"""`lock_directory`: one process at a time in a directory keras_zoo writes into.

Every directory a keras-zoo command writes into (a run, a search, an export's
``saved_model/``, ``predict --out``) is locked with an OS lock (`fcntl.flock`,
exclusive) on its file ``.keras-zoo.lock`` for the life of the process, before
anything in it is read or written; a directory renamed into place whole (``convert
--out``) is locked by the file ``.<name>.keras-zoo.lock`` beside it (`lock_target`).
A second process gets one line naming the directory and the process that holds it
(PID, host, start time, command) and writes nothing. The OS drops the lock when the
holder ends, however it ends (a kill -9 included), so a lock is never stale: the file
may stay behind, locked by no one, and the next command takes it.
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
    _lock(directory, LOCK_NAME, what=what, shown=directory)


def _lock(directory, name, *, what, shown):
    os.makedirs(directory, exist_ok=True)
    key = os.path.join(os.path.realpath(directory), name)
    if key in _HELD:
        return
    handle = open(os.path.join(directory, name), "a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = _holder(handle.read())
        handle.close()
        raise DirectoryInUse(f"Expected {what} {shown!r} to be free. Received: it is in use "
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


def lock_target(path, *, what="the target"):
    """Locks `path`, a directory written elsewhere and renamed into place whole (``convert
    --out``): the lock is the file ``.<name>.keras-zoo.lock`` beside it, which the rename
    leaves alone.

    Raises:
        DirectoryInUse: another process is writing `path`.
    """
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path)
    _lock(parent, f".{name}{LOCK_NAME}", what=what, shown=path)


def unlock_directory(directory):
    """Releases this process's lock on `directory`; returns whether it held one."""
    key = os.path.join(os.path.realpath(os.path.abspath(os.fspath(directory))), LOCK_NAME)
    handle = _HELD.pop(key, None)
    if handle is None:
        return False
    with contextlib.suppress(OSError):
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    handle.close()
    return True


def entries(directory):
    """The names in `directory` but its lock files (none when it does not exist)."""
    if not os.path.isdir(directory):
        return []
    return [name for name in os.listdir(directory) if not is_lock_file(name)]


def is_lock_file(name):
    """Whether a directory entry is a lock file (not a file of the user's or a run's)."""
    return name.endswith(LOCK_NAME)
