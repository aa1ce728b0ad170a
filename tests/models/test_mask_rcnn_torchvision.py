"""from_torchvision against torchvision itself (random weights, nothing downloaded), for
maskrcnn_resnet50_fpn and maskrcnn_resnet50_fpn_v2 (MaskRCNN), fasterrcnn_resnet50_fpn
and fasterrcnn_resnet50_fpn_v2 (FasterRCNN).

A subprocess (plain python, torch only) builds torchvision's detector (weights=None)
seeded, on a 240x320 image resized to 320x426 (min_size 320, max_size 448: the same
code paths as 800/1333, ~8x fewer pixels), and writes its state dict and outputs
(tests/models/torchvision_mask_rcnn.py). We convert the state dict with the same
converter and compare every stage and the end-to-end detections.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import models, ops
from keras_zoo.models.mask_rcnn.detector_inputs import preprocess
from keras_zoo.models.preset import rebuild_with_policy
from keras_zoo.train import directory_lock

pytestmark = pytest.mark.large
SCRIPT = os.path.join(os.path.dirname(__file__), "torchvision_mask_rcnn.py")
MIN_SIZE, MAX_SIZE = 320, 448
# Float32 stage tolerance, relative to the largest magnitude of the reference output:
# ~50 layers of sums over up to 3x3x512 products (eps 1.2e-7, errors growing ~sqrt(depth *
# fan-in)) and two libraries with different summation orders give ~2e-5 of the range;
# 1e-4 leaves a 5x margin.
STAGE_RTOL = 1e-4
# v2 normalises after every FPN and head convolution with statistics measured on this very
# image, dividing each channel by its own (sometimes small) deviation: the absolute error of
# the 53 body layers is scaled up channel by channel (measured: up to 1.0e-4 of the range at
# P5 and the RPN logits, against 2e-5 in v1). The linear bound over ~60 layers, eps *
# sqrt(fan-in 4608) * 60 = 5e-4, is the ceiling; 3e-4 sits between it and what we see.
STAGE_RTOL_V2 = 3e-4
# torchvision's parameter counts with weights_backbone=None (BN statistics are buffers
# there, excluded): v1 then has trainable BN affine weights in the body (53,120; its docs
# list 44,401,393 and 41,755,286 for the frozen-BN builds); v2 always has BatchNorm2d,
# and its docs list these very counts.
ARCHITECTURES = {"maskrcnn_resnet50_fpn": (models.MaskRCNN, 44_454_513),
                 "fasterrcnn_resnet50_fpn": (models.FasterRCNN, 41_808_406),
                 "maskrcnn_resnet50_fpn_v2": (models.MaskRCNN, 46_359_409),
                 "fasterrcnn_resnet50_fpn_v2": (models.FasterRCNN, 43_712_278)}


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def reference(request, tmp_path_factory):
    if importlib.util.find_spec("torchvision") is None:  # never import it after TensorFlow
        pytest.skip("torchvision is in the test extra")
    folder = tmp_path_factory.mktemp("torchvision")
    out, pth = folder / "reference.npz", folder / "reference.pth"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, SCRIPT, str(out), "--min-size", str(MIN_SIZE),
                    "--max-size", str(MAX_SIZE), "--pth", str(pth), "--architecture",
                    request.param], check=True, env=env, timeout=600)
    ref = dict(np.load(out))
    ref["pth"], ref["architecture"] = str(pth), request.param
    model = models.mask_rcnn.from_torchvision(_state_dict(ref), min_size=MIN_SIZE,
                                              max_size=MAX_SIZE)
    return ref, model


def _state_dict(ref):
    return {k[3:]: v for k, v in ref.items() if k.startswith("sd/")}


def _masks(ref):
    return "mask_logits" in ref


def assert_stage_close(ours, theirs, architecture):
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape
    rtol = STAGE_RTOL_V2 if architecture.endswith("_v2") else STAGE_RTOL
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=rtol * np.abs(theirs).max())


def test_the_converter_builds_the_architecture_with_torchvisions_count(reference):
    ref, model = reference
    task, count = ARCHITECTURES[ref["architecture"]]
    assert type(model) is task
    counted = sum(int(np.prod(w.shape)) for w in model.weights
                  if "moving_" not in w.path)  # BN statistics are buffers in torch
    assert counted == int(ref["num_parameters"]) == count


def test_preprocessing_matches_transform(reference):
    ref, model = reference
    images, _, sizes = preprocess(model, tf.constant(ref["image"][None]))
    np.testing.assert_array_equal(sizes.numpy(), ref["image_sizes"])
    # bilinear resampling of values in [-2.2, 2.7]: float32 rounding only
    np.testing.assert_allclose(images.numpy(), ref["transformed"], rtol=0, atol=1e-5)


def test_stages_match(reference):
    ref, model = reference
    arch = str(ref["architecture"])
    pyramid = model.backbone(tf.constant(ref["transformed"]))
    for level in ("P2", "P3", "P4", "P5", "P6"):
        assert_stage_close(pyramid[level], ref[level], arch)
    objectness, _ = model.rpn_head(pyramid)
    for k, logits in zip(range(2, 7), objectness):
        assert_stage_close(logits, ref[f"objectness{k}"], arch)
    pooled = model.box_roi_pool([pyramid, ref["proposals"], np.zeros(len(ref["proposals"]))])
    logits, deltas = model.box_predictor(model.box_head(pooled))
    assert_stage_close(logits, ref["box_logits"], arch)
    assert_stage_close(tf.reshape(deltas, [-1, 4 * model.num_classes]),
                       ref["box_regression"], arch)
    if _masks(ref):
        pooled = model.mask_roi_pool([pyramid, ref["mask_boxes"],
                                      np.zeros(len(ref["mask_boxes"]))])
        mask_logits = model.mask_predictor(model.mask_head(pooled))
        assert_stage_close(mask_logits, ref["mask_logits"], arch)


def test_end_to_end_same_detections(reference):
    ref, model = reference
    out = model.predict(ref["image"][None], verbose=0)
    count = int(out["num_detections"][0])
    assert count == len(ref["scores"]) == 100
    boxes, scores, classes = out["boxes"][0], out["scores"][0], out["classes"][0]
    iou = ops.boxes.pairwise_iou(ref["boxes"][:20], boxes).numpy()
    for i in range(20):  # torchvision's top 20, each found among ours
        j = int(np.argmax(np.where(classes == ref["labels"][i], iou[i], -1.0)))
        assert classes[j] == ref["labels"][i]
        assert iou[i, j] >= 0.98
        assert abs(scores[j] - ref["scores"][i]) <= 1e-3
        if not _masks(ref):
            continue
        # torchvision's pasting rules (box rounded to whole pixels): the 28x28 masks agree
        # to float rounding, but detectron2's pasting moves small masks by up to a pixel.
        pasted = ops.masks.paste_masks(out["masks"][0][j:j + 1], boxes[j:j + 1],
                                       ref["image"].shape[:2], convention="torchvision")
        pasted = pasted.numpy()[0]
        theirs = ref["masks"][i] >= 0.5
        union = np.logical_or(pasted, theirs).sum()
        assert union == 0 or np.logical_and(pasted, theirs).sum() / union >= 0.9


def test_num_classes_replaces_the_predictors_and_keeps_every_other_weight(reference):
    ref, _ = reference
    state = _state_dict(ref)
    model = models.mask_rcnn.from_torchvision(state, num_classes=5, min_size=MIN_SIZE,
                                              max_size=MAX_SIZE)
    assert model.num_classes == 5
    assert model.box_predictor.classifier.kernel.shape == (1024, 5)
    np.testing.assert_array_equal(model.rpn_head.convs[0].kernel.numpy(),
                                  state["rpn.head.conv.0.0.weight"].transpose(2, 3, 1, 0))
    if _masks(ref):
        assert model.mask_predictor.logits.kernel.shape == (1, 1, 256, 5)
        np.testing.assert_array_equal(
            model.mask_predictor.upsample.kernel.numpy(),
            state["roi_heads.mask_predictor.conv5_mask.weight"].transpose(2, 3, 1, 0))


def test_a_pth_path_loads_the_same_weights(reference):
    ref, model = reference
    loaded = models.mask_rcnn.from_torchvision(ref["pth"], min_size=MIN_SIZE, max_size=MAX_SIZE)
    for a, b in zip(model.weights, loaded.weights):  # copied, not computed: exact
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_bad_state_dicts(tmp_path):
    with pytest.raises(ValueError, match="without 'backbone.body.conv1.weight'"):
        models.mask_rcnn.from_torchvision({"roi_heads.box_predictor.cls_score.weight":
                                           np.zeros((3, 1024))})
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        models.mask_rcnn.from_torchvision(str(tmp_path / "missing.pth"))
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(b"PK\x03\x04" + bytes(100))  # the start of a zip, cut short
    with pytest.raises(ValueError, match=r"Expected a torchvision checkpoint that torch.load "
                                         r"reads. Received: '.*truncated.pth' \("):
        models.mask_rcnn.from_torchvision(str(truncated))


def test_the_architecture_is_recognised_and_another_one_refused(reference):
    ref, _ = reference
    architecture, state = str(ref["architecture"]), _state_dict(ref)
    assert models.mask_rcnn.detect_architecture(state) == architecture
    other = next(name for name in ARCHITECTURES if name != architecture)
    with pytest.raises(ValueError) as caught:
        models.mask_rcnn.from_torchvision(state, architecture=other)
    assert str(caught.value) == (f"Expected a torchvision {other} state dict. Received: the "
                                 f"state dict holds {architecture}'s weights")


def test_our_coco_names_are_torchvisions(reference):
    from keras_zoo.train.datasets.coco_categories import coco_index_categories

    ref, _ = reference
    ours = [category["name"] for category in coco_index_categories()]
    assert ["__background__", *ours] == list(ref["categories"])


def _trained_like_copy(model):
    """A copy of the converted detector made as stable as trained ones: random deep nets
    amplify any perturbation block after block (bfloat16 rounding grows from 0.4% at the
    stem to 45% at C5 here), trained ResNets do not, their residual branches being small.
    Each block's last BN is scaled by 0.1 (what zero-initialised residuals start near),
    and the classifier by 4 so that the top scores stand apart."""
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    with tempfile.TemporaryDirectory() as scratch:  # by the file's structure, not by order
        model.save_weights(os.path.join(scratch, "m.weights.h5"))
        copy.load_weights(os.path.join(scratch, "m.weights.h5"))
    for layer in copy.backbone.body.layers:
        if "_block" in layer.name:
            gamma, beta, *stats = layer.bns[-1].get_weights()
            layer.bns[-1].set_weights([0.1 * gamma, 0.1 * beta, *stats])
    kernel, bias = copy.box_predictor.classifier.get_weights()
    copy.box_predictor.classifier.set_weights([4 * kernel, bias])
    return copy


# bfloat16 keeps 8 significant bits: each rounding is within 2^-8 = 0.4% (measured on the
# stable copy: 0.5-0.8% RMS at C2..C5). Class logits of magnitude up to ~5 then move by
# ~0.4% x sqrt(60 layers) x 5 = 0.15 at most, and a softmax score by at most a quarter of
# that: 0.04; boxes move by a fraction of a percent of their size (IoU >= 0.98).
BFLOAT16_SCORE_TOLERANCE = 0.04
BFLOAT16_TOP = 10


def test_bfloat16_detections_match_float32(reference):
    ref, model = reference
    if not _masks(ref):
        pytest.skip("bfloat16 inference is checked on the Mask R-CNNs (the Faster R-CNNs' "
                    "random box heads leave near-tied overlapping boxes among their top 10)")
    full = _trained_like_copy(model)
    half = rebuild_with_policy(full, "mixed_bfloat16")
    assert half.backbone.body.get_layer("conv1_conv").compute_dtype == "bfloat16"
    ours, theirs = (m.predict(ref["image"][None], verbose=0) for m in (full, half))
    iou = ops.boxes.pairwise_iou(ours["boxes"][0][:BFLOAT16_TOP], theirs["boxes"][0]).numpy()
    for i in range(BFLOAT16_TOP):  # float32's best, each found among bfloat16's
        same = theirs["classes"][0] == ours["classes"][0][i]
        j = int(np.argmax(np.where(same, iou[i], -1.0)))
        assert same[j] and iou[i, j] >= 0.98, (i, iou[i, j])
        assert abs(theirs["scores"][0][j] - ours["scores"][0][i]) <= BFLOAT16_SCORE_TOLERANCE


def test_convert_command_writes_a_verified_preset(reference, tmp_path, capsys):
    from PIL import Image

    from keras_zoo.train import cli
    from keras_zoo.train.datasets.coco_categories import COCO_CATEGORY_NAMES

    ref, model = reference
    if str(ref["architecture"]) != "maskrcnn_resnet50_fpn_v2":
        pytest.skip("the command is checked on one architecture; the others share its code")
    out = tmp_path / "preset"
    assert cli.main(["convert", "torchvision", ref["pth"], "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"Converted reference.pth (torchvision maskrcnn_resnet50_fpn_v2) into "
                        f"{out}: a MaskRCNN of 46,359,409 parameters (and 61,312 batch-norm "
                        f"statistics), 91 classes")
    assert lines[2].startswith("  verified: reloaded from the written files, its top 20")
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["categories"][0] == {"index": 1, "id": 1, "name": "person"}
    assert metadata["weights"]["architecture"] == "maskrcnn_resnet50_fpn_v2"
    assert "published" not in metadata["weights"]  # not torchvision's published file
    loaded = models.MaskRCNN.from_preset(out, min_size=MIN_SIZE, max_size=MAX_SIZE)
    ours, theirs = ({w.path: w for w in m.weights} for m in (model, loaded))
    assert len(ours) == len(model.weights) and sorted(ours) == sorted(theirs)
    for path, variable in ours.items():  # copied, not computed: exact
        np.testing.assert_array_equal(variable.numpy(), theirs[path].numpy())
    Image.fromarray(ref["image"]).save(tmp_path / "image.png")
    assert cli.main(["predict", str(out), str(tmp_path / "image.png"), "--out",
                     str(tmp_path / "pictures"), "--score-threshold", "0.3"]) == 0
    listing = json.loads((tmp_path / "pictures" / "detections.json").read_text())
    assert listing[0]["detections"]  # the random model's best scores 0.46 and 0.57
    for detection in listing[0]["detections"]:  # COCO's ids and names
        assert detection["category"] == COCO_CATEGORY_NAMES.get(detection["category_id"], "N/A")
    assert sorted(os.listdir(tmp_path / "pictures")) == [
        directory_lock.LOCK_NAME, "detections.json", "image.png"]
