"""ops.anchors against hand-computed anchors and a NumPy reference of torchvision's convention.

Anchors are integers (rounded half-extents on integer centres), exact in float32 on
any CPU: they are compared exactly."""

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import anchors as A

pytestmark = pytest.mark.no_keras_state  # pure TF ops: see tests/conftest.py


def np_fpn_anchors(height, width, sizes, strides, ratios):
    """From the definition: h = s sqrt(r), w = s / sqrt(r), rounded half-extents,
    centred on (j * stride, i * stride), ordered level, row, column, ratio."""
    out = []
    for size, stride in zip(sizes, strides):
        fh, fw = -(-height // stride), -(-width // stride)
        cell = []
        for r in ratios:
            w, h = size / np.sqrt(r), size * np.sqrt(r)
            cell.append(np.round(np.array([-w, -h, w, h]) / 2))
        for i in range(fh):
            for j in range(fw):
                for c in cell:
                    out.append(c + [j * stride, i * stride, j * stride, i * stride])
    return np.array(out, np.float32)


def test_cell_anchors_hand_computed():
    # ratio 0.5: w = 32 / sqrt(.5) = 45.25, h = 22.63 -> half extents 22.6, 11.3 -> 23, 11
    np.testing.assert_array_equal(
        A.cell_anchors(32).numpy(),
        [[-23, -11, 23, 11], [-16, -16, 16, 16], [-11, -23, 11, 23]])
    # several sizes on one level: ratio-major (torchvision)
    np.testing.assert_array_equal(
        A.cell_anchors((8, 16), (1.0, 4.0)).numpy(),
        [[-4, -4, 4, 4], [-8, -8, 8, 8], [-2, -8, 2, 8], [-4, -16, 4, 16]])


def test_tiny_image_known_values_and_order():
    # 8x12 image, one level, stride 4 -> 2x3 grid, centres at (0|4|8, 0|4)
    got = A.fpn_anchors((8, 12), sizes=(8,), strides=(4,), aspect_ratios=(1.0,)).numpy()
    expected = [[x - 4, y - 4, x + 4, y + 4] for y in (0, 4) for x in (0, 4, 8)]
    np.testing.assert_array_equal(got, expected)


def test_default_pyramid_matches_reference_and_count():
    got = A.fpn_anchors((64, 96)).numpy()
    assert got.shape == (3 * (16 * 24 + 8 * 12 + 4 * 6 + 2 * 3 + 1 * 2), 4)
    ref = np_fpn_anchors(64, 96, A.FPN_SIZES, A.FPN_STRIDES, A.FPN_ASPECT_RATIOS)
    np.testing.assert_array_equal(got, ref)
    levels = A.fpn_anchors_per_level((64, 96))
    assert [int(t.shape[0]) for t in levels] == [1152, 288, 72, 18, 6]
    # non-multiple sizes: ceil(H / stride) cells, as a padding="same" backbone
    np.testing.assert_array_equal(
        A.fpn_anchors((50, 70)).numpy(),
        np_fpn_anchors(50, 70, A.FPN_SIZES, A.FPN_STRIDES, A.FPN_ASPECT_RATIOS))


def test_dynamic_image_size_in_tf_function():
    fn = tf.function(lambda size: A.fpn_anchors(size),
                     input_signature=[tf.TensorSpec([2], tf.int32)])
    for size in ((64, 96), (40, 33)):
        np.testing.assert_array_equal(
            fn(tf.constant(size)).numpy(),
            np_fpn_anchors(*size, A.FPN_SIZES, A.FPN_STRIDES, A.FPN_ASPECT_RATIOS))


def test_explicit_level_shapes_and_errors():
    shapes = [(3, 2), (1, 1)]
    got = A.fpn_anchors((0, 0), sizes=(32, 64), strides=(4, 8), level_shapes=shapes)
    assert got.shape == (3 * 6 + 3, 4)
    with pytest.raises(ValueError, match="one anchor size per stride"):
        A.fpn_anchors((64, 64), sizes=(32,), strides=(4, 8))
    with pytest.raises(ValueError, match="one feature shape per stride"):
        A.fpn_anchors((64, 64), sizes=(32, 64), strides=(4, 8), level_shapes=[(1, 1)])
    with pytest.raises(ValueError, match="positive"):
        A.cell_anchors(32, (0.0, 1.0))


def test_mirrored_strategy(mirrored_strategy):
    strategy = mirrored_strategy
    fn = tf.function(lambda size: A.fpn_anchors(size))
    with strategy.scope():
        out = strategy.run(fn, args=(tf.constant([32, 64]),))
    ref = np_fpn_anchors(32, 64, A.FPN_SIZES, A.FPN_STRIDES, A.FPN_ASPECT_RATIOS)
    for replica in strategy.experimental_local_results(out):
        np.testing.assert_array_equal(replica.numpy(), ref)


def test_per_axis_strides_of_torchvision():
    # 800x1216 padded: P6 is ceil(25 / 2) x ceil(38 / 2) = 13 x 19, torchvision's stride
    # 800 // 13 = 61 by 1216 // 19 = 64.
    shapes = [(200, 304), (100, 152), (50, 76), (25, 38), (13, 19)]
    assert A.grid_strides((800, 1216), shapes) == [(4, 4), (8, 8), (16, 16), (32, 32), (61, 64)]
    got = A.grid_anchors((2, 2), (61, 64), [[-1, -1, 1, 1]]).numpy()
    np.testing.assert_array_equal(got, [[-1, -1, 1, 1], [63, -1, 65, 1], [-1, 60, 1, 62],
                                        [63, 60, 65, 62]])
