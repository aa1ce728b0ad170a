"""Atomic run files: JSON and checkpoints reach the disk (fsync) before they replace
the old file, and a failed write (full disk, no permission, Ctrl-C) leaves the old
file and no temporary file behind, with the OSError naming its path."""

import errno
import json
import os

import keras
import numpy as np
import pytest

from keras_zoo.train import atomic_files
from keras_zoo.train.callbacks import Checkpoint


@pytest.fixture()
def disk_log(monkeypatch):
    """Records fsync (of which file) and rename calls, in order."""
    events = []
    fsync, replace = os.fsync, os.replace

    def _fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    def _replace(src, dst):
        events.append(("replace", os.path.abspath(src), os.path.abspath(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", _fsync)
    monkeypatch.setattr(os, "replace", _replace)
    return events


def _check_durable(events, path):
    """The temporary file was fsynced, then renamed onto `path`, then its folder fsynced."""
    renames = [e for e in events if e[0] == "replace" and e[2] == str(path)]
    assert len(renames) == 1, events
    tmp, at = renames[0][1], events.index(renames[0])
    assert ("fsync", tmp) in events[:at]
    assert ("fsync", str(path.parent)) in events[at:]


def _no_temporary_files(folder):
    assert not [n for n in os.listdir(folder) if n.startswith(".tmp-")]


def test_json_is_fsynced_before_the_rename(tmp_path, disk_log):
    path = tmp_path / "status.json"
    atomic_files.write_json_atomic({"state": "running"}, path)
    _check_durable(disk_log, path)
    assert json.loads(path.read_text()) == {"state": "running"}


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"),
                                   PermissionError(errno.EACCES, "Permission denied"),
                                   KeyboardInterrupt()])
def test_failed_json_write_keeps_the_old_file(tmp_path, monkeypatch, error):
    path = tmp_path / "status.json"
    atomic_files.write_json_atomic({"state": "running"}, path)

    def dump(obj, f, **kwargs):
        f.write('{"state": "fin')  # half written when the disk fills up
        raise error

    monkeypatch.setattr(json, "dump", dump)
    with pytest.raises(type(error)):
        atomic_files.write_json_atomic({"state": "finished"}, path)
    assert json.loads(path.read_text()) == {"state": "running"}
    _no_temporary_files(tmp_path)


def test_unwritable_folder_raises_with_its_path(tmp_path, monkeypatch):
    """No write permission (chmod cannot refuse root, so the refusal is simulated at
    the open): the PermissionError names the file, nothing is left behind."""
    real_open = open

    def refuse(file, mode="r", *args, **kwargs):
        if "w" in mode:
            raise PermissionError(errno.EACCES, "Permission denied", file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(PermissionError, match=str(tmp_path)):
        atomic_files.write_json_atomic({}, tmp_path / "config.json")
    _no_temporary_files(tmp_path)


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _checkpoint(tmp_path, model):
    checkpoint = Checkpoint(tmp_path / "checkpoints", monitor="loss")
    checkpoint.set_model(model)
    return checkpoint


def test_checkpoints_are_fsynced_before_the_rename(tmp_path, disk_log):
    checkpoint = _checkpoint(tmp_path, _model())
    checkpoint.on_epoch_end(0, {"loss": 1.0})
    for name in ("last.keras", "best.keras", "state.json"):
        _check_durable(disk_log, tmp_path / "checkpoints" / name)


def test_failed_checkpoint_save_keeps_the_last_one(tmp_path, monkeypatch):
    model = _model()
    checkpoint = _checkpoint(tmp_path, model)
    checkpoint.on_epoch_end(0, {"loss": 1.0})
    saved = [w.copy() for w in model.get_weights()]
    model.layers[0].kernel.assign(np.ones((3, 2), "float32"))

    def full_disk(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(model, "save", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        checkpoint.on_epoch_end(1, {"loss": 0.5})
    _no_temporary_files(tmp_path / "checkpoints")
    restored = keras.saving.load_model(checkpoint.last_path)
    for got, want in zip(restored.get_weights(), saved):
        np.testing.assert_array_equal(got, want)  # weights saved and loaded: copied exactly
    assert json.loads((tmp_path / "checkpoints" / "state.json").read_text())["last_epoch"] == 1
