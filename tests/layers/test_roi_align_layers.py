"""RoIAlign / MultiLevelRoIAlign layers: harness (config, .keras round trip),
equality with the ops, FPN level assignment against a NumPy reference, and a
TFLite conversion with builtin ops only run by the LiteRT interpreter. Levels are
integers, compared exactly; pooled values with a stated tolerance."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import layers, ops
from tests.harness import run_layer_test


def _pyramid(rng, levels=(2, 3, 4, 5), image=256, channels=3):
    return {f"P{k}": rng.standard_normal((2, image >> k, image >> k, channels)).astype(np.float32)
            for k in levels}


def _boxes(rng, n, image=256):
    centre = rng.uniform(0, image, (n, 2))
    size = np.exp(rng.uniform(np.log(4), np.log(2 * image), (n, 2)))
    boxes = np.concatenate([centre - size / 2, centre + size / 2], 1)
    boxes[0] = [10, 10, 10, 10]  # no area -> lowest level
    boxes[1] = [0, 0, 224, 224]  # exactly canonical -> level 4 (the eps)
    boxes[2] = [0, 0, 112, 112]  # exactly half -> level 3
    return boxes.astype(np.float32)


@pytest.mark.parametrize("init_kwargs", [
    dict(output_size=(3, 2), spatial_scale=0.5, sampling_ratio=0, aligned=False,
         implementation="gather", use_roi_align=True),
    dict(output_size=2, spatial_scale=0.25, sampling_ratio=1, aligned=True,
         implementation="crop_and_resize", use_roi_align=False),
])
def test_roi_align_layer_harness_and_equals_op(init_kwargs, tmp_path):
    rng = np.random.default_rng(0)
    features = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    boxes = rng.uniform(0, 24, (5, 4)).astype(np.float32)
    boxes[:, 2:] += boxes[:, :2]
    box_indices = np.array([0, 1, 1, 0, 1], np.int32)
    out_h, out_w = (init_kwargs["output_size"],) * 2 if isinstance(
        init_kwargs["output_size"], int) else init_kwargs["output_size"]
    out = run_layer_test(layers.RoIAlign, init_kwargs, [features, boxes, box_indices], tmp_path,
                         expected_output_shape=(5, out_h, out_w, 3))
    if init_kwargs["use_roi_align"]:
        expected = ops.roi_align(features, boxes, box_indices, init_kwargs["output_size"],
                                 spatial_scale=0.5, sampling_ratio=0, aligned=False)
    else:
        expected = ops.roi_pool(features, boxes, box_indices, 2, spatial_scale=0.25)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    as_dict = layers.RoIAlign(**init_kwargs)(
        {"features": features, "boxes": boxes, "box_indices": box_indices})
    # The same op on the same inputs again: TF does not promise bitwise equal reruns;
    # bins are float32 sums of <= 4 * grid^2 terms of N(0, 1) values: 4 ulps of the scale.
    np.testing.assert_allclose(as_dict, out, rtol=0,
                               atol=4 * np.finfo(np.float32).eps * np.abs(out).max())


def _levels_reference(boxes, k_min, k_max):
    """torchvision LevelMapper, from its definition (FPN Eq. 1 + eps 1e-6)."""
    levels = []
    for x1, y1, x2, y2 in boxes.astype(np.float64):
        area = (x2 - x1) * (y2 - y1)
        k = math.floor(4 + math.log2(math.sqrt(area) / 224) + 1e-6) if area > 0 else k_min
        levels.append(min(max(k, k_min), k_max))
    return np.array(levels)


def test_fpn_level_assignment_matches_reference():
    from keras_zoo.ops.levels import assign_fpn_levels

    boxes = _boxes(np.random.default_rng(1), 200)
    for k_min, k_max in ((2, 5), (3, 4)):
        expected = _levels_reference(boxes, k_min, k_max)
        np.testing.assert_array_equal(assign_fpn_levels(boxes, k_min, k_max), expected)
    assert list(_levels_reference(boxes[:3], 2, 5)) == [2, 4, 3]
    assert len(set(_levels_reference(boxes, 2, 5))) == 4  # every level gets boxes


@pytest.mark.parametrize("implementation", ["crop_and_resize", "gather"])
def test_multi_level_pools_each_box_on_its_level_in_input_order(implementation, tmp_path):
    rng = np.random.default_rng(2)
    pyramid, boxes = _pyramid(rng), _boxes(rng, 24)
    box_indices = rng.integers(0, 2, len(boxes)).astype(np.int32)
    init_kwargs = dict(output_size=(4, 3), sampling_ratio=2, aligned=True, canonical_level=4,
                       canonical_size=224, implementation=implementation)
    out = run_layer_test(layers.MultiLevelRoIAlign, init_kwargs, [pyramid, boxes, box_indices],
                         tmp_path, expected_output_shape=(24, 4, 3, 3))
    levels = _levels_reference(boxes, 2, 5)
    for i, (box, n, k) in enumerate(zip(boxes, box_indices, levels)):
        expected = ops.roi_align(pyramid[f"P{k}"], box[None], [n], (4, 3),
                                 spatial_scale=2.0**-k)
        np.testing.assert_allclose(out[i], expected[0], atol=1e-5)


def test_multi_level_gradient_and_bad_inputs():
    rng = np.random.default_rng(3)
    pyramid = {k: tf.constant(v) for k, v in _pyramid(rng, levels=(3, 4)).items()}
    boxes = _boxes(rng, 6)
    layer = layers.MultiLevelRoIAlign(2)
    with tf.GradientTape() as tape:
        tape.watch(pyramid)
        loss = tf.reduce_sum(layer([pyramid, boxes, np.zeros(6, np.int32)]))
    grads = tape.gradient(loss, pyramid)
    assert all(float(tf.reduce_sum(g)) > 0 for g in grads.values())
    with pytest.raises(ValueError, match="P<k>"):
        layer([{"C2": pyramid["P3"]}, boxes, np.zeros(6, np.int32)])
    with pytest.raises(ValueError, match="features, boxes, box_indices"):
        layer([pyramid, boxes])
    with pytest.raises(ValueError, match="implementation"):
        layers.RoIAlign(7, implementation="flex")


def test_tflite_conversion_with_builtin_ops_only():
    """A model with RoIAlign(implementation="gather") converts with TFLITE_BUILTINS
    only (no Flex delegate) and the LiteRT interpreter matches Keras within 1e-5."""
    from ai_edge_litert.interpreter import Interpreter

    rng = np.random.default_rng(4)
    features = rng.standard_normal((1, 12, 12, 4)).astype(np.float32)
    boxes = np.array([[2, 3, 30, 20], [-4, -4, 8, 10], [40, 40, 60, 60], [5, 5, 5, 5]],
                     np.float32)
    box_indices = np.zeros(4, np.int32)
    f_in = keras.Input(batch_shape=(1, 12, 12, 4), name="features")
    b_in = keras.Input(batch_shape=(4, 4), name="boxes")
    i_in = keras.Input(batch_shape=(4,), dtype="int32", name="box_indices")
    pooled = layers.RoIAlign(3, spatial_scale=0.25, implementation="gather")([f_in, b_in, i_in])
    model = keras.Model([f_in, b_in, i_in], keras.layers.Dense(2)(pooled))
    expected = model([features, boxes, box_indices]).numpy()

    serve = tf.function(lambda f, b, i: model([f, b, i]), input_signature=[
        tf.TensorSpec((1, 12, 12, 4), tf.float32), tf.TensorSpec((4, 4), tf.float32),
        tf.TensorSpec((4,), tf.int32)])
    # No trackable object: the weights are frozen as constants (passing `model` here
    # gives garbage outputs from LiteRT 2.3 with a Dense layer in the model).
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()  # keep a reference: the interpreter reads it in place
    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    by_shape = {(1, 12, 12, 4): features, (4, 4): boxes, (4,): box_indices}
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], by_shape[tuple(detail["shape"])])
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_multi_level_tflite_conversion_with_builtin_ops_only():
    """MultiLevelRoIAlign(implementation="gather") converts with builtin ops only and
    runs in LiteRT (default XNNPACK delegate) even when a level gets no box."""
    from ai_edge_litert.interpreter import Interpreter

    rng = np.random.default_rng(5)
    pyramid = _pyramid(rng, channels=4)
    pyramid = {k: v[:1] for k, v in pyramid.items()}
    boxes = np.array([[0, 0, 30, 30], [10, 10, 200, 220], [5, 5, 90, 100], [3, 3, 3, 3]],
                     np.float32)  # levels 2, 3, 2, 2: P4 and P5 get no box
    box_indices = np.zeros(4, np.int32)
    layer = layers.MultiLevelRoIAlign(3, implementation="gather")
    expected = layer([pyramid, boxes, box_indices]).numpy()
    names = sorted(pyramid)
    specs = [tf.TensorSpec(pyramid[k].shape, tf.float32) for k in names]
    specs += [tf.TensorSpec((4, 4), tf.float32), tf.TensorSpec((4,), tf.int32)]
    serve = tf.function(lambda *args: layer([dict(zip(names, args[:4])), args[4], args[5]]),
                        input_signature=specs)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flatbuffer = converter.convert()
    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    values = [pyramid[k] for k in names] + [boxes, box_indices]
    for detail, value in zip(sorted(interpreter.get_input_details(),
                                    key=lambda d: d["index"]), values):
        assert tuple(detail["shape"]) == value.shape
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_multi_level_roi_pool_equals_the_op_on_each_level(tmp_path):
    rng = np.random.default_rng(3)
    pyramid = _pyramid(rng)
    boxes = _boxes(rng, 12)
    box_indices = rng.integers(0, 2, 12).astype(np.int32)
    out = run_layer_test(layers.MultiLevelRoIAlign, dict(output_size=3, use_roi_align=False),
                         [pyramid, boxes, box_indices], tmp_path,
                         expected_output_shape=(12, 3, 3, 3))
    from keras_zoo.layers.multi_level_roi_align import assign_fpn_levels

    levels = assign_fpn_levels(boxes, 2, 5).numpy()
    for i, level in enumerate(levels):
        expected = ops.roi_pool(pyramid[f"P{level}"], boxes[i:i + 1], box_indices[i:i + 1], 3,
                                spatial_scale=2.0 ** -level)
        np.testing.assert_allclose(out[i:i + 1], expected, atol=0)
