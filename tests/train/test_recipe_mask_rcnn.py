"""The Mask R-CNN recipes: detectron2's 1x configuration and schedule (warm-up, decays,
linear lr scaling), epochs of a streaming dataset, command-line overrides, data errors."""

import os

import keras
import numpy as np
import pytest

from keras_zoo.train import recipes, run
from keras_zoo.train.schedules import StepSchedule
from tests.train.coco_files import tiny_coco

MASK_RCNN = recipes.get("mask_rcnn")
TINY = recipes.get("mask_rcnn_tiny")


@pytest.mark.no_keras_state
def test_one_x_configuration():
    _, recipe, config = run.make_config("mask-rcnn")
    assert recipe is MASK_RCNN
    assert {k: config[k] for k in ("batch_size", "steps", "learning_rate", "momentum",
                                   "weight_decay", "min_size", "max_size", "backbone")} == {
        "batch_size": 16, "steps": 90000, "learning_rate": 0.02, "momentum": 0.9,
        "weight_decay": 1e-4, "min_size": 800, "max_size": 1333, "backbone": "resnet50"}
    assert run.make_config("mask-rcnn-r101")[2]["backbone"] == "resnet101"
    _, recipe, config = run.make_config("mask-rcnn-tiny")
    assert recipe is TINY and config["dataset"] == "digits-instances" and not config["flip"]


@pytest.mark.no_keras_state
def test_epochs_of_a_streaming_dataset():
    config = run.make_config("mask-rcnn")[2]
    # COCO train2017 (117,266 images with objects) at 16 per batch: 7,329 per pass; 90k
    # iterations are 12 passes ("epochs") of 7,500.
    assert MASK_RCNN.steps_per_epoch(config, 117_266) == 7500
    assert MASK_RCNN.steps_per_epoch({**config, "batch_size": 2}, 117_266) == 45000
    assert MASK_RCNN.steps_per_epoch({**config, "epochs": 3}, 117_266) == 7329
    assert MASK_RCNN.steps_per_epoch({**config, "steps_per_epoch": 5}, 117_266) == 5
    tiny = run.make_config("mask-rcnn-tiny")[2]
    assert TINY.steps_per_epoch(tiny, 1500) == 187


def test_schedule_is_detectron2_warmup_multistep():
    """lr 0.02 x 8 / 16 at batch 8; linear warm-up over 1/90 of the run from 0.001x;
    / 10 at 2/3 and 8/9 of the run (60k and 80k of 90k iterations)."""
    config = {**run.make_config("mask-rcnn")[2], "batch_size": 8, "epochs": 9}
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    MASK_RCNN.compile_model(model, config, steps_per_epoch=1000)  # 9000 updates
    schedule = model.optimizer._learning_rate  # the StepSchedule (Keras keeps it private)
    assert isinstance(schedule, StepSchedule) and schedule.warmup == "linear"
    rates = [float(schedule(step)) for step in (0, 50, 99, 100, 5999, 6000, 7999, 8000)]
    # float32 rates: relative error ~1e-7
    np.testing.assert_allclose(rates, [1e-5, 1e-5 + (0.01 - 1e-5) * 0.5,
                                       1e-5 + (0.01 - 1e-5) * 0.99, 0.01, 0.01, 0.001, 0.001,
                                       0.0001], rtol=1e-6)
    assert model.optimizer.l2 == 1e-4 and model.optimizer.momentum == 0.9


@pytest.mark.no_keras_state
def test_linear_warmup_schedule_serialises():
    schedule = StepSchedule([10], [1.0, 0.1], warmup_steps=4, warmup_value=0.2, warmup="linear")
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule))
    # 0.2 + 0.8 * step / 4 in float32
    np.testing.assert_allclose([float(restored(s)) for s in (0, 1, 3, 4, 10)],
                               [0.2, 0.4, 0.8, 1.0, 0.1], rtol=1e-6)
    with pytest.raises(ValueError, match="warmup in"):
        StepSchedule([10], [1.0, 0.1], warmup="cosine")


@pytest.mark.no_keras_state
def test_overrides():
    config = run.make_config("mask-rcnn-tiny", overrides={"use_roi_align": False,
                                                          "learning_rate": 1})[2]
    assert config["use_roi_align"] is False and config["learning_rate"] == 1
    with pytest.raises(ValueError, match=r"Expected --set use_roi_align=... to be a bool like "
                                         r"the recipe's True. Received: 'fals'"):
        run.make_config("mask-rcnn-tiny", overrides={"use_roi_align": "fals"})
    with pytest.raises(ValueError, match=r"Expected --set roi_align=... only for a recipe with "
                                         r"the setting 'roi_align'; recipe 'mask_rcnn_tiny' has"):
        run.make_config("mask-rcnn-tiny", overrides={"roi_align": False})
    with pytest.raises(ValueError, match=r"Expected --init only for a recipe with the setting "
                                         r"'init'; recipe 'quickstart'"):
        run.make_config(None, overrides={"init": ["torchvision", "x.pth"]})


@pytest.mark.no_keras_state
@pytest.mark.parametrize("model, changes, message", [
    ("mask-rcnn-tiny", {"data_dir": "/data"}, r"no --data-dir or annotation files with "
     r"--dataset digits-instances \(the shipped dataset\); leave out --dataset"),
    ("mask-rcnn", {}, r"Expected COCO-format data: --data-dir DIR .* Received: neither"),
    ("mask-rcnn", {"dataset": "cifar10"}, r"--dataset among \('digits-instances', 'coco'\)"),
    ("mask-rcnn", {"validation_split": 0.1}, r"no --validation-split for COCO-format data"),
])
def test_data_errors(model, changes, message):
    config = {**run.make_config(model)[2], **changes}
    with pytest.raises(ValueError, match=message):
        recipes.get(config["recipe"]).load_data(config)


@pytest.mark.no_keras_state
def test_a_data_dir_or_annotation_files_imply_coco(tmp_path, capsys):
    """`keras-zoo train mask-rcnn-tiny --train-annotations ... --train-images ...` needs no
    --dataset coco: the files say which data the user means; without them the shipped
    digits-instances quick start stays the default, and an explicit --dataset wins."""
    annotations, images = tiny_coco(tmp_path)
    files = {"train": [str(annotations), str(images)]}
    assert run.make_config("mask-rcnn-tiny")[2]["dataset"] == "digits-instances"
    assert run.make_config("mask-rcnn-tiny", data_dir=str(tmp_path))[2]["dataset"] == "coco"
    config = run.make_config("mask-rcnn-tiny", overrides={"data_files": files})[2]
    assert config["dataset"] == "coco"
    data = recipes.get(config["recipe"]).load_data(config)
    assert data.split("train").images  # read, with its one-line summary
    assert f"train ({os.path.basename(annotations)}): " in capsys.readouterr().out
    explicit = run.make_config("mask-rcnn-tiny", dataset="digits-instances",
                               overrides={"data_files": files})[2]
    with pytest.raises(ValueError, match="leave out --dataset to train on yours"):
        recipes.get(explicit["recipe"]).load_data(explicit)
