"""Presets everywhere a run directory is accepted, as a user runs them (in process:
`cli.main`): ``keras-zoo predict PRESET``, ``evaluate PRESET --data-dir``, ``export PRESET``,
``train mask-rcnn --init PRESET`` (new class layers, the frozen stages as the preset has
them); ``--precision``; ``keras-zoo convert``'s refusals (one line, exit 2, nothing
written). A tiny detector preset whose classes are a small COCO-format dataset's."""

import json
import os

import numpy as np
import pytest

from keras_zoo import models
from keras_zoo.models.mask_rcnn import BoxHead, FeaturePyramid, FPNBackbone, MaskHead
from keras_zoo.train import cli, cpu
from tests.train import image_folder_files as files
from tests.train.coco_files import CATEGORIES, classify_everything_as, tiny_document, write_coco
from tests.train.run_helpers import one_line_error

pytestmark = pytest.mark.large

# The dataset's categories at the classifier's indices (sorted by id), as a run stores them.
STORED = [{"index": i + 1, "id": c["id"], "name": c["name"]}
          for i, c in enumerate(sorted(CATEGORIES, key=lambda c: c["id"]))]


def _detector(num_classes):
    # 16 channels: training a Mask R-CNN whose body has 4 or 8 crashes the process with a
    # corrupted heap on this TensorFlow (on main too); inference does not.
    body = models.ResNetBackbone((1, 1, 1, 1), (16, 16, 16, 16), normalization="none",
                                 freeze_at=2, name="body")
    backbone = FPNBackbone(body, FeaturePyramid(16, norm_layer="batch", name="fpn"),
                           name="backbone")
    return models.MaskRCNN(num_classes, backbone, min_size=64, max_size=64,
                           box_head=BoxHead((8,), (16,), norm_layer="batch", name="box_head"),
                           mask_head=MaskHead((8,), norm_layer="batch", name="mask_head"))


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """A detector preset that finds a "car" (index 1, COCO id 3) everywhere, and a COCO-format
    dataset with train and val splits of those categories."""
    root = tmp_path_factory.mktemp("presets")
    model = _detector(len(STORED) + 1)
    classify_everything_as(model, 1)
    model.save_to_preset(root / "det", metadata={"categories": STORED})
    for split in ("train", "val"):
        write_coco(root / "coco", tiny_document(), split)
    return root


def test_predict_a_preset_in_the_precision_asked_for(preset, tmp_path, capsys):
    images = sorted(str(p) for p in (preset / "coco" / "val").glob("*.png"))[:2]
    argv = ["predict", str(preset / "det"), *images, "--out", str(tmp_path / "pics")]
    assert cli.main([*argv, "--precision", "bfloat16"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("keras-zoo: inference in mixed_bfloat16 (--precision bfloat16")  # policy
    listing = json.loads((tmp_path / "pics" / "detections.json").read_text())
    found = {(d["category_id"], d["category"]) for e in listing for d in e["detections"]}
    assert found == {(3, "car")}
    assert cli.main([*argv, "--overwrite", "--precision", "auto"]) == 0
    line = capsys.readouterr().err.strip()
    policy = "mixed_bfloat16" if cpu.has_fast_bfloat16() else "float32"
    assert line.startswith(f"keras-zoo: inference in {policy} (") and "\n" not in line
    assert sorted(os.listdir(preset / "det")) == ["config.json", "metadata.json",
                                                  "model.weights.h5"]  # nothing written there


def test_evaluate_a_preset_on_a_coco_folder(preset, capsys):
    argv = ["evaluate", str(preset / "det"), "--data-dir", str(preset / "coco"), "--split",
            "val", "--precision", "float32"]
    assert cli.main(argv) == 0
    out = capsys.readouterr()
    assert out.err == ""  # float32 asked for: nothing to say
    lines = out.out.splitlines()
    assert "COCO val: bbox" in lines and "COCO val: segm" in lines
    assert lines[lines.index("COCO val: bbox") + 1].startswith(" Average Precision  (AP)")


def test_export_a_preset_as_a_saved_model(preset, tmp_path, capsys):
    argv = ["export", str(preset / "det"), "--format", "saved_model", "--out",
            str(tmp_path / "serving")]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip() == (
        f"Exported saved_model: {tmp_path / 'serving' / '1'}")
    assert "Expected a run for --quantize int8" in one_line_error(
        capsys, ["export", str(preset / "det"), "--format", "tflite", "--quantize", "int8"])


def test_fine_tune_from_a_preset_with_new_class_layers(preset, tmp_path):
    source = preset / "tuned-source"
    if not source.exists():
        _detector(7).save_to_preset(source)  # 6 classes: not the dataset's 3
    coco = preset / "coco"
    argv = ["train", "mask-rcnn", "--dataset", "coco", "--tiny", "--out", str(tmp_path / "run"),
            "--train-annotations", coco / "annotations" / "instances_train.json",
            "--train-images", coco / "train", "--val-annotations",
            coco / "annotations" / "instances_val.json", "--val-images", coco / "val",
            "--set", "pictures=0", "--init", source]
    assert cli.main(argv) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["init"] == ["preset", str(source)]
    from keras_zoo.train.run_dir import load_checkpoint

    tuned, original = load_checkpoint(str(tmp_path / "run")), models.MaskRCNN.from_preset(source)
    assert tuned.num_classes == 4 and tuned.mask_predictor.num_classes == 4
    np.testing.assert_array_equal(  # the stem is frozen (freeze_at=2): as the preset has it
        tuned.backbone.body.get_layer("conv1_conv").kernel.numpy(),
        original.backbone.body.get_layer("conv1_conv").kernel.numpy())


def test_convert_refuses_in_one_line_and_writes_nothing(preset, tmp_path, capsys):
    out = tmp_path / "out"
    assert "Expected --out to be a new directory (or --overwrite). Received: " in one_line_error(
        capsys, ["convert", "torchvision", "x.pth", "--out", str(preset / "det")])
    assert "Expected a torchvision weights file. Received: 'missing.pth' does not exist" in (
        one_line_error(capsys, ["convert", "torchvision", "missing.pth", "--out", str(out)]))
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(b"PK\x03\x04" + bytes(64))
    assert "Expected a torchvision checkpoint that torch.load reads. Received: " in (
        one_line_error(capsys, ["convert", "torchvision", str(truncated), "--out", str(out)]))
    not_resnet = tmp_path / "other.h5"
    models.ResNetBackbone((1, 1), (4, 8), stem="cifar").save_weights(
        tmp_path / "other.weights.h5")
    os.rename(tmp_path / "other.weights.h5", not_resnet)
    assert "Expected keras.applications ResNet50, ResNet101 or ResNet152 weights" in (
        one_line_error(capsys, ["convert", "keras-applications", str(not_resnet), "--out",
                                str(out)]))
    assert "Expected --num-classes only for torchvision detectors" in one_line_error(
        capsys, ["convert", "keras-applications", str(not_resnet), "--out", str(out),
                 "--num-classes", "3"])
    assert not out.exists() and sorted(os.listdir(tmp_path)) == ["other.h5", "truncated.pth"]


def test_evaluate_a_classifier_preset_on_a_folder(tmp_path, capsys):
    """A classifier preset evaluates on a folder of its classes (the held-out test share),
    at its input size; in bfloat16 by TensorFlow's oneDNN rewrite (classifiers' faster way)."""
    body = models.ResNetBackbone((1, 1), (16, 16), stem="cifar", input_shape=(32, 32, 3))
    models.ImageClassifier(body, 3).save_to_preset(tmp_path / "clf")
    files.write_class_tree(tmp_path / "photos", {"apple": 10, "pear": 10, "plum": 10})
    argv = ["evaluate", str(tmp_path / "clf"), "--data-dir", str(tmp_path / "photos")]
    assert cli.main([*argv, "--precision", "bfloat16"]) == 0
    out = capsys.readouterr()
    assert out.err.splitlines()[0].startswith(
        "keras-zoo: inference in bfloat16 by TensorFlow's oneDNN rewrite of the float32 graph "
        "(--precision bfloat16")
    assert "test images: 3, the central crop of each (0 skipped)" in out.out.splitlines()
    import tensorflow as tf  # the process-wide rewrite is off again for whatever runs next

    assert not tf.config.optimizer.get_experimental_options().get(
        "auto_mixed_precision_onednn_bfloat16", False)
