"""Run directories (new / resume / refuse / overwrite, only what keras-zoo wrote),
configuration and checkpoint errors, and a diverged run that reports where and keeps
its last good checkpoint."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_zoo.train import directory_lock, run, run_dir, strategies
from tests.train.run_helpers import write_tiny_mnist


def _config(**overrides):
    return run.make_config("resnet20", dataset="mnist", data_dir="/data", epochs=2,
                           batch_size=16, **overrides)[2]


def _write_run(path, config, state, marker=True):
    path.mkdir()
    (path / "config.json").write_text(json.dumps(config))
    status = {"state": state, **({run_dir.MARKER: run_dir.FORMAT} if marker else {})}
    (path / "status.json").write_text(json.dumps(status))


def test_run_dir_decisions(tmp_path):
    config = _config()
    check = run_dir.check_run_dir
    assert check(str(tmp_path / "new"), config) == "new"
    (tmp_path / "empty").mkdir()
    assert check(str(tmp_path / "empty"), config) == "new"

    _write_run(tmp_path / "running", config, "running")
    assert check(str(tmp_path / "running"), config) == "resume"
    # The same command resumes after a crash or Ctrl-C, --overwrite or not.
    assert check(str(tmp_path / "running"), config, overwrite=True) == "resume"
    moved = {**config, "data_dir": "/elsewhere"}  # the same run with its data moved
    assert check(str(tmp_path / "running"), moved) == "resume"
    with pytest.raises(ValueError, match="other settings \\(seed: 0 -> 1\\).*--overwrite"):
        check(str(tmp_path / "running"), _config(seed=1))
    assert check(str(tmp_path / "running"), _config(seed=1), overwrite=True) == "overwrite"

    _write_run(tmp_path / "done", config, "finished")
    with pytest.raises(ValueError, match="holds a finished run; use --overwrite"):
        check(str(tmp_path / "done"), config)
    assert check(str(tmp_path / "done"), config, overwrite=True) == "overwrite"

    # A folder that is not a keras-zoo run is never replaced, even with overwrite: a user's
    # folder, one with a config.json of its own beside a thesis (issue 11), a run without
    # the marker in its status.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("...")
    _write_run(tmp_path / "project", config, "finished", marker=False)
    (tmp_path / "project" / "thesis.tex").write_text("...")
    for folder in ("mine", "project"):
        for overwrite in (False, True):
            with pytest.raises(ValueError, match="holds other files; choose another --out"):
                check(str(tmp_path / folder), config, overwrite=overwrite)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="Expected --out to be a directory"):
        check(str(tmp_path / "file"), config)


def test_out_dot_in_a_project_folder_is_refused(tmp_path, monkeypatch):
    """``--out . --overwrite`` in a project folder: refused, nothing touched."""
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "thesis.tex").write_text("...")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="holds other files"):
        run_dir.check_run_dir(".", _config(), overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["config.json", "thesis.tex"]


def test_overwrite_refused_before_anything_is_written(tmp_path):
    """`run.train(overwrite=True)` on a folder holding a config.json and a user's file:
    one ValueError, and the folder is exactly as it was (no run files, nothing moved)."""
    mnist = write_tiny_mnist(tmp_path / "mnist")
    project = tmp_path / "proj"
    _write_run(project, _config(), "finished", marker=False)
    (project / "thesis.tex").write_text("my thesis")
    before = {p: (project / p).read_text() for p in os.listdir(project)}
    with pytest.raises(ValueError, match="holds other files"):
        run.train("resnet20", dataset="mnist", data_dir=mnist, epochs=1, batch_size=16,
                  out=str(project), overwrite=True, verbose=0)
    assert {p: (project / p).read_text() for p in os.listdir(project)} == before
    assert sorted(os.listdir(tmp_path)) == ["mnist", "proj"]  # nothing moved aside


@pytest.mark.parametrize("status", ['{"state": "runn', "[1, 2]", "\x00\xff"])
def test_unreadable_status_names_the_file(tmp_path, status):
    out = tmp_path / "run"
    _write_run(out, _config(), "running")
    (out / "status.json").write_bytes(status.encode("latin-1"))
    with pytest.raises(ValueError, match=f"{out / 'status.json'}.*choose another --out"):
        run_dir.check_run_dir(str(out), _config())


def test_replaced_run_is_kept_until_the_first_checkpoint(tmp_path):
    """An overwrite moves the old run aside; a crash before the new run's first
    checkpoint loses nothing, and the resumed run deletes the old one once it has one."""
    config, out = _config(), tmp_path / "run"
    _write_run(out, config, "finished")
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "last.keras").write_text("the old model")
    status = {"state": "running", "epochs": 3}
    new = run_dir.RunDirectory(out)
    new.create(_config(seed=1), "overwrite", status)
    aside = new.replaced
    assert aside.startswith(f"{out}.replaced-") and os.path.dirname(aside) == str(tmp_path)
    assert (tmp_path / os.path.basename(aside) / "checkpoints" / "last.keras").read_text() == (
        "the old model")
    assert sorted(os.listdir(out)) == ["config.json", "status.json"]
    assert json.loads((out / "status.json").read_text())["replaced"] == aside

    # The process dies here. The same command resumes the new run and knows the old one.
    assert run_dir.check_run_dir(str(out), _config(seed=1), overwrite=True) == "resume"
    again = run_dir.RunDirectory(out)
    again.create(_config(seed=1), "resume", status)
    assert again.replaced == aside and os.path.isdir(aside)
    again.discard_replaced()  # `run.train` calls it once checkpoints/last.keras exists
    assert not os.path.exists(aside)
    saved = json.loads((out / "status.json").read_text())
    assert saved["replaced"] is None and saved[run_dir.MARKER] == run_dir.FORMAT


def test_config_errors_and_defaults():
    _, recipe, config = run.make_config()
    assert (config["model"], config["recipe"], config["dataset"]) == (
        "resnet20", "quickstart", "digits")
    assert recipe.name == "quickstart"
    assert run.make_config("resnet56")[2]["dataset"] == "cifar10"
    assert run.make_config("resnet50")[2]["dataset"] == "images"  # streamed from --data-dir
    with pytest.raises(ValueError, match="Expected epochs >= 1. Received: epochs=0"):
        run.make_config("resnet20", epochs=0)
    with pytest.raises(ValueError, match="Expected a recipe in .*quickstart"):
        run.make_config("resnet20", recipe="nope")
    assert run.recipe_names() == ["concrete_vae", "mask_rcnn", "mask_rcnn_tiny", "quickstart",
                                  "resnet_cifar", "resnet_finetune", "resnet_imagenet",
                                  "swapout"]
    assert run.make_config("resnet20")[2]["norm_layer"] == "batch"
    assert run.make_config("swapout-20x2", sync_bn=True)[2]["norm_layer"] == "sync"
    with pytest.raises(ValueError, match="batch normalisation for --sync-bn. Received: "
                                         "recipe='concrete_vae'"):
        run.make_config("concrete-vae", sync_bn=True)


def test_default_run_dir_never_reuses_a_name(tmp_path):
    first = run_dir.default_run_dir("resnet20", root=str(tmp_path))
    assert first.startswith(str(tmp_path / "resnet20-"))
    (tmp_path / first.rsplit("/", 1)[1]).mkdir()
    assert run_dir.default_run_dir("resnet20", root=str(tmp_path)) != first


def test_multiworker_runs_need_a_stable_out():
    with pytest.raises(ValueError, match="Expected --out for --strategy multiworker"):
        run.train("resnet20", strategy="multiworker", tiny=True, verbose=0)


class _CrashAtFirstBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        raise RuntimeError("the machine went down")


@pytest.mark.large
def test_overwrite_keeps_the_old_run_until_the_new_one_has_a_checkpoint(tmp_path):
    mnist = write_tiny_mnist(tmp_path / "mnist")
    out = tmp_path / "run"
    common = dict(dataset="mnist", data_dir=mnist, batch_size=16, out=str(out), verbose=0)
    run.train("resnet20", epochs=1, **common)
    old_model = (out / "checkpoints" / "last.keras").read_bytes()

    with pytest.raises(RuntimeError, match="went down"):  # a crash at start-up
        run.train("resnet20", epochs=2, overwrite=True, callbacks=[_CrashAtFirstBatch()],
                  **common)
    aside = [n for n in os.listdir(tmp_path) if n.startswith("run.replaced-")]
    assert len(aside) == 1  # the old run, whole
    assert (tmp_path / aside[0] / "checkpoints" / "last.keras").read_bytes() == old_model
    assert json.loads((tmp_path / aside[0] / "status.json").read_text())["state"] == "finished"

    result = run.train("resnet20", epochs=2, overwrite=True, **common)  # the same command
    assert result.epochs == 2 and not (tmp_path / aside[0]).exists()  # deleted once replaced
    status = json.loads((out / "status.json").read_text())
    assert (status["state"], status["replaced"]) == ("finished", None)


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
    CPU) and --sync-bn: the run's test metrics are those of its saved model, as `evaluate`
    reports them, and every batch normalisation of the saved model is synchronised."""
    mnist = write_tiny_mnist(tmp_path / "mnist")
    out = str(tmp_path / "run")
    result = run.train("resnet20", dataset="mnist", data_dir=mnist, epochs=1, batch_size=16,
                       out=out, strategy="mirrored", mixed_precision=True, sync_bn=True,
                       verbose=0)
    assert result.config["norm_layer"] == "sync"
    # The same checkpoint evaluated twice on the same images: only another reduction order
    # could change the float32 mean loss, a few ulps (measured equal).
    assert result.test == pytest.approx(run.evaluate(out), rel=1e-6)
    model = keras.saving.load_model(tmp_path / "run" / "checkpoints" / "last.keras")
    # mixed_bfloat16 on CPU (mixed_float16 where a GPU is visible).
    policy = strategies.precision_policy(True)
    assert model.get_layer("normalization").dtype_policy.name == policy
    assert model.output.dtype == "float32"  # softmax probabilities stay float32
    norms = [layer for layer in model._flatten_layers()
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 19 and all(layer.synchronized for layer in norms)  # stem + 9 x 2
    assert keras.config.dtype_policy().name == "float32"  # the global policy was restored
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert (status["strategy"], status["state"]) == ("mirrored", "finished")


def _locked_by_another_process(directory):
    probe = ("import sys; from keras_zoo.train import directory_lock as d; "
             "d.lock_directory(sys.argv[1])")
    return subprocess.run([sys.executable, "-c", probe, str(directory)],
                          capture_output=True, text=True).returncode != 0


class _ProbeLock(keras.callbacks.Callback):
    """Records, at the first epoch's end, whether another process could take the lock."""

    def __init__(self, directory):
        super().__init__()
        self.directory, self.locked = directory, None

    def on_epoch_end(self, epoch, logs=None):
        if self.locked is None:
            self.locked = _locked_by_another_process(self.directory)


@pytest.mark.large
def test_train_holds_the_run_directory_for_the_run_only(tmp_path):
    """`run.train` locks its directory while it trains, through an overwrite that moves
    the old run aside, and releases it when it returns (a library call is not a process)."""
    mnist = write_tiny_mnist(tmp_path / "mnist")
    out = tmp_path / "run"
    common = dict(dataset="mnist", data_dir=mnist, batch_size=16, out=str(out), verbose=0)
    probe = _ProbeLock(out)
    run.train("resnet20", epochs=1, callbacks=[probe], **common)
    assert probe.locked is True
    assert not _locked_by_another_process(out)  # released when train returned
    probe = _ProbeLock(out)
    run.train("resnet20", epochs=1, seed=1, overwrite=True, callbacks=[probe], **common)
    assert probe.locked is True  # the new directory, after the old one was moved aside
    assert directory_lock.LOCK_NAME in os.listdir(out)
    assert not _locked_by_another_process(out)
