"""Presets (keras-hub's layout): `save_to_preset` writes config.json, model.weights.h5 and
metadata.json; `from_preset` of `ResNetBackbone`, `ImageClassifier`, `FasterRCNN` and
`MaskRCNN` loads them back with the same outputs, in another dtype policy on request, and
refuses with one line: another task's preset, a newer keras_zoo's, a missing, truncated or
foreign weights file, a known preset not converted yet. Tiny models throughout."""

import json
import os

import keras
import numpy as np
import pytest

import keras_zoo
from keras_zoo import models
from keras_zoo.export.detections import match_detections
from keras_zoo.models import preset as presets
from keras_zoo.models.mask_rcnn import BoxHead, FeaturePyramid, FPNBackbone, MaskHead

IMAGES = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype("uint8")
# The same weights and graph in float32 run twice: only the reassociation of sums differs.
RTOL = 1e-6


def _classifier():
    return models.ImageClassifier(models.ResNetBackbone((1, 1), (4, 8), stem="cifar",
                                                        name="body"), 3, name="clf")


def _detector(task=models.MaskRCNN):
    """A v2-shaped detector (BN in the FPN and the heads) on a one-block ResNet."""
    body = models.ResNetBackbone((1, 1, 1, 1), (4, 4, 4, 4), normalization="none", name="body")
    backbone = FPNBackbone(body, FeaturePyramid(8, norm_layer="batch", name="fpn"),
                           name="backbone")
    heads = {"box_head": BoxHead((8,), (16,), norm_layer="batch", name="box_head")}
    if task is models.MaskRCNN:
        heads["mask_head"] = MaskHead((8,), norm_layer="batch", name="mask_head")
    return task(3, backbone, min_size=64, max_size=64, score_threshold=0.0, **heads)


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * np.abs(a).max())


def test_classifier_preset_files_metadata_and_round_trip(tmp_path):
    model = _classifier()
    path = model.save_to_preset(tmp_path / "p", metadata={"class_names": ["a", "b", "c"]})
    assert sorted(os.listdir(path)) == ["config.json", "metadata.json", "model.weights.h5"]
    assert not [n for n in os.listdir(tmp_path) if n != "p"]  # no temporary sibling left
    metadata = json.loads((tmp_path / "p" / "metadata.json").read_text())
    assert metadata["keras_zoo_preset"] == 1 and metadata["class_name"] == (
        "keras_zoo>ImageClassifier")
    assert metadata["keras_zoo_version"] == keras_zoo.__version__
    assert metadata["keras_version"] == keras.__version__
    assert metadata["parameter_count"] == model.count_params()
    assert metadata["num_classes"] == 3 and metadata["input_size"] == [32, 32]
    assert metadata["class_names"] == ["a", "b", "c"]
    loaded = models.ImageClassifier.from_preset(path)
    assert type(loaded) is models.ImageClassifier
    for a, b in zip(model.weights, loaded.weights):  # copied, not computed: exact
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    _close(model.predict(IMAGES, verbose=0), loaded.predict(IMAGES, verbose=0))


def test_backbone_from_a_classifier_and_a_classifier_on_a_backbone(tmp_path):
    model = _classifier()
    model.save_to_preset(tmp_path / "clf")
    backbone = models.ResNetBackbone.from_preset(tmp_path / "clf")
    assert type(backbone) is models.ResNetBackbone
    _close(model.backbone.predict(IMAGES, verbose=0)["C1"],
           backbone.predict(IMAGES, verbose=0)["C1"])
    backbone.save_to_preset(tmp_path / "body")
    with pytest.raises(ValueError, match=r"Expected num_classes= to put a new classifier on the "
                                         r"backbone preset .*body. Received: none"):
        models.ImageClassifier.from_preset(tmp_path / "body")
    fresh = models.ImageClassifier.from_preset(tmp_path / "body", num_classes=5)
    assert fresh.output_shape == (None, 5)
    np.testing.assert_array_equal(fresh.get_layer("conv1_conv").kernel.numpy(),
                                  model.get_layer("conv1_conv").kernel.numpy())


def test_detector_preset_round_trip_and_subclass_loading(tmp_path):
    model = _detector()
    model.save_to_preset(tmp_path / "det")
    loaded = models.MaskRCNN.from_preset(tmp_path / "det")
    expected = model.predict(IMAGES[:1], verbose=0)
    match_detections(expected, loaded.predict(IMAGES[:1], verbose=0), tolerance=1e-5, top=20)
    # A Mask R-CNN is a Faster R-CNN (keras-hub loads a task's subclasses likewise).
    assert type(models.FasterRCNN.from_preset(tmp_path / "det")) is models.MaskRCNN
    tuned = models.MaskRCNN.from_preset(tmp_path / "det", score_threshold=0.3)
    assert tuned.score_threshold == 0.3
    with pytest.raises(ValueError, match=r"Expected keyword arguments among the settings of "
                                         r"the preset's MaskRCNN .* Received: no_such"):
        models.MaskRCNN.from_preset(tmp_path / "det", no_such=1)


def test_another_tasks_preset_is_refused_in_one_line(tmp_path):
    _detector(models.FasterRCNN).save_to_preset(tmp_path / "faster")
    _classifier().save_to_preset(tmp_path / "clf")
    for cls, path, other in ((models.MaskRCNN, "faster", "FasterRCNN"),
                             (models.FasterRCNN, "clf", "ImageClassifier"),
                             (models.ImageClassifier, "faster", "FasterRCNN")):
        with pytest.raises(ValueError) as caught:
            cls.from_preset(tmp_path / path)
        assert str(caught.value) == (
            f"Expected a preset of {cls.__name__}. Received: {tmp_path / path} holds a preset "
            f"of {other} (models.{other}.from_preset loads it)")


def test_bfloat16_policy_builds_what_the_global_policy_builds(tmp_path):
    _detector().save_to_preset(tmp_path / "det")
    loaded = models.MaskRCNN.from_preset(tmp_path / "det", dtype_policy="mixed_bfloat16")
    with presets_policy("mixed_bfloat16"):
        fresh = _detector()

    def policies(model):  # of every layer by kind (auto-named tops and part order differ)
        return sorted((type(layer).__name__, layer.dtype_policy.name)
                      for layer in model._flatten_layers()
                      if not isinstance(layer, keras.layers.InputLayer))

    assert policies(loaded) == policies(fresh)
    assert loaded.backbone.fpn.dtype_policy.name == "mixed_bfloat16"
    assert loaded.backbone.body.get_layer("conv1_conv").kernel.dtype == "float32"
    out = loaded.predict(IMAGES[:1], verbose=0)
    assert out["boxes"].dtype == np.float32 and out["masks"].dtype == np.float32


class presets_policy:  # noqa: N801  (a context manager read like a statement)
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.name)

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.previous)


def _edit_metadata(path, **changes):
    metadata = json.loads((path / "metadata.json").read_text())
    (path / "metadata.json").write_text(json.dumps({**metadata, **changes}))


def test_bad_presets_are_one_line_errors(tmp_path):
    good = tmp_path / "good"
    _classifier().save_to_preset(good)
    newer = tmp_path / "newer"
    _classifier().save_to_preset(newer)
    _edit_metadata(newer, keras_zoo_version="99.0.0")
    with pytest.raises(ValueError, match=r"Expected a preset of keras_zoo 0\.1\.0 or older\. "
                                         r"Received: .*newer was written by keras_zoo 99\.0\.0"):
        models.ImageClassifier.from_preset(newer)
    weights = good / "model.weights.h5"
    data = weights.read_bytes()
    weights.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"Expected .*good/model.weights.h5 to hold the weights "
                                         r"of the preset's ImageClassifier. Received: a file "
                                         r"that does not load into it \(OSError"):
        models.ImageClassifier.from_preset(good)
    models.ImageClassifier(models.ResNetBackbone((1, 1), (4, 8), stem="cifar"), 5).save_weights(
        weights)  # another network's weights, complete
    with pytest.raises(ValueError, match=r"to hold the weights of the preset's ImageClassifier"):
        models.ImageClassifier.from_preset(good)
    weights.unlink()
    with pytest.raises(FileNotFoundError, match=r"Expected .*good/model.weights.h5 \(the "
                                                r"preset's weights\). Received: no such file"):
        models.ImageClassifier.from_preset(good)
    (good / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"config.json to be a keras_zoo preset's model config "
                                         r"\(JSON\)"):
        models.ImageClassifier.from_preset(good)
    with pytest.raises(FileNotFoundError, match=r"Received: 'mask_rcnn_resnet50_fpn_v2_coco', "
                       r"which keras_zoo never downloads: download https://download.pytorch.org/"
                       r"models/maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth and run: keras-zoo "
                       r"convert torchvision maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth --out "
                       r"mask_rcnn_resnet50_fpn_v2_coco$"):
        models.MaskRCNN.from_preset("mask_rcnn_resnet50_fpn_v2_coco")
    with pytest.raises(FileNotFoundError, match=r"Expected a preset directory .* or a known "
                                                r"preset name. Received: 'nowhere' does not"):
        models.MaskRCNN.from_preset("nowhere")


def test_writing_is_atomic_and_refuses_an_existing_directory(tmp_path):
    model = _classifier()
    model.save_to_preset(tmp_path / "p")
    with pytest.raises(ValueError, match=r"Expected a new preset directory \(or --overwrite\)"):
        model.save_to_preset(tmp_path / "p")

    def refuse(tmp):
        assert sorted(os.listdir(tmp)) == ["config.json", "metadata.json", "model.weights.h5"]
        raise ValueError("probe differs")

    with pytest.raises(ValueError, match="probe differs"):
        presets.save_preset(_detector(), tmp_path / "p", overwrite=True, check=refuse)
    assert sorted(os.listdir(tmp_path)) == ["p"]  # the old preset kept, no temporary left
    assert presets.load_metadata(tmp_path / "p")["class_name"] == "keras_zoo>ImageClassifier"
    _detector().save_to_preset(tmp_path / "p", overwrite=True)
    assert type(presets.load_preset(tmp_path / "p")) is models.MaskRCNN
    assert sorted(os.listdir(tmp_path)) == ["p"]
