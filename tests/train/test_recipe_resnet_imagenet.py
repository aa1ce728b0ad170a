"""The ImageNet recipe (He et al. 2015, Sec. 3.4) on image folders: its settings and
schedules, the registry rows, ``keras-zoo train resnet18 --data-dir`` as a subprocess on a
small ImageNet-layout folder with bad images (it learns, logs top-1/top-5 and the skipped
images, writes nothing into the data), ``keras-zoo evaluate --crops 10``, and bad folders as
one line and exit status 2."""

import csv
import json
import os

import keras
import numpy as np
import pytest

from keras_zoo.train import cli, recipes, registry, run
from keras_zoo.train.callbacks import SkippedImagesLog
from tests.train import image_folder_files as files
from tests.train.run_helpers import cli_stderr_lines, keras_zoo, one_line_error

RECIPE = recipes.get("resnet_imagenet")


@pytest.mark.no_keras_state
def test_config_is_the_papers():
    _, recipe, config = run.make_config("resnet50")
    assert recipe is RECIPE and config["dataset"] == "images"
    assert (config["batch_size"], config["learning_rate"], config["momentum"],
            config["weight_decay"]) == (256, 0.1, 0.9, 1e-4)
    assert (config["schedule"], config["decay_epochs"], config["epochs"]) == (
        "step", [30, 60, 80], 90)
    assert (config["augmentation"], config["scale_range"], config["crop_size"],
            config["lighting"], config["crops"]) == ("scale", [256, 480], 224, 0.1, 1)
    assert config["label_offset"] == 1 and config["norm_layer"] == "batch"
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        assert (registry.get(name).dataset, registry.get(name).recipe_name) == (
            "images", "resnet_imagenet")


def test_step_schedule_and_metrics():
    config = RECIPE.get_config("resnet18")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    RECIPE.compile_model(model, config, steps_per_epoch=10)
    schedule = model.optimizer._learning_rate  # the StepSchedule (Keras keeps it private)
    for step, expected in [(0, 0.1), (299, 0.1), (300, 0.01), (599, 0.01), (600, 0.001),
                           (800, 1e-4)]:
        np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-6)
    assert model.optimizer.l2 == 1e-4 and model.optimizer.momentum == 0.9
    logs = model.evaluate(np.zeros((2, 4)), np.array([0, 2]), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy", "top5_accuracy"}
    # An image of weight 0 (one the pipeline skipped) is not counted.
    weighted = model.evaluate(np.zeros((2, 4)), np.array([0, 2]), sample_weight=np.array(
        [1.0, 0.0]), verbose=0, return_dict=True)
    first = model.evaluate(np.zeros((1, 4)), np.array([0]), verbose=0, return_dict=True)
    assert weighted["accuracy"] == first["accuracy"]


def test_plateau_schedule_follows_the_validation_error():
    config = {**RECIPE.get_config("resnet18"), "schedule": "plateau"}
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    RECIPE.compile_model(model, config, steps_per_epoch=10)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)
    extra = RECIPE.callbacks(config, has_validation=True)
    plateau = [c for c in extra if isinstance(c, keras.callbacks.ReduceLROnPlateau)]
    assert len(plateau) == 1 and plateau[0].monitor == "val_accuracy"
    assert plateau[0].factor == pytest.approx(0.1) and plateau[0].patience == 5
    with pytest.raises(ValueError, match=r"Expected `schedule` to be one of \('step', "
                                         r"'plateau'\). Received: schedule='cosine'"):
        RECIPE.learning_rate({**config, "schedule": "cosine"}, 10)


@pytest.mark.no_keras_state
def test_skipped_images_log_adds_its_count_andone_line_error(capsys):
    from keras_zoo.train.datasets import SkippedImages

    skipped = SkippedImages()
    log = SkippedImagesLog(skipped)
    logs = {}
    log.on_epoch_end(0, logs)
    assert logs == {"skipped_images": 0} and capsys.readouterr().err == ""
    skipped.record("train", "/d/a.jpg (OSError: truncated)")
    skipped.record("val", "/d/b.png (no image)")
    log.on_epoch_end(2, logs)
    assert logs == {"skipped_images": 2}
    assert capsys.readouterr().err == (
        "keras-zoo: epoch 3: skipped 2 images that could not be decoded: train 1 (e.g. /d/a.jpg "
        "(OSError: truncated)), val 1 (e.g. /d/b.png (no image))\n")


def _imagenet_folder(root):
    """train/ and val/ of 3 colour classes in every format, with bad images in both."""
    written = files.write_class_tree(os.path.join(root, "train"), {"cat": 14, "dog": 14,
                                                                   "fox": 14}, kinds=files.KINDS)
    files.write_class_tree(os.path.join(root, "val"), {"cat": 4, "dog": 4, "fox": 4}, seed=1)
    files.corrupt(written["dog"][0], "truncated")
    files.corrupt(os.path.join(root, "val", "fox", "fox_1.JPEG"), "garbage")
    with open(os.path.join(root, "train", "cat", "README.txt"), "w") as f:
        f.write("photos from the garden")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = _imagenet_folder(str(tmp_path_factory.mktemp("data")))
    before = files.snapshot(root)
    cwd = tmp_path_factory.mktemp("cwd")
    out = cwd / "run"
    result = keras_zoo("train", "resnet18", "--data-dir", root, "--tiny", "--epochs", "3",
                       "--batch-size", "16", "--set", "steps_per_epoch=8",
                       "--set", "learning_rate=0.01", "--out", out, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return root, before, out, result


@pytest.mark.large
def test_trains_from_an_image_folder_and_learns(trained):
    root, before, out, result = trained
    assert f"train ({root}/train): 42 images in 3 classes; skipped: 1 file that is not an " \
           f"image (e.g. {root}/train/cat/README.txt)" in result.stdout
    assert "val top-1 accuracy: " in result.stdout and "val top-5 accuracy: 1.0000" in result.stdout
    assert "val images: 11, the central crop of each (1 skipped)" in result.stdout
    # The truncated training image is met in every pass: one line per epoch names it.
    lines = [line for line in cli_stderr_lines(result.stderr)
             if line.startswith("keras-zoo: epoch")]
    assert len(lines) == 3 and all(f"(e.g. {root}/train/dog/dog_0.JPEG" in line
                                   for line in lines), lines
    assert f"keras-zoo: val: skipped 1 image that could not be decoded: val 1 (e.g. {root}" \
           f"/val/fox/fox_1.JPEG" in result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["class_names"] == ["cat", "dog", "fox"]
    assert config["recipe"] == "resnet_imagenet" and config["data_dir"] == root
    with open(out / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert {"accuracy", "top5_accuracy", "val_accuracy", "val_top5_accuracy",
            "skipped_images"} <= set(rows[0])
    assert all(int(row["skipped_images"]) >= 1 for row in rows)
    # It learns: chance is 1/3 (the classes are colours, the crops random).
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert float(rows[-1]["accuracy"]) >= 0.6, rows
    assert status_of(out)["test"]["accuracy"] >= 0.7
    status = status_of(out)
    assert status["state"] == "finished" and status["test_split"] == "val"
    assert status["test"]["images"] == 11 and status["test"]["skipped_images"] == 1
    assert (out / "saved_model" / "1" / "saved_model.pb").is_file()
    assert files.snapshot(root) == before  # nothing written into the data folder


@pytest.mark.large
def test_evaluate_with_ten_crops(trained, capsys):
    root, _, out, _ = trained
    assert cli.main(["evaluate", str(out), "--crops", "10"]) == 0
    printed = capsys.readouterr().out
    assert "val images: 11, 10 crops of each (1 skipped)" in printed
    assert cli.main(["evaluate", str(out)]) == 0
    assert "the central crop of each" in capsys.readouterr().out


def status_of(out):
    return json.loads((out / "status.json").read_text())



def test_bad_folders_are_one_line_and_exit_2(tmp_path, capsys):
    one = tmp_path / "one"
    files.write_class_tree(one, {"cat": 3})
    line = one_line_error(capsys, ["train", "resnet18", "--data-dir", one, "--out", tmp_path / "r"])
    assert f"Expected at least two class folders in {one}" in line
    imagenet = tmp_path / "imagenet"
    files.write_class_tree(imagenet / "train", {"cat": 2, "dog": 2})
    files.write_class_tree(imagenet / "val", {"cat": 1, "zebra": 1})
    line = one_line_error(capsys, ["train", "resnet18", "--data-dir", imagenet, "--tiny",
                              "--out", tmp_path / "r"])
    assert f"Received: {imagenet}/val/zebra, not a training class" in line
    assert "Expected --data-dir DIR for resnet50" in one_line_error(
        capsys, ["train", "resnet50", "--out", tmp_path / "r"])
    assert "Expected --dataset images for resnet50" in one_line_error(
        capsys, ["train", "resnet50", "--dataset", "cifar10", "--out", tmp_path / "r"])
    flat = tmp_path / "flat"
    files.write_class_tree(flat, {"cat": 2, "dog": 2})
    assert "Expected a split to test on in" in one_line_error(
        capsys, ["train", "resnet18", "--data-dir", flat, "--set", "test_split=0",
                 "--out", tmp_path / "r"])
    assert not (tmp_path / "r").exists()  # nothing written
