"""`BackupAndRestore`: the whole training state at each epoch end, so a killed run resumes
exactly where its last backup was taken."""

import json
import os
import shutil

import keras
import numpy as np

from keras_zoo.train.atomic_files import fsync_tree, remove_stale_temporaries

from ._finite import is_finite

STATE_FILE = "state.json"
WEIGHTS_FILE = "model.weights.h5"
RANDOM_FILE = "random_states.npz"
_PREFIX = "epoch-"


class BackupAndRestore(keras.callbacks.Callback):
    """Backs up the training state at each epoch end and restores it when training begins.

    A backup is a folder ``<backup_dir>/epoch-<N>/`` (N: the epochs done) holding the
    model's and optimizer's weights (``model.weights.h5``, with the iteration count, so
    step schedules continue), the states of the model's random seed generators
    (``random_states.npz``: dropout, Swapout and Gumbel noise continue their streams;
    Keras's weights files leave them out) and ``state.json`` (the epoch and the state of
    every callback of the run that has one: ``resume_state()`` / ``restore_state(state)``,
    e.g. `callbacks.ReduceLROnPlateau`'s patience). It is written under a temporary name
    and renamed into place, so a kill at any moment leaves the previous backup whole; the
    two newest are kept. An epoch whose loss or weights are not finite is not backed up.

    Place it last among the callbacks: its epoch-end backup then comes after every other
    callback's epoch-end work (the log row, the checkpoint), so a backup of epoch N means
    that all of epoch N's files exist; and it restores the callbacks' states after their
    own ``on_train_begin`` (which may reset them). The model's state is restored at
    ``on_train_begin`` too, unless the caller did it before `fit` with `restore_model`
    (`fit.fit_model` does, so every callback starts from the restored iteration count).

    Args:
        backup_dir: the folder of the backups (created when the first is written).
        callbacks: the run's other callbacks whose state is backed up.
        delete_on_end: delete `backup_dir` when training ends (keep it when the caller
            deletes it later, after recording that training finished).
    """

    def __init__(self, backup_dir, *, callbacks=(), delete_on_end=True):
        super().__init__()
        self.backup_dir = os.fspath(backup_dir)
        self.stateful = [c for c in callbacks if hasattr(c, "resume_state")]
        self.delete_on_end = delete_on_end
        self._restored = None  # the state.json of the restored backup, once restored

    def latest(self):
        """The newest complete backup folder, or None."""
        if not os.path.isdir(self.backup_dir):
            return None
        names = sorted(n for n in os.listdir(self.backup_dir)
                       if n.startswith(_PREFIX) and n[len(_PREFIX):].isdigit()
                       and os.path.exists(os.path.join(self.backup_dir, n, STATE_FILE)))
        return os.path.join(self.backup_dir, names[-1]) if names else None

    def epoch(self):
        """The epochs done by the newest backup (0: none)."""
        latest = self.latest()
        return 0 if latest is None else _read_state(latest)["epoch"]

    def restore_model(self, model):
        """Loads the newest backup into `model` (built, compiled); returns the epochs it
        had done (0 and nothing loaded when there is no backup)."""
        self._restored = {"epoch": 0, "callbacks": []}
        latest = self.latest()
        if latest is None:
            return 0
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(latest, WEIGHTS_FILE))
        with np.load(os.path.join(latest, RANDOM_FILE)) as saved:
            states = _seed_states(model)
            if len(saved.files) != len(states):
                raise ValueError(f"Expected {len(states)} random seed states in "
                                 f"{latest}/{RANDOM_FILE} (a backup of this model). "
                                 f"Received: {len(saved.files)}")
            for index, variable in enumerate(states):
                variable.assign(saved[f"state_{index}"])
        self._restored = _read_state(latest)
        return self._restored["epoch"]

    def on_train_begin(self, logs=None):
        if self._restored is None:
            self.model._initial_epoch = self.restore_model(self.model) or None
        states = self._restored["callbacks"]
        if states:
            if len(states) != len(self.stateful):
                raise ValueError(f"Expected the backup to hold the states of "
                                 f"{len(self.stateful)} callbacks. Received: {len(states)}")
            for callback, state in zip(self.stateful, states):
                callback.restore_state(state)
        os.makedirs(self.backup_dir, exist_ok=True)
        remove_stale_temporaries(self.backup_dir)

    def on_epoch_end(self, epoch, logs=None):
        if not is_finite(self.model, logs):
            return
        final = os.path.join(self.backup_dir, f"{_PREFIX}{epoch + 1:06d}")
        tmp = os.path.join(self.backup_dir, f".tmp-{os.getpid()}-{_PREFIX}{epoch + 1:06d}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        self.model.save_weights(os.path.join(tmp, WEIGHTS_FILE))
        np.savez(os.path.join(tmp, RANDOM_FILE), **{
            f"state_{i}": keras.ops.convert_to_numpy(v)
            for i, v in enumerate(_seed_states(self.model))})
        with open(os.path.join(tmp, STATE_FILE), "w", encoding="utf-8") as f:
            json.dump({"epoch": epoch + 1,
                       "callbacks": [c.resume_state() for c in self.stateful]}, f)
        fsync_tree(tmp)
        shutil.rmtree(final, ignore_errors=True)  # a backup of this epoch from a killed run
        os.replace(tmp, final)
        fsync_tree(self.backup_dir, files=False)
        for old in sorted(n for n in os.listdir(self.backup_dir) if n.startswith(_PREFIX))[:-2]:
            shutil.rmtree(os.path.join(self.backup_dir, old), ignore_errors=True)

    def on_train_end(self, logs=None):
        if self.delete_on_end:
            shutil.rmtree(self.backup_dir, ignore_errors=True)


def _seed_states(model):
    """The state variables of the model's `keras.random.SeedGenerator`s, in model order."""
    return [v for v in model.variables if v.path.endswith("seed_generator_state")]


def _read_state(folder):
    with open(os.path.join(folder, STATE_FILE), encoding="utf-8") as f:
        return json.load(f)
