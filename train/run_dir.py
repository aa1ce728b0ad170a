"""The run directory: what ``keras-zoo train`` may resume, replace or must refuse.

A directory is a keras-zoo run when its ``status.json`` carries the marker
``"keras_zoo_run": FORMAT``, written before anything else. Only such a
directory is ever resumed or replaced (`check_run_dir`); anything else (a
project folder, a folder with a ``config.json`` of its own) is refused, even
with ``overwrite=True``. A replaced run is moved aside to
``<out>.replaced-<time>`` and deleted only once the new run has written its
first checkpoint (`RunDirectory.create`, `RunDirectory.discard_replaced`), so
a crash at start-up loses nothing.

`read_config` and `load_checkpoint` read a run back for ``keras-zoo
evaluate`` and ``keras-zoo export``; every defect (no such run, a config
with missing fields or unreadable JSON, a checkpoint that does not load)
is a ValueError/FileNotFoundError naming the file and what to do.
"""

import os
import shutil
import time
import warnings

import keras

import keras_zoo.models  # noqa: F401  (registers the layers and models for load_model)
from keras_zoo.train import optimizers, recipes, schedules  # noqa: F401  (L2SGD, StepSchedule)
from keras_zoo.train.atomic_files import read_json, remove_stale_temporaries, write_json_atomic
from keras_zoo.train.directory_lock import entries, lock_directory, unlock_directory

MARKER = "keras_zoo_run"
FORMAT = 1  # the run-directory format version, stored under MARKER
# Keys of config.json that may differ when resuming (a moved dataset is the same run).
RESUME_IGNORES = ("data_dir",)
# Keys `run.make_config` adds to every recipe's configuration.
RUN_KEYS = ("model", "seed", "mixed_precision", "data_dir")
# How a config.json without a "recipe" is read: its hooks are the classifiers' defaults.
CLASSIFIER_RECIPE = "quickstart"


def default_run_dir(model, root="runs"):
    """``<root>/<model>-<YYYYmmdd-HHMMSS>``, with a ``-N`` suffix if taken."""
    return _unused(os.path.join(root, f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"))


def _unused(base):
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    return path


def _read_status(out):
    return read_json(os.path.join(out, "status.json"), what="a keras-zoo run's status",
                     fix=f"move {out!r} away or choose another --out")


def claim_run_dir(out, config, *, overwrite=False):
    """`check_run_dir`'s decision, taken again once this process holds the lock of `out`
    (`directory_lock`; the directory is created): a folder that is not a keras-zoo run is
    refused before, so it stays untouched, and a run another process works in is refused
    with `directory_lock.DirectoryInUse` (nothing is written then)."""
    check_run_dir(out, config, overwrite=overwrite)
    lock_directory(out, what="the run directory")
    return check_run_dir(out, config, overwrite=overwrite)


def check_run_dir(out, config, *, overwrite=False):
    """Decides what to do with `out`: returns "new", "resume" or "overwrite".

    "resume": a keras-zoo run of the same configuration (``data_dir`` may
    differ) that has not finished, with or without `overwrite` (so the same
    command continues after a crash or Ctrl-C). "overwrite" (only with
    `overwrite`): a keras-zoo run that finished, diverged or has other settings.

    Raises:
        ValueError: `out` is a file, holds files that are not a keras-zoo run
            (even with `overwrite`), or holds a run that cannot be resumed
            (without `overwrite`); also for an unreadable status/config file.
    """
    if not os.path.exists(out):
        return "new"
    if not os.path.isdir(out):
        raise ValueError(f"Expected --out to be a directory. Received: out={out!r} is a file")
    if not entries(out):
        return "new"
    status = _read_status(out) if os.path.exists(os.path.join(out, "status.json")) else {}
    if status.get(MARKER) != FORMAT:
        raise ValueError(f"Expected --out to be a new or empty directory or a keras-zoo run "
                         f"(its status.json carries {MARKER!r}: {FORMAT}). Received: "
                         f"out={out!r} holds other files; choose another --out")
    config_path = os.path.join(out, "config.json")
    old = config if not os.path.exists(config_path) else read_json(  # created, never started
        config_path, what="a keras-zoo run's configuration",
        fix=f"move {out!r} away or choose another --out")
    diff = sorted(k for k in set(old) | set(config)
                  if k not in RESUME_IGNORES and old.get(k) != config.get(k))
    state = status.get("state")
    if state == "running" and not diff:
        return "resume"
    if overwrite:
        return "overwrite"
    if diff:
        changes = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in diff)
        raise ValueError(f"Expected --out to be a new directory or an unfinished run of the same "
                         f"configuration. Received: out={out!r} holds a run with other settings "
                         f"({changes}); use --overwrite to replace it")
    raise ValueError(f"Expected --out to be a new directory or an unfinished run. Received: "
                     f"out={out!r} holds a {state} run; use --overwrite to replace it")


class RunDirectory:
    """One run directory (see the module docstring and `keras_zoo.train.run`).

    Args:
        path: the directory (``--out``).

    Attributes:
        path: the directory, absolute.
        status: the last status written (a dict, with the marker).
        replaced: where an overwritten earlier run waits to be deleted, or None.
    """

    def __init__(self, path):
        # Absolute: replacing `--out .` renames the working directory itself.
        self.path = os.path.abspath(path)
        self.status = {}
        self.replaced = None

    def join(self, *names):
        return os.path.join(self.path, *names)

    def create(self, config, action, status):
        """Makes the directory ready for a run of `config` after `check_run_dir`'s `action`.

        "overwrite" moves the old run aside first (deleted by `discard_replaced`);
        then the status (with the marker, so the directory is recognised from
        the first write on) and ``config.json`` are written. "resume" keeps the
        record of a run still waiting to be discarded.
        """
        if action == "resume":
            self.replaced = _read_status(self.path).get("replaced")
        elif action == "overwrite":
            self.replaced = _unused(f"{self.path}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
            locked = unlock_directory(self.path)  # its lock file moves with the old run
            os.rename(self.path, self.replaced)
            if locked:
                lock_directory(self.path, what="the run directory")
        os.makedirs(self.path, exist_ok=True)
        remove_stale_temporaries(self.path)  # a killed run's; this process holds the lock
        self.write_status(**status, replaced=self.replaced)
        write_json_atomic(config, self.join("config.json"))

    def read_status(self):
        """The ``status.json`` on disk ({} when there is none yet)."""
        if not os.path.exists(self.join("status.json")):
            return {}
        return _read_status(self.path)

    def write_status(self, **status):
        """Writes ``status.json`` (atomically): `status` and the marker."""
        self.status = {**status, MARKER: FORMAT}
        write_json_atomic(self.status, self.join("status.json"))

    def update_status(self, **changes):
        self.write_status(**{**self.status, **changes})

    def discard_replaced(self):
        """Deletes the run this one replaced (call once a checkpoint of this run exists)."""
        if self.replaced is None:
            return
        if os.path.isdir(self.replaced):
            shutil.rmtree(self.replaced)
        self.replaced = None
        self.update_status(replaced=None)


def read_config(run_dir, fields=None):
    """``(config, recipe)`` of the run in `run_dir`.

    Args:
        fields: the configuration keys the caller reads; None: every key of the
            recipe's configuration and of `RUN_KEYS` (what `evaluate` needs).
            A config.json without ``recipe`` (written by hand) is read as an
            image classifier's (`CLASSIFIER_RECIPE`: the default hooks).
    """
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected RUN_DIR to be a keras-zoo run directory holding "
                                f"config.json (or a preset directory holding metadata.json). "
                                f"Received: run_dir={run_dir!r}")
    fix = "restore the file or train the run again"
    config = read_json(path, what="a keras-zoo run's configuration", fix=fix)
    recipe = recipes.get(config.get("recipe", CLASSIFIER_RECIPE))
    if fields is None:
        fields = {"recipe", *recipe.get_config(config.get("model")), *RUN_KEYS}
    missing = sorted(set(fields) - set(config))
    if missing:
        raise ValueError(f"Expected {path} to hold every field of a {recipe.name!r} run. "
                         f"Received: it lacks {', '.join(missing)}; {fix}")
    return config, recipe


def load_model(path):
    """`keras.saving.load_model`, without Keras's warning that a model with its own
    ``compile`` (MaskRCNN) is left uncompiled: runs load checkpoints to evaluate, predict
    or export them, never to train on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`compile\(\)` was not called as part of "
                                "model loading")
        return keras.saving.load_model(path)


def load_checkpoint(run_dir, checkpoint="last"):
    """The `keras.Model` of ``checkpoints/<checkpoint>.keras`` ("last" or "best")."""
    if checkpoint not in ("last", "best"):
        raise ValueError(f"Expected checkpoint 'last' or 'best'. Received: {checkpoint!r}")
    path = os.path.join(run_dir, "checkpoints", f"{checkpoint}.keras")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected a checkpoint at {path} (written after the first "
                                f"epoch). Received: run_dir={run_dir!r} has none")
    try:
        return load_model(path)
    except Exception as error:  # a truncated zip, a foreign file, a broken weights file
        other = "best" if checkpoint == "last" else "last"
        raise ValueError(f"Expected a Keras checkpoint at {path}. Received: a file that does "
                         f"not load ({type(error).__name__}: {_first_line(error)}); try "
                         f"--checkpoint {other} or train the run again") from error


def _first_line(error):
    return (str(error).strip().splitlines() or [""])[0][:200]
