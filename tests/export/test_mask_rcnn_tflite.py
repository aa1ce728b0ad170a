"""Mask R-CNN as TFLite: a fixed input size, builtin ops only (RoIAlign's gather
implementation, NMS from builtin ops), float32 / float16 / dynamic-range, run in
LiteRT and matched against the Keras model on the same images."""

import os

import numpy as np
import pytest

from keras_zoo.export import to_tflite
from keras_zoo.export.detections import match_detections
from keras_zoo.export.tflite import flex_ops, operators, run_tflite

pytest.importorskip("ai_edge_litert")
# The tests build no Keras objects (the trained model is the session's, conftest.py):
# no clear_session() after each.
pytestmark = pytest.mark.no_keras_state

MODES = (None, "float16", "dynamic")
INPUT_SIZE = (64, 64)
# Score (and mean mask-probability) differences allowed for the `TOP` detections of
# each image, whose boxes must overlap with IoU >= 0.98: float32 is the 1e-4
# (the same float32 graph, RoIAlign's gather and crop_and_resize sum the same
# bilinear terms in another order); float16 weights carry 2^-11 relative rounding
# through ~10 layers: 5e-3; dynamic range stores weights in 8 bits (1/254 of each
# channel's range) and quantises activations on the fly: 5e-2.
SCORE_TOLERANCES = {None: 1e-4, "float16": 5e-3, "dynamic": 5e-2}
# Detections per image matched: 8-bit weights move weaker detections' boxes by more than
# IoU 0.98 allows (0.94 seen for a 0.26-score one); the best detection must match.
TOP = {None: 3, "float16": 3, "dynamic": 1}


@pytest.fixture(scope="module")
def converted(trained_mask_rcnn, tmp_path_factory):
    """`(model, images, {mode: .tflite path})`, each converted once and verified."""
    model, images = trained_mask_rcnn
    directory = tmp_path_factory.mktemp("tflite")
    paths = {mode: to_tflite(model, directory / f"{mode or 'float32'}.tflite",
                             input_size=INPUT_SIZE, quantize=mode, sample_inputs=images)
             for mode in MODES}
    return model, images, paths


def test_builtin_ops_only(converted):
    from ai_edge_litert import schema_py_generated as schema

    builtin = set(vars(schema.BuiltinOperator))
    for path in converted[2].values():
        ops = operators(path)
        assert flex_ops(path) == [] and set(ops) <= builtin, set(ops) - builtin
        assert "GATHER_ND" in ops or "GATHER" in ops  # RoIAlign's gather implementation


def test_fixed_input_size_and_outputs(converted):
    from ai_edge_litert.interpreter import Interpreter

    model, _, paths = converted
    runner = Interpreter(model_path=paths[None]).get_signature_runner()
    (name, spec), = runner.get_input_details().items()
    assert name == "images" and list(spec["shape_signature"][1:]) == [*INPUT_SIZE, 3]
    assert sorted(runner.get_output_details()) == ["boxes", "classes", "masks",
                                                   "num_detections", "scores"]
    sizes = {mode: os.path.getsize(path) for mode, path in paths.items()}
    weights = sum(w.numpy().nbytes for w in model.weights)
    # the graph (anchors, NMS loop) outweighs the tiny model's weights: only they shrink
    assert sizes["dynamic"] < sizes["float16"] < sizes[None] and sizes[None] > weights


@pytest.mark.parametrize("mode", MODES)
def test_litert_matches_keras(converted, mode):
    model, images, paths = converted
    expected = {k: np.asarray(v) for k, v in model(images).items()}
    got = run_tflite(paths[mode], {"images": images})
    assert got["classes"].dtype == np.int32 and got["boxes"].shape == expected["boxes"].shape
    result = match_detections(expected, got, tolerance=SCORE_TOLERANCES[mode], top=TOP[mode])
    assert result["compared"] >= 2 * len(images)  # each image has a detection, both ways
    assert result["min_iou"] >= 0.98 and result["score"] <= SCORE_TOLERANCES[mode]


def test_a_detector_needs_an_input_size(converted, tmp_path):
    with pytest.raises(ValueError, match=r"Expected input_size=\(height, width\)"):
        to_tflite(converted[0], tmp_path / "m.tflite")
    assert os.listdir(tmp_path) == []
