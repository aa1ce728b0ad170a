"""Run directories (new / resume / refuse / overwrite), configuration errors,
and a diverged run that reports where and keeps its last good checkpoint."""

import json

import keras
import numpy as np
import pytest
from keras_zoo.train import run, strategies

from tests.train.run_helpers import write_tiny_mnist


def _config(**overrides):
    return run.make_config("resnet20", dataset="mnist", data_dir="/data", epochs=2,
                           batch_size=16, **overrides)[2]


def _write_run(path, config, state):
    path.mkdir()
    (path / "config.json").write_text(json.dumps(config))
    (path / "status.json").write_text(json.dumps({"state": state}))


def test_run_dir_decisions(tmp_path):
    config = _config()
    assert run.check_run_dir(str(tmp_path / "new"), config) == "new"
    (tmp_path / "empty").mkdir()
    assert run.check_run_dir(str(tmp_path / "empty"), config) == "new"

    _write_run(tmp_path / "running", config, "running")
    assert run.check_run_dir(str(tmp_path / "running"), config) == "resume"
    moved = {**config, "data_dir": "/elsewhere"}  # the same run with its data moved
    assert run.check_run_dir(str(tmp_path / "running"), moved) == "resume"
    with pytest.raises(ValueError, match="other settings \\(seed: 0 -> 1\\).*--overwrite"):
        run.check_run_dir(str(tmp_path / "running"), _config(seed=1))
    assert run.check_run_dir(str(tmp_path / "running"), _config(seed=1), overwrite=True) == (
        "overwrite")

    _write_run(tmp_path / "done", config, "finished")
    with pytest.raises(ValueError, match="holds a finished run; use --overwrite"):
        run.check_run_dir(str(tmp_path / "done"), config)

    # A folder that is not a run is never replaced, even with overwrite.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("...")
    for overwrite in (False, True):
        with pytest.raises(ValueError, match="holds other files"):
            run.check_run_dir(str(tmp_path / "mine"), config, overwrite=overwrite)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="Expected --out to be a directory"):
        run.check_run_dir(str(tmp_path / "file"), config)


def test_config_errors_and_defaults():
    _, module, config = run.make_config()
    assert (config["model"], config["recipe"], config["dataset"]) == (
        "resnet20", "quickstart", "digits")
    assert module.__name__.endswith("quickstart")
    assert run.make_config("resnet56")[2]["dataset"] == "cifar10"
    with pytest.raises(ValueError, match="Expected --dataset for resnet50"):
        run.make_config("resnet50")
    with pytest.raises(ValueError, match="Expected epochs >= 1. Received: epochs=0"):
        run.make_config("resnet20", epochs=0)
    with pytest.raises(ValueError, match="Expected a recipe in .*quickstart"):
        run.make_config("resnet20", recipe="nope")
    assert "common" not in run.recipe_names()


def test_default_run_dir_never_reuses_a_name(tmp_path):
    first = run.default_run_dir("resnet20", root=str(tmp_path))
    assert first.startswith(str(tmp_path / "resnet20-"))
    (tmp_path / first.rsplit("/", 1)[1]).mkdir()
    assert run.default_run_dir("resnet20", root=str(tmp_path)) != first


class _NaNAt(keras.callbacks.Callback):
    """Makes the loss NaN from (epoch, batch) on by poisoning the classifier's kernel."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == (1, 1):
            dense = [layer for layer in self.model.layers if hasattr(layer, "kernel")][-1]
            dense.kernel.assign(np.full(dense.kernel.shape, np.nan, "float32"))


@pytest.mark.large
def test_diverged_run_reports_and_keeps_last_good_checkpoint(tmp_path):
    mnist = write_tiny_mnist(tmp_path / "mnist")
    out = tmp_path / "run"
    with pytest.raises(run.TrainingDiverged) as error:
        run.train("resnet20", dataset="mnist", data_dir=mnist, epochs=3, batch_size=16,
                  out=str(out), callbacks=[_NaNAt()], verbose=0)
    message = str(error.value)
    assert "\n" not in message
    assert f"NaN/Inf at epoch 2, batch 2; kept the last good checkpoint {out}" in message
    assert "(epoch 1)" in message
    status = json.loads((out / "status.json").read_text())
    assert (status["state"], status["nan_at"]) == ("diverged", "epoch 2, batch 2")
    model = keras.saving.load_model(out / "checkpoints" / "last.keras")
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert int(model.optimizer.iterations.numpy()) == 3  # the end of epoch 1
    assert not (out / "saved_model").exists()


@pytest.mark.large
def test_mirrored_mixed_precision_run_reports_what_evaluate_sees(tmp_path):
    """--strategy mirrored on the 2 logical CPUs with --mixed-precision (mixed_bfloat16 on
    CPU): the run's test metrics are those of its saved model, as `evaluate` reports them."""
    mnist = write_tiny_mnist(tmp_path / "mnist")
    out = str(tmp_path / "run")
    result = run.train("resnet20", dataset="mnist", data_dir=mnist, epochs=1, batch_size=16,
                       out=out, strategy="mirrored", mixed_precision=True, verbose=0)
    assert result.test == run.evaluate(out)
    model = keras.saving.load_model(tmp_path / "run" / "checkpoints" / "last.keras")
    # mixed_bfloat16 on CPU (mixed_float16 where a GPU is visible).
    policy = strategies.precision_policy(True)
    assert model.get_layer("normalization").dtype_policy.name == policy
    assert model.output.dtype == "float32"  # softmax probabilities stay float32
    assert keras.config.dtype_policy().name == "float32"  # the global policy was restored
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert (status["strategy"], status["state"]) == ("mirrored", "finished")
