"""A run killed mid-epoch resumes at its last completed epoch (BackupAndRestore)."""

import csv
import subprocess
import sys
import textwrap

import keras
import keras_zoo.train.run  # noqa: F401  (registers the layers, L2SGD, StepSchedule)
import pytest

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
    # The optimizer state came back too: 3 epochs x 3 updates, so step schedules continue.
    model = keras.saving.load_model(out / "checkpoints" / "last.keras")
    assert int(model.optimizer.iterations.numpy()) == 9
