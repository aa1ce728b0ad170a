"""Files written so that a crash, Ctrl-C or a full disk never leaves half a file in place.

`atomic_path(path)` yields a temporary name beside `path`; when the block
ends the temporary file is flushed to disk (fsync), renamed over `path` and
the rename itself is made durable (fsync of the folder). If the block raises
(an `OSError` such as ENOSPC or EACCES, a `KeyboardInterrupt`), the temporary
file is removed and `path` keeps its previous content; the exception
propagates unchanged (an `OSError` names its path).
"""

import contextlib
import json
import os
import re
import shutil

_TEMPORARY = re.compile(r"\.tmp-\d+-.+|\..+\.(tmp|old)-[A-Za-z0-9_]+")


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary file name for `path`; renamed into place on success.

    Example:

    >>> with atomic_path("checkpoints/last.keras") as tmp:
    ...     model.save(tmp)
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    base = os.path.basename(path)
    # The suffix keeps writers that choose the format by extension (".keras") working.
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{base}")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync(folder)


def write_json_atomic(obj, path):
    """Writes `obj` as JSON (indented, sorted keys) to `path` through `atomic_path`."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")


def read_json(path, *, what, fix):
    """The JSON object in `path`, or a ValueError naming the file: `what` it should
    hold and how to `fix` it (a FileNotFoundError when it does not exist)."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"Expected {what} in {path}. Received: no such file; "
                                f"{fix}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Expected {what} (JSON) in {path}. Received: an unreadable file "
                         f"({error}); {fix}") from None
    if not isinstance(value, dict):
        raise ValueError(f"Expected {what} (a JSON object) in {path}. Received: a "
                         f"{type(value).__name__}; {fix}")
    return value


def fsync_tree(folder, *, files=True):
    """Flushes `folder` (and with `files`, every file below it) to disk: a folder written
    under a temporary name is durable before it is renamed into place."""
    if files:
        for root, _, names in os.walk(folder):
            for name in names:
                _fsync(os.path.join(root, name))
    _fsync(folder)


def remove_stale_temporaries(folder):
    """Deletes the temporary files and folders (``.tmp-<pid>-*``) that a killed keras_zoo
    process left in `folder` and below; call it while holding the folder's lock, so no
    live writer owns one. Returns the paths removed."""
    removed = []
    for root, dirs, names in os.walk(folder):
        for name in [*names, *dirs]:
            if is_temporary(name):
                path = os.path.join(root, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(path)
                removed.append(path)
        dirs[:] = [d for d in dirs if not is_temporary(d)]
    return removed


def is_temporary(name):
    """A temporary's name: ``.tmp-<pid>-<name>`` (`atomic_path`, backups) or
    ``.<name>.tmp-<random>`` / ``.<name>.old-<random>`` (`keras_zoo.export`'s)."""
    return bool(_TEMPORARY.fullmatch(name))
