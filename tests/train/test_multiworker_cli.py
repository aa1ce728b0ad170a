"""`keras-zoo train --strategy multiworker --workers ... --task-index I`: two
worker processes of the quick-start (tiny) save the same model."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras_zoo.train import run  # noqa: F401  (registers the recipes' optimizer, schedule)

from tests.train.test_multiworker import _free_ports

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")


@pytest.mark.large
def test_cli_multiworker_quickstart(tmp_path):
    workers = _free_ports(2)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    procs = [subprocess.Popen([KERAS_ZOO, "train", "--tiny", "--strategy", "multiworker",
                               "--workers", workers, "--task-index", str(i),
                               "--out", str(tmp_path / f"worker{i}")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
             for i in range(2)]
    for p in procs:
        output = p.communicate(timeout=400)[0].decode(errors="replace")
        assert p.returncode == 0, output[-3000:]
        assert "test accuracy:" in output
    models = [keras.saving.load_model(tmp_path / f"worker{i}" / "checkpoints" / "last.keras")
              for i in range(2)]
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_array_equal(a, b)  # trainable weights and BN statistics agree
    assert (tmp_path / "worker0" / "saved_model" / "1" / "saved_model.pb").is_file()


def test_workers_need_the_multiworker_strategy(tmp_path):
    from keras_zoo.train.cli import main

    assert main(["train", "--tiny", "--workers", "127.0.0.1:1,127.0.0.1:2",
                 "--out", str(tmp_path / "r")]) == 2
    assert not (tmp_path / "r").exists()
