"""`keras-zoo train concrete-vae` as a user runs it: MNIST IDX files, PNG grid, evaluate."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.train.run_helpers import keras_zoo, write_tiny_mnist


@pytest.mark.large
def test_train_and_evaluate_concrete_vae_on_mnist_idx(tmp_path):
    data_dir = write_tiny_mnist(tmp_path / "mnist")
    out = tmp_path / "run"
    result = keras_zoo("train", "concrete-vae", "--dataset", "mnist", "--data-dir", data_dir,
                       "--tiny", "--epochs", "1", "--batch-size", "16", "--out", out,
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "finished"
    test = status["test"]
    # Discretised bounds in nats per 28x28 image: finite, IWAE (k = 20) below the one-draw ELBO
    # up to Monte Carlo noise, both below the 784 * log 2 = 543 nats of a coin-flip model.
    assert 0 < test["iwae_nll"] <= test["loss"] + 1.0 < 543.0  # loss: the negative ELBO
    grid = np.asarray(Image.open(out / "samples.png"))
    assert grid.shape == (3 * 28, 16 * 28)  # 16 test images, reconstructions, prior samples
    assert "temperature" in (out / "log.csv").read_text().splitlines()[0]

    evaluated = keras_zoo("evaluate", out, cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert "test iwae_nll" in evaluated.stdout
