"""A run killed mid-epoch, or stopped with Ctrl-C, resumes at its last completed epoch
(BackupAndRestore) with the same command."""

import csv
import json
import subprocess
import sys
import textwrap

import keras
import pytest

from keras_zoo.train import run
from tests.train.run_helpers import TINY_TRAIN, keras_zoo, write_tiny_mnist

# A user's run killed during its second epoch (os._exit: no cleanup, like SIGKILL).
KILLED_RUN = textwrap.dedent("""
    import os, sys
    import keras
    from keras_zoo.train import run

    class Kill(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (1, 1):
                os._exit(3)

    run.train("resnet20", dataset="mnist", data_dir=sys.argv[1], epochs=3, batch_size=16,
              out=sys.argv[2], callbacks=[Kill()], verbose=0)
""")


@pytest.mark.large
def test_killed_run_resumes_at_its_last_epoch(tmp_path):
    mnist = write_tiny_mnist(tmp_path / "mnist")  # 48 images: 3 updates per epoch
    out = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(mnist), str(out)],
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == 3, killed.stderr
    assert (out / "backup" / "training_metadata.json").exists()

    args = [*TINY_TRAIN[:-4], "--epochs", "3", *TINY_TRAIN[-2:]]  # same configuration, 3 epochs
    resumed = keras_zoo(*args, "--data-dir", mnist, "--out", out, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming {out} at epoch 2 of 3" in resumed.stdout
    with open(out / "log.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1", "2"]
    # The killed run's rows of updates after its backup (steps 3 and 4) were dropped.
    with open(out / "lr.csv") as f:
        assert [int(row["step"]) for row in csv.DictReader(f)] == list(range(9))
    # The optimizer state came back too: 3 epochs x 3 updates, so step schedules continue.
    model = keras.saving.load_model(out / "checkpoints" / "last.keras")
    assert int(model.optimizer.iterations.numpy()) == 9


class _CtrlC(keras.callbacks.Callback):
    """The user presses Ctrl-C after batch `batch` of epoch `epoch` (0-based)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


@pytest.mark.large
def test_ctrl_c_leaves_the_run_resumable_with_the_same_command(tmp_path):
    mnist = write_tiny_mnist(tmp_path / "mnist")  # 48 images: 3 updates per epoch
    out = tmp_path / "run"
    # The user's command, --overwrite included: it must continue the run, not replace it.
    command = dict(dataset="mnist", data_dir=mnist, epochs=3, batch_size=16, out=str(out),
                   overwrite=True, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        run.train("resnet20", callbacks=[_CtrlC(1, 1)], **command)
    assert json.loads((out / "status.json").read_text())["state"] == "running"
    assert not [n for n in (out / "checkpoints").iterdir() if n.name.startswith(".tmp-")]

    said = []
    result = run.train("resnet20", log=said.append, **command)
    assert said == [f"Resuming {out} at epoch 2 of 3"] and result.initial_epoch == 1
    with open(out / "log.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1", "2"]
    model = keras.saving.load_model(out / "checkpoints" / "last.keras")
    assert int(model.optimizer.iterations.numpy()) == 9
    assert json.loads((out / "status.json").read_text())["state"] == "finished"
