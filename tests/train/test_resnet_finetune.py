"""Fine-tuning on your own folder (the resnet_finetune recipe): ``--init`` with a
keras.applications ResNet50 ``.h5`` file (written in its legacy HDF5 layout), the copied
weights give keras.applications' features, a new classifier for the folder's classes, the
head trained first and then everything, frozen batch normalisation untouched; the CLI's
``--init`` parsing and recipe choice."""

import argparse
import json
import os
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

from keras_zoo import models
from keras_zoo.train import cli, run, train_command
from keras_zoo.train.recipes import initial_weights, resnet_finetune
from tests.train import image_folder_files as files
from tests.train.run_helpers import one_line_error


def _keras_applications_h5(path, seed=0, include_top=False):
    """keras.applications.ResNet50 (by default without its top), with random weights and
    batch statistics of realistic size, saved in the legacy HDF5 layout of its published
    files."""
    from keras.src.legacy.saving import legacy_h5_format

    rng = np.random.default_rng(seed)
    theirs = keras.applications.ResNet50(weights=None, include_top=include_top)
    for layer in theirs.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            size = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.2, 0.5, size), rng.normal(0, 0.1, size),
                               rng.normal(0, 0.1, size), rng.uniform(0.5, 2.0, size)])
        elif isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.05, bias.shape)])
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    return theirs


class _Probe(keras.callbacks.Callback):
    """The features (avg_pool) of `images` when training starts, and weights at each
    epoch's start and end."""

    def __init__(self, images):
        super().__init__()
        self.images, self.weights = images, []

    def _snapshot(self):
        self.weights.append({name: {w.path: np.array(w)
                                    for w in self.model.get_layer(name).weights}
                             for name in ("conv1_conv", "conv3_block1", "fc")})

    def on_train_begin(self, logs=None):
        pooled = keras.Model(self.model.inputs, self.model.get_layer("avg_pool").output)
        self.features = pooled.predict(self.images, verbose=0)
        self._snapshot()

    def on_epoch_end(self, epoch, logs=None):
        self._snapshot()


def _changed(before, after, name):
    """``{variable path: whether it changed}`` of layer `name`."""
    return {path: not np.array_equal(value, after[name][path])
            for path, value in before[name].items()}


@pytest.mark.large
def test_fine_tunes_from_keras_applications_weights(tmp_path, monkeypatch):
    weights = str(tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    theirs = _keras_applications_h5(weights)
    images = files.pixels(np.random.default_rng(3), 1, 32, 32)[None].astype(np.float32)
    expected = theirs.predict(keras.applications.resnet.preprocess_input(images.copy()),
                              verbose=0).mean(axis=(1, 2))
    folder = tmp_path / "my_photos"
    files.write_class_tree(folder, {"apple": 6, "pear": 6, "plum": 6}, kinds=files.KINDS)
    before = files.snapshot(folder)
    probe = _Probe(images)
    monkeypatch.setattr(resnet_finetune.ResNetFineTune, "export_after_training", False)
    result = run.train("resnet50", recipe="resnet_finetune", data_dir=str(folder),
                       out=str(tmp_path / "run"), tiny=True, callbacks=[probe], verbose=0,
                       overrides={"init": ["keras-applications", weights]})
    # The copied network computes keras.applications' features (conv biases folded into BN).
    np.testing.assert_allclose(probe.features, expected, rtol=1e-4, atol=1e-4 * np.abs(
        expected).max())
    start, head, full = probe.weights
    assert start["fc"]["fc/kernel"].shape == (2048, 3)  # new, for the folder's 3 classes
    assert all(_changed(start, head, "fc").values())  # stage 1: the head alone
    assert not any({**_changed(start, head, "conv1_conv"),
                    **_changed(start, head, "conv3_block1")}.values())
    moved = _changed(head, full, "conv3_block1")  # stage 2: the convolutions, not the BN
    assert len(moved) == 20 and all(change == path.endswith("kernel")
                                    for path, change in moved.items()), moved
    assert result.config["recipe"] == "resnet_finetune" and result.config["norm_layer"] == "frozen"
    assert result.split == "test" and result.test["images"] == 3  # 1 of 6 per class held out
    with open(os.path.join(result.run_dir, "lr.csv")) as f:
        rates = [float(line.split(",")[1]) for line in f.read().splitlines()[1:]]
    np.testing.assert_allclose(rates, [0.01, 0.001])  # head_learning_rate, learning_rate
    assert files.snapshot(folder) == before


@pytest.mark.large
def test_convert_keras_applications_files_then_init_from_the_presets(tmp_path, capsys):
    """``keras-zoo convert keras-applications`` with and without the top: the presets give
    keras.applications' outputs, record where the weights came from, and start a run."""
    images = np.random.default_rng(3).integers(0, 256, (2, 64, 64, 3)).astype(np.float32)
    top = str(tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels.h5")  # its published name
    theirs = _keras_applications_h5(top, include_top=True)
    assert cli.main(["convert", "keras-applications", top, "--out", str(tmp_path / "top")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"Converted {os.path.basename(top)} (keras-applications resnet50) into "
                        f"{tmp_path / 'top'}: an ImageClassifier of 25,557,032 parameters (and "
                        f"53,120 batch-norm statistics), 1000 classes")
    assert lines[2].startswith("  verified: reloaded from the written files, its outputs")
    metadata = json.loads((tmp_path / "top" / "metadata.json").read_text())
    assert metadata["weights"]["published"]["ImageNet val top-1"] == 0.749
    assert metadata["weights"]["url"].endswith("/resnet/" + os.path.basename(top))
    crops = np.asarray(keras.ops.image.resize(images, (224, 224)))
    expected = theirs.predict(keras.applications.resnet.preprocess_input(crops.copy()),
                              verbose=0)
    ours = models.ImageClassifier.from_preset(tmp_path / "top").predict(crops, verbose=0)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-5)  # probabilities, conv
    # biases folded into BN exactly: float32 reassociation over 50 layers only

    notop = str(tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    theirs = _keras_applications_h5(notop)
    convert = ["convert", "keras-applications", notop, "--out", str(tmp_path / "r50")]
    holder = subprocess.Popen(  # another convert into the same --out, still at work
        [sys.executable, "-c", "import sys, time; from keras_zoo.train import directory_lock; "
         "directory_lock.lock_target(sys.argv[1]); print('locked', flush=True); time.sleep(600)",
         str(tmp_path / "r50")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert f"in use by process {holder.pid}" in one_line_error(capsys, convert)
        assert not (tmp_path / "r50").exists()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert cli.main(convert) == 0
    assert "a ResNetBackbone of 23,508,032 parameters" in capsys.readouterr().out
    expected = theirs.predict(keras.applications.resnet.preprocess_input(images.copy()),
                              verbose=0).mean(axis=(1, 2))
    model = initial_weights.initial_classifier(
        "resnet50", models.ResNet50, num_classes=3, input_shape=(64, 64, 3),
        init=["preset", str(tmp_path / "r50")], norm_layer="frozen")
    pooled = keras.Model(model.inputs, model.get_layer("avg_pool").output)
    np.testing.assert_allclose(pooled.predict(images, verbose=0), expected, rtol=1e-4,
                               atol=1e-4 * np.abs(expected).max())
    assert model.get_layer("fc").kernel.shape == (2048, 3)


@pytest.mark.no_keras_state
def test_weights_file_layout_says_whether_it_has_the_top(tmp_path):
    for names, order in (([b"conv1_conv", b"predictions"], (True, False)),
                         ([b"conv1_conv", b"conv5_block3_out"], (False, True))):
        path = tmp_path / "w.h5"
        with h5py.File(path, "w") as f:
            f.attrs["layer_names"] = names
        assert initial_weights._top_first(str(path)) == order


def test_init_errors(tmp_path):
    build = models.ResNet18
    options = {"num_classes": 2, "input_shape": (32, 32, 3)}
    with pytest.raises(ValueError, match=r"Expected --init keras-applications for resnet50, "
                                         r"resnet101, resnet152 .* Received: resnet18"):
        initial_weights.initial_classifier("resnet18", build, init=["keras-applications",
                                                                    "w.h5"], **options)
    with pytest.raises(FileNotFoundError, match=r"Expected --init to be a keras.applications "
                                                r"weights file. Received: 'nope.h5' does not"):
        initial_weights.initial_classifier("resnet50", build, init=["keras-applications",
                                                                    "nope.h5"], **options)
    with pytest.raises(FileNotFoundError, match=r"Expected a preset directory .* Received: "
                                                r"'/p' does not exist"):
        initial_weights.initial_classifier("resnet50", build, init=["preset", "/p"], **options)
    models.ResNetBackbone((1, 1, 1, 1), (4, 4, 4, 4)).save_to_preset(tmp_path / "small")
    with pytest.raises(ValueError, match=r"Expected --init a preset of resnet50 \(stages \(3, 4, "
                                         r"6, 3\)\). Received: .*small holds a network with "
                                         r"stages \(1, 1, 1, 1\)"):
        initial_weights.initial_classifier("resnet50", build, init=["preset", str(
            tmp_path / "small")], **options)
    with pytest.raises(ValueError, match=r"Expected --init a keras.applications ResNet .h5 "
                                         r"weights file or a preset directory"):
        initial_weights.initial_classifier("resnet50", build, init=["onnx", "/p"], **options)


@pytest.mark.no_keras_state
def test_cli_init_and_recipe_choice(tmp_path):
    weights = tmp_path / "w.h5"
    weights.write_bytes(b"")

    def args(model, init=None, recipe=None):
        return argparse.Namespace(model=model, init=init, recipe=recipe)

    assert train_command._init([str(weights)]) == ["keras-applications", str(weights)]
    assert train_command._init([str(tmp_path)]) == ["preset", str(tmp_path)]
    assert train_command._init(["torchvision", "m.pth"]) == ["torchvision",
                                                              os.path.abspath("m.pth")]
    with pytest.raises(ValueError, match=r"Expected --init PATH or --init FORMAT PATH"):
        train_command._init(["a", "b", "c"])
    assert train_command._recipe(args("resnet50", [str(weights)])) == "resnet_finetune"
    assert train_command._recipe(args("resnet50")) is None  # the registry's resnet_imagenet
    assert train_command._recipe(args("resnet50", [str(weights)], "resnet_imagenet")) == \
        "resnet_imagenet"
    assert train_command._recipe(args("mask-rcnn", ["torchvision", "m.pth"])) is None


@pytest.mark.no_keras_state
def test_finetune_schedule_and_settings():
    recipe = resnet_finetune.ResNetFineTune()
    config = recipe.get_config("resnet50")
    assert (config["batch_size"], config["epochs"], config["head_epochs"],
            config["head_learning_rate"], config["learning_rate"], config["augmentation"],
            config["norm_layer"]) == (32, 10, 3, 0.01, 0.001, "inception", "frozen")
    schedule = recipe.learning_rate({**config, "decay_epochs": [8]}, 5)
    for step, expected in [(0, 0.01), (14, 0.01), (15, 0.001), (39, 0.001), (40, 1e-4)]:
        np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"Expected schedule 'step' for resnet_finetune"):
        recipe.learning_rate({**config, "schedule": "plateau"}, 5)
