"""ops.boxes against hand-computed values and a NumPy reference written from the definitions.

Exact comparisons only where every value and every intermediate is a small integer
(exact in float32 whatever the order); the rest states its tolerance."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import boxes as B

pytestmark = pytest.mark.no_keras_state  # pure TF ops: see tests/conftest.py


def np_iou(a, b):
    """IoU from the definition, one pair at a time."""
    out = np.zeros((len(a), len(b)), np.float64)
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iw = max(min(p[2], q[2]) - max(p[0], q[0]), 0.0)
            ih = max(min(p[3], q[3]) - max(p[1], q[1]), 0.0)
            inter = iw * ih
            union = (max(p[2] - p[0], 0) * max(p[3] - p[1], 0)
                     + max(q[2] - q[0], 0) * max(q[3] - q[1], 0) - inter)
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def random_boxes(rng, n, size=50.0):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(0, size / 2, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


def test_iou_hand_computed():
    a = [[0.0, 0.0, 2.0, 2.0]]
    b = [[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 4.0, 2.0], [0.0, 0.0, 1.0, 2.0]]
    np.testing.assert_allclose(B.pairwise_iou(a, b).numpy(), [[1 / 7, 1.0, 0.0, 0.5]], rtol=1e-6)


def test_iou_zero_area_and_padding_give_zero_not_nan():
    a = tf.constant([[0.0, 0.0, 0.0, 0.0], [5.0, 5.0, 5.0, 9.0], [0.0, 0.0, 10.0, 10.0]])
    iou = B.pairwise_iou(a, a).numpy()
    assert np.all(np.isfinite(iou))
    np.testing.assert_array_equal(iou, [[0, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_iou_batched_matches_numpy_reference():
    rng = np.random.default_rng(0)
    a = np.stack([random_boxes(rng, 7) for _ in range(3)])
    b = np.stack([random_boxes(rng, 5) for _ in range(3)])
    b[:, -1] = 0.0  # padded ground truth row
    got = B.pairwise_iou(a, b).numpy()
    assert got.shape == (3, 7, 5)
    for i in range(3):
        np.testing.assert_allclose(got[i], np_iou(a[i], b[i]), atol=1e-6)
    # shared anchors [N, 4] broadcast against a batch of ground truth [B, M, 4]
    shared = B.pairwise_iou(a[0], b).numpy()
    for i in range(3):
        np.testing.assert_allclose(shared[i], np_iou(a[0], b[i]), atol=1e-6)


def test_area():
    np.testing.assert_allclose(
        B.area([[1.0, 2.0, 4.0, 7.0], [3.0, 3.0, 1.0, 5.0]]).numpy(), [15.0, 0.0])


def test_format_conversion_worked_example_and_round_trip():
    xyxy = tf.constant([[10.0, 20.0, 40.0, 60.0]])
    np.testing.assert_array_equal(B.convert_format(xyxy, "xyxy", "xywh"), [[10, 20, 30, 40]])
    np.testing.assert_array_equal(B.convert_format(xyxy, "xyxy", "yxyx"), [[20, 10, 60, 40]])
    np.testing.assert_array_equal(B.convert_format([[10.0, 20, 30, 40]], "xywh", "xyxy"), xyxy)
    rng = np.random.default_rng(1)
    boxes = random_boxes(rng, 6).reshape(2, 3, 4)
    for fmt in ("xywh", "yxyx"):
        there = B.convert_format(boxes, "xyxy", fmt)
        np.testing.assert_allclose(B.convert_format(there, fmt, "xyxy"), boxes, atol=1e-5)
    np.testing.assert_allclose(
        B.convert_format(B.convert_format(boxes, "xyxy", "xywh"), "xywh", "yxyx"),
        B.convert_format(boxes, "xyxy", "yxyx"), atol=1e-5)
    with pytest.raises(ValueError, match="Expected source"):
        B.convert_format(boxes, "cxcywh", "xyxy")


def test_clip_per_image_size():
    boxes = tf.constant([[[-5.0, 3.0, 50.0, 70.0]], [[-5.0, 3.0, 50.0, 70.0]]])
    got = B.clip_to_image(boxes, [[40, 30], [100, 100]]).numpy()
    np.testing.assert_array_equal(got, [[[0, 3, 30, 40]], [[0, 3, 50, 70]]])
    np.testing.assert_array_equal(B.clip_to_image(boxes[0], (40, 30)).numpy(), [[0, 3, 30, 40]])


def test_encode_worked_example():
    anchor = [[0.0, 0.0, 10.0, 10.0]]
    box = [[5.0, 5.0, 25.0, 15.0]]  # centre (15, 10), size 20 x 10; anchor centre (5, 5)
    np.testing.assert_allclose(B.encode(box, anchor).numpy(), [[1.0, 0.5, math.log(2), 0.0]],
                               rtol=1e-6)
    np.testing.assert_allclose(B.encode(box, anchor, B.HEAD_BOX_WEIGHTS).numpy(),
                               [[10.0, 5.0, 5 * math.log(2), 0.0]], rtol=1e-6)


@pytest.mark.parametrize("weights", [B.RPN_BOX_WEIGHTS, B.HEAD_BOX_WEIGHTS])
def test_encode_decode_round_trip(weights):
    rng = np.random.default_rng(2)
    anchors = random_boxes(rng, 8).reshape(2, 4, 4) + np.array([0, 0, 1, 1], np.float32)
    boxes = random_boxes(rng, 8).reshape(2, 4, 4) + np.array([0, 0, 1, 1], np.float32)
    deltas = B.encode(boxes, anchors, weights)
    np.testing.assert_allclose(B.decode(deltas, anchors, weights).numpy(), boxes, atol=1e-4)


def test_decode_clamps_scale():
    anchor = [[0.0, 0.0, 16.0, 16.0]]
    got = B.decode([[0.0, 0.0, 50.0, -1.0]], anchor).numpy()
    # width clamped to exp(log(1000/16)) * 16 = 1000 around the centre 8; height exp(-1) * 16
    np.testing.assert_allclose(got, [[8 - 500, 8 - 8 / math.e, 8 + 500, 8 + 8 / math.e]],
                               rtol=1e-5)
    assert np.all(np.isfinite(B.decode([[0.0, 0.0, 1e4, 1e4]], anchor).numpy()))
    with pytest.raises(ValueError, match="Expected weights"):
        B.decode([[0.0, 0.0, 0.0, 0.0]], anchor, weights=(1, 1, 0, 1))


def test_tf_function_and_mirrored_strategy(mirrored_strategy):
    rng = np.random.default_rng(3)
    a = random_boxes(rng, 6).reshape(2, 3, 4)
    b = random_boxes(rng, 4).reshape(2, 2, 4)

    def step(x, y):
        deltas = B.encode(y[:, :1], x, B.HEAD_BOX_WEIGHTS)
        return B.pairwise_iou(x, y), B.decode(deltas, x, B.HEAD_BOX_WEIGHTS)

    eager = step(a, b)
    graph = tf.function(step)(tf.constant(a), tf.constant(b))
    strategy = mirrored_strategy
    with strategy.scope():
        per_replica = strategy.run(tf.function(step), args=(tf.constant(a), tf.constant(b)))
    for i in range(2):
        np.testing.assert_allclose(graph[i], eager[i], atol=1e-5)  # float32 ulps at ~60
        for replica in strategy.experimental_local_results(per_replica[i]):
            np.testing.assert_allclose(replica, eager[i], atol=1e-5)


def test_invariance_under_joint_scaling_and_translation():
    rng = np.random.default_rng(4)
    a, b = random_boxes(rng, 5), random_boxes(rng, 4)
    scale = np.array([3.0, 3.0, 3.0, 3.0], np.float32)
    shift = np.array([7.0, -2.0, 7.0, -2.0], np.float32)
    np.testing.assert_allclose(B.pairwise_iou(a * scale + shift, b * scale + shift),
                               B.pairwise_iou(a, b), atol=1e-5)
    b = b + np.array([0, 0, 1, 1], np.float32)
    a = a + np.array([0, 0, 1, 1], np.float32)
    np.testing.assert_allclose(B.encode(a[:4] * scale + shift, b * scale + shift),
                               B.encode(a[:4], b), atol=1e-4)
