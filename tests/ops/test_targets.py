"""ops.targets: RPN and RoI training targets on worked examples (IoUs and deltas by hand),
no ground truth, padding, and per-image seeds."""

import functools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import boxes as B
from keras_zoo.ops import matching
from keras_zoo.ops import targets as T


@pytest.fixture(autouse=True)
def _seeded_and_clean():
    """Pure TF ops build no Keras state: skip conftest's clear_session."""
    keras.utils.set_random_seed(1234)
    yield


GT = np.array([[[0, 0, 10, 10], [0, 0, 0, 0]]], np.float32)  # one real box, one padded row
GT_VALID = np.array([[True, False]])


def rpn_rules(num_samples, positive_fraction=0.5):
    """The RPN's match, sample and encode callables (Faster R-CNN Sec. 3.1.2)."""
    return {"match": functools.partial(matching.match_boxes, fg_threshold=0.7,
                                       bg_threshold=0.3, allow_low_quality_matches=True),
            "sample": functools.partial(_sample, num_samples, positive_fraction),
            "encode": B.encode}


def roi_rules(num_samples, positive_fraction=0.25):
    """The RoI heads' callables (Mask R-CNN Sec. 3.1): IoU 0.5, weights (10, 10, 5, 5)."""
    return {"match": functools.partial(matching.match_boxes, fg_threshold=0.5,
                                       bg_threshold=0.5, allow_low_quality_matches=False),
            "sample": functools.partial(_sample, num_samples, positive_fraction),
            "encode": functools.partial(B.encode, weights=B.HEAD_BOX_WEIGHTS)}


def _sample(num_samples, positive_fraction, labels, seed):
    return matching.sample_balanced(labels, num_samples, positive_fraction, seed)


def test_rpn_targets_worked_example():
    anchors = np.array([[0, 0, 10, 10],     # IoU 1        -> positive
                        [0, 0, 10, 20],     # IoU 100/200  -> ignored (0.3 <= 0.5 < 0.7)
                        [20, 20, 30, 30],   # IoU 0        -> negative
                        [0, 0, 10, 12]],    # IoU 100/120  -> positive
                       np.float32)
    t = T.rpn_targets(anchors, GT, GT_VALID, seed=0, **rpn_rules(4))
    # 2 positive slots (both positives), then the single negative, then padding
    assert sorted(t["indices"][0, :2].numpy()) == [0, 3]
    assert t["indices"][0, 2] == 2
    np.testing.assert_array_equal(t["labels"], [[1, 1, 0, 0]])
    np.testing.assert_array_equal(t["weights"], [[1, 1, 1, 0]])
    # anchor 3: centre (5, 6), 10x12; ground truth centre (5, 5), 10x10:
    # dx = 0, dy = (5 - 6) / 12, dw = log(10 / 10), dh = log(10 / 12)
    row = int(np.flatnonzero(t["indices"][0].numpy() == 3)[0])
    np.testing.assert_allclose(t["box_targets"][0, row], [0, -1 / 12, 0, math.log(10 / 12)],
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(t["box_targets"][0, 1 - row], [0, 0, 0, 0], atol=1e-7)
    np.testing.assert_array_equal(t["box_targets"][0, 2:], 0)


def test_rpn_targets_without_ground_truth_are_all_background():
    anchors = np.array([[0, 0, 4, 4], [2, 2, 8, 8], [5, 5, 9, 9]], np.float32)
    for gt, valid in ((GT, np.zeros((1, 2), bool)), (np.zeros((1, 0, 4), np.float32),
                                                     np.zeros((1, 0), bool))):
        t = T.rpn_targets(anchors, gt, valid, seed=0, **rpn_rules(4))
        np.testing.assert_array_equal(t["weights"], [[1, 1, 1, 0]])
        np.testing.assert_array_equal(t["labels"], 0)
        assert np.all(np.isfinite(t["box_targets"])) and not np.any(t["positive"])


def test_roi_targets_worked_example():
    proposals = np.array([[[0, 0, 10, 12],    # IoU 0.833 -> class 3
                           [0, 0, 10, 25],    # IoU 0.4   -> background
                           [0, 0, 10, 10]]],  # padding (invalid): never sampled
                         np.float32)
    valid = np.array([[True, True, False]])
    t = T.roi_targets(proposals, valid, GT, np.array([[3, 0]]), GT_VALID, seed=0,
                      **roi_rules(4, 0.5))
    # positives: proposal 0 and the ground truth itself (added to the proposals)
    positives = t["rois"][0, :2].numpy()
    assert sorted(map(tuple, positives)) == [(0, 0, 10, 10), (0, 0, 10, 12)]
    np.testing.assert_allclose(t["rois"][0, 2:], [[0, 0, 10, 25], [0, 0, 0, 0]])
    np.testing.assert_array_equal(t["classes"], [[3, 3, 0, 0]])
    np.testing.assert_array_equal(t["weights"], [[1, 1, 1, 0]])
    np.testing.assert_array_equal(t["positive"], [[True, True, False, False]])
    # head weights (10, 10, 5, 5): dy = 10 * (5 - 6) / 12, dh = 5 * log(10 / 12)
    row = int(positives[1, 3] == 12)
    np.testing.assert_allclose(t["box_targets"][0, row], [0, -10 / 12, 0, 5 * math.log(10 / 12)],
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(t["box_targets"][0, 1 - row], 0, atol=1e-6)


def test_roi_targets_without_ground_truth():
    proposals = np.array([[[0, 0, 10, 12], [3, 3, 9, 9]]], np.float32)
    t = T.roi_targets(proposals, np.array([[True, True]]), np.zeros((1, 0, 4), np.float32),
                      np.zeros((1, 0), np.int32), np.zeros((1, 0), bool), seed=0,
                      **roi_rules(3))
    np.testing.assert_array_equal(t["classes"], 0)
    np.testing.assert_array_equal(t["weights"], [[1, 1, 0]])
    assert np.all(np.isfinite(t["box_targets"]))


def test_per_image_seeds_sample_each_image_as_if_alone():
    rng = np.random.default_rng(0)
    labels = rng.choice([1, 0, 0, -1], size=(3, 50)).astype(np.int32)
    seeds = tf.constant([[7, 0], [7, 1], [7, 2]], tf.int64)
    together = matching.sample_balanced(labels, 16, 0.25, seeds).numpy()
    for b in range(3):
        alone = matching.sample_balanced(labels[b:b + 1], 16, 0.25, seeds[b:b + 1]).numpy()
        np.testing.assert_array_equal(together[b], alone[0])
    assert not np.array_equal(together[0], together[1])
