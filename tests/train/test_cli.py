"""`keras-zoo` run as a subprocess, as a user would: models, train, evaluate, bad input."""

import csv
import json
import os

import pytest

from tests.train.run_helpers import TINY_TRAIN, keras_zoo, write_tiny_mnist


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    return write_tiny_mnist(tmp_path_factory.mktemp("mnist"))


def _user_error(result):
    """Exit status 2, one line on stderr (nothing from TensorFlow), no traceback."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, lines
    return lines[0]


def test_models_lists_paper_parameter_counts(tmp_path):
    result = keras_zoo("models", "resnet20", "resnet110", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    # He et al. 2015, Table 6: 0.27M and 1.7M (exact option-A trainable counts, PAPERS.md).
    assert rows["resnet20"][1:4] == ["269,722", "274,170", "cifar10"]
    assert rows["resnet110"][1] == "1,727,962"


@pytest.mark.large
def test_train_evaluate_and_refuse_existing_out(tmp_path, mnist_dir):
    out = tmp_path / "run"
    result = keras_zoo(*TINY_TRAIN, "--data-dir", mnist_dir, "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # TensorFlow's start-up lines stay off the terminal
    assert f"Run directory: {out}" in result.stdout
    accuracy = next(line for line in result.stdout.splitlines()
                    if line.startswith("test accuracy: "))
    for name in ("config.json", "status.json", "log.csv", "checkpoints/last.keras",
                 "checkpoints/best.keras", "saved_model/1/saved_model.pb"):
        assert (out / name).exists(), name
    assert os.listdir(out / "tensorboard")
    assert not (out / "backup").exists()  # removed once the run finished
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "finished" and set(status["test"]) == {"accuracy", "loss"}
    with open(out / "log.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0"]
    with open(out / "lr.csv") as f:  # 48 images, batches of 16: 3 updates at the recipe's 0.1
        assert [(r["step"], r["learning_rate"]) for r in csv.DictReader(f)] == [
            ("0", "0.1"), ("1", "0.1"), ("2", "0.1")]

    evaluated = keras_zoo("evaluate", out, cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stderr == ""
    assert accuracy in evaluated.stdout.splitlines()  # the final model, same test metrics

    line = _user_error(keras_zoo(*TINY_TRAIN, "--data-dir", mnist_dir, "--out", out,
                                 cwd=tmp_path))
    assert "holds a finished run" in line and "--overwrite" in line
    line = _user_error(keras_zoo(*TINY_TRAIN[:-2], "--batch-size", "8", "--data-dir", mnist_dir,
                                 "--out", out, cwd=tmp_path))
    assert "batch_size: 16 -> 8" in line and "--overwrite" in line


@pytest.mark.large
@pytest.mark.parametrize("args, expected", [
    (("train", "resnet21"), "Expected a model name in resnet20, resnet32"),
    (("train", "resnet20", "--dataset", "mnist", "--data-dir", "no/such/dir"), "MNIST IDX files"),
    (("evaluate", "no/such/run"), "Expected RUN_DIR to be a keras-zoo run directory"),
])
def test_bad_input_prints_one_line_and_exits_2(tmp_path, args, expected):
    line = _user_error(keras_zoo(*args, cwd=tmp_path))
    assert line.startswith(f"keras-zoo {args[0]}: error: ") and expected in line
    assert not (tmp_path / "runs").exists()  # nothing was created
