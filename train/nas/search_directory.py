"""`SearchDirectory`: the files of a search, streamed, checkpointed and resumed."""

import json
import os
import shutil

import numpy as np

from keras_zoo.train.atomic_files import atomic_path, write_json_atomic
from keras_zoo.train.directory_lock import entries, is_lock_file, lock_directory

FORMAT = "keras_zoo.nas.search"
MARKER = "search.json"


class SearchDirectory:
    """The output directory of `search`::

        search.json      marker written by keras_zoo: format, search space, search
                         settings and the caller's metadata (compared on resume)
        trials.jsonl     one JSON record per trial, appended as each child finishes
        checkpoint.npz   the algorithm's state (controller weights, Adam state and
                         baseline; or evolution's population), updates and trials
                         done; replaced after every update
        best_arch.json   the best architecture so far (its trial record's "arch")

    A directory is only ever resumed or replaced when its ``search.json`` says
    keras_zoo wrote it; a directory holding other files is refused, with
    `overwrite` or without. Files are written to a temporary name and renamed.

    Args:
        path: the directory.
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def file(self, name):
        return os.path.join(self.path, name)

    def stored_header(self):
        """The ``search.json`` of a keras_zoo search directory, else None."""
        try:
            with open(self.file(MARKER), encoding="utf-8") as f:
                header = json.load(f)
        except (OSError, json.JSONDecodeError):
            return None
        return header if isinstance(header, dict) and header.get("format") == FORMAT else None

    def open(self, header, *, overwrite=False):
        """Prepares the directory for a search described by `header` (a JSON
        dict); returns ``"new"`` or ``"resume"``.

        Raises:
            ValueError: the path is a file; the directory holds files that are
                not a keras_zoo search; or a search with other settings, without
                `overwrite`.
        """
        header = {"format": FORMAT, **header}
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"Expected out_dir to be a directory. Received: {self.path!r} "
                             f"is a file")
        # A folder of other files is refused before the lock (whose file would be one more
        # file in it), and again under the lock (another search may have started there).
        for locked in (False, True):
            if locked:
                lock_directory(self.path, what="the search directory")
            if entries(self.path) and self.stored_header() is None:
                raise ValueError(f"Expected out_dir to be new, empty or a keras_zoo search "
                                 f"directory (with {MARKER}). Received: {self.path!r} holds other "
                                 f"files; choose another directory")
        if entries(self.path):
            stored = self.stored_header()
            if stored == json.loads(json.dumps(header)):
                return "resume"
            if not overwrite:
                changed = sorted(k for k in set(stored) | set(header)
                                 if stored.get(k) != json.loads(json.dumps(header.get(k))))
                raise ValueError(f"Expected out_dir to be a new directory or a search with the "
                                 f"same settings. Received: {self.path!r} holds a search whose "
                                 f"{', '.join(changed)} differ; use overwrite (--overwrite) "
                                 f"to replace it")
            for name in os.listdir(self.path):  # a search of other settings; the lock stays
                path = self.file(name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif not is_lock_file(name):
                    os.remove(path)
        self.write_json(MARKER, header)
        return "new"

    def write_json(self, name, obj):
        write_json_atomic(obj, self.file(name))

    def read_records(self):
        """The records of ``trials.jsonl``; a last line cut short by a kill is dropped."""
        if not os.path.exists(self.file("trials.jsonl")):
            return []
        records = []
        with open(self.file("trials.jsonl"), encoding="utf-8") as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
        return records

    def append(self, record):
        with open(self.file("trials.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")

    def rewrite_records(self, records):
        with atomic_path(self.file("trials.jsonl")) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)

    def save_checkpoint(self, state, *, updates, trials):
        """Writes the proposer's `state` after `updates` updates and `trials` trials.

        `state` is a dict whose values are NumPy arrays, lists of arrays
        (e.g. a controller's weights and Adam slots) or JSON values (e.g. the
        baseline); `load_checkpoint` returns the same structure.
        """
        arrays, layout = {}, {}
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                arrays[f"{key}"] = value
                layout[key] = "array"
            elif isinstance(value, list) and all(isinstance(v, np.ndarray) for v in value):
                arrays.update({f"{key}_{i}": v for i, v in enumerate(value)})
                layout[key] = len(value)
            else:
                layout[key] = {"value": value}
        meta = {"updates": updates, "trials": trials, "layout": layout}
        with atomic_path(self.file("checkpoint.npz")) as tmp, open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)

    def load_checkpoint(self):
        """``(state, updates, trials)`` of the last checkpoint, or None."""
        if not os.path.exists(self.file("checkpoint.npz")):
            return None
        with np.load(self.file("checkpoint.npz"), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            state = {}
            for key, kind in meta["layout"].items():
                if kind == "array":
                    state[key] = data[key]
                elif isinstance(kind, int):
                    state[key] = [data[f"{key}_{i}"] for i in range(kind)]
                else:
                    state[key] = kind["value"]
        return state, meta["updates"], meta["trials"]

    def write_best(self, record):
        """Writes ``best_arch.json``: the best trial's ``"arch"`` (the space's
        `to_record`; for the CNN space `Architecture.to_json`)."""
        with atomic_path(self.file("best_arch.json")) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(record, indent=2, sort_keys=True) + "\n")
