"""A run killed at any point of its life resumes in the phase it was in (issue 26): the same
command never trains a finished epoch again, writes each epoch's log row once, and ends with
the weights, report and files of an uninterrupted run.

The kills are deterministic: ``KERAS_ZOO_ABORT_AT=<point>`` ends the process at a named
point as SIGKILL would (`keras_zoo.fault_points`)."""

import csv
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_zoo import fault_points
from keras_zoo.train.run_dir import load_checkpoint
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

EPOCHS = 3  # of 3 updates each (48 images, batch 16)
COMMAND = (*TINY_TRAIN[:-4], "--epochs", str(EPOCHS), *TINY_TRAIN[-2:])
# Resumed from the same backup the weights are the same computation again; across the kill
# only float32 reassociation inside TensorFlow's kernels could differ.
WEIGHT_TOLERANCE = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    return write_tiny_mnist(tmp_path_factory.mktemp("data") / "mnist")


@pytest.fixture(scope="module")
def uninterrupted(mnist, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight") / "run"
    result = keras_zoo(*COMMAND, "--data-dir", mnist, "--out", out, cwd=out.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stdout


def _train(mnist, out, abort_at=None):
    env = {**os.environ, fault_points.ENVIRONMENT_VARIABLE: abort_at or ""}
    result = keras_zoo(*COMMAND, "--data-dir", mnist, "--out", out, cwd=out.parent, env=env)
    expected = fault_points.EXIT_STATUS if abort_at else 0
    assert result.returncode == expected, (abort_at, result.stderr[-3000:])
    return result.stdout


def _epochs_trained(stdout):
    return [int(n) for n in re.findall(rf"^Epoch (\d+)/{EPOCHS}$", stdout, re.M)]


def _status(out):
    return json.loads((out / "status.json").read_text())


def _weights(out):
    return load_checkpoint(out).get_weights()


def _report(stdout):
    return [line for line in stdout.splitlines() if line.startswith("test")]


def _assert_like_uninterrupted(out, uninterrupted, stdout):
    straight, straight_stdout = uninterrupted
    with open(out / "log.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1", "2"]
    with open(out / "lr.csv") as f:
        assert [int(row["step"]) for row in csv.DictReader(f)] == list(range(3 * EPOCHS))
    for got, want in zip(_weights(out), _weights(straight)):
        np.testing.assert_allclose(got, want, **WEIGHT_TOLERANCE)
    status, expected = _status(out), _status(straight)
    assert (status["state"], status["phase"]) == ("finished", "done")
    for name, value in expected["test"].items():
        np.testing.assert_allclose(status["test"][name], value, rtol=1e-4, atol=1e-6)
    # The same report (its numbers: status.json's, compared above).
    assert [line.split(":")[0] for line in _report(stdout)] == [
        line.split(":")[0] for line in _report(straight_stdout)] == ["test accuracy", "test loss"]
    assert (out / "saved_model" / "1" / "saved_model.pb").is_file()
    leftovers = [os.path.join(root, name) for root, dirs, names in os.walk(out)
                 for name in [*dirs, *names] if ".tmp-" in name or ".old-" in name]
    assert not leftovers and not (out / "backup").exists()


@pytest.mark.large
def test_a_kill_at_every_phase_boundary_costs_nothing_done(mnist, uninterrupted, tmp_path):
    """Killed after epoch 1's log row and checkpoint (before its backup), after epoch 2's,
    once training is done, during evaluation, before the export and between the
    SavedModel's write and its rename: every rerun continues from the last backup or
    phase, and the log rows of the epochs it trains again are written once."""
    out = tmp_path / "run"
    assert _epochs_trained(_train(mnist, out, "epoch-end:1")) == [1]
    assert (_status(out)["phase"], _status(out)["epoch"]) == ("training", 1)
    assert _epochs_trained(_train(mnist, out, "epoch-end:2")) == [1, 2]  # no backup of 1 yet
    assert _epochs_trained(_train(mnist, out, "training-done")) == [2, 3]
    assert _status(out)["phase"] == "evaluating"  # the backup goes on the next start
    for point, resumed_in, left_in in (("evaluating", "evaluating", "evaluating"),
                                       ("exporting", "evaluating", "exporting"),
                                       ("saved-model-written", "exporting", "exporting")):
        stdout = _train(mnist, out, point)
        assert _epochs_trained(stdout) == [], point  # never a new training
        assert f"its {EPOCHS} epochs are trained; {resumed_in} again" in stdout
        assert _status(out)["phase"] == left_in
    assert [n for n in os.listdir(out / "saved_model") if ".tmp-" in n]  # the kill left one
    stdout = _train(mnist, out)
    assert _epochs_trained(stdout) == []
    _assert_like_uninterrupted(out, uninterrupted, stdout)


@pytest.mark.large
def test_a_kill_inside_an_epoch_resumes_exactly(mnist, uninterrupted, tmp_path):
    """Killed in the middle of epoch 2 (os._exit after its second update, like SIGKILL):
    the rerun trains epoch 2 again from epoch 1's backup, on the same batches with the
    same random draws, drops the killed updates' log rows, and ends with the
    uninterrupted run's weights."""
    out = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(mnist), str(out)],
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == 3, killed.stderr[-3000:]
    assert (out / "backup" / "epoch-000001" / "state.json").exists()
    stdout = _train(mnist, out)
    assert f"Resuming {out} at epoch 2 of 3" in stdout
    assert _epochs_trained(stdout) == [2, 3]
    _assert_like_uninterrupted(out, uninterrupted, stdout)
    model = load_checkpoint(out)
    assert int(model.optimizer.iterations.numpy()) == 3 * EPOCHS
