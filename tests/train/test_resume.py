"""A run stopped with Ctrl-C resumes at its last completed epoch (BackupAndRestore) with the
same command (kills: test_resume_phases.py)."""

import csv
import json

import keras
import pytest

from keras_zoo.train import run
from tests.train.run_helpers import write_tiny_mnist


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
