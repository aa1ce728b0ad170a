"""ops.proposals on a worked example: top-k per level, decoding, clipping, small-box
removal, NMS within (not across) levels, padding."""

import keras
import numpy as np
import pytest

from keras_zoo.ops import proposals as P


@pytest.fixture(autouse=True)
def _seeded_and_clean():
    """Pure TF ops build no Keras state: skip conftest's clear_session."""
    keras.utils.set_random_seed(1234)
    yield


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_worked_example_two_levels_two_images():
    # Level A: stride 8, 2x2 cells of one 8x8 anchor centred on the cell corners;
    # level B: one 8x8 anchor at the origin (stride 16). Image 0 is 16x16, image 1 4x16.
    level_a = np.array([[-4, -4, 4, 4], [4, -4, 12, 4], [-4, 4, 4, 12], [4, 4, 12, 12]],
                       np.float32)
    level_b = np.array([[-4, -4, 4, 4]], np.float32)
    logits_a = np.array([[3.0, 2.5, -1.0, 2.0]] * 2, np.float32)
    deltas_a = np.zeros((2, 4, 4), np.float32)
    deltas_a[:, 1, 1] = 1.0  # anchor 1 moves down by its height: onto anchor 3
    logits_b = np.array([[0.0], [0.0]], np.float32)
    deltas_b = np.zeros((2, 1, 4), np.float32)
    boxes, scores, valid = P.generate_proposals(
        [logits_a, logits_b], [deltas_a, deltas_b], [level_a, level_b],
        np.array([[16, 16], [4, 16]]), pre_nms_top_n=3, post_nms_top_n=4)
    # Image 0. Top 3 of level A: anchors 0 (3), 1 (2.5), 3 (2); clipped to the image:
    # [0,0,4,4], [4,4,12,12] (anchor 1 moved), [4,4,12,12]: anchor 3 is suppressed
    # (IoU 1 with the better anchor 1). Level B's [0,0,4,4] equals anchor 0 but is on
    # another level: kept.
    np.testing.assert_allclose(boxes[0], [[0, 0, 4, 4], [4, 4, 12, 12], [0, 0, 4, 4],
                                          [0, 0, 0, 0]])
    np.testing.assert_allclose(scores[0], sigmoid(np.array([3.0, 2.5, 0.0, 0.0])) * [1, 1, 1, 0],
                               rtol=1e-6)
    np.testing.assert_array_equal(valid[0], [True, True, True, False])
    # Image 1 is 4 high: anchor 1's box [4,4,12,12] clips to [4,4,12,4] (no height:
    # dropped), so anchor 3's [4,4,12,4] is dropped too; anchors 0 and level B remain.
    np.testing.assert_allclose(boxes[1], [[0, 0, 4, 4], [0, 0, 4, 4], [0, 0, 0, 0],
                                          [0, 0, 0, 0]])
    np.testing.assert_array_equal(valid[1], [True, True, False, False])


def test_top_k_keeps_all_of_a_small_level_and_static_shapes():
    rng = np.random.default_rng(0)
    logits = [rng.normal(size=(2, 10)).astype(np.float32), rng.normal(size=(2, 3)).astype(
        np.float32)]
    deltas = [np.zeros((2, 10, 4), np.float32), np.zeros((2, 3, 4), np.float32)]
    anchors = [np.tile([[0, 0, 8, 8]], (10, 1)).astype(np.float32) + np.arange(10)[:, None] * 9,
               np.tile([[0, 0, 30, 30]], (3, 1)).astype(np.float32)]
    top, _, _, levels = P.top_k_per_level(logits, deltas, anchors, pre_nms_top_n=5)
    assert top.shape == (2, 8)
    np.testing.assert_array_equal(levels, [0] * 5 + [1] * 3)
    np.testing.assert_allclose(np.sort(top[0, :5]), np.sort(logits[0][0])[-5:])
    with pytest.raises(ValueError, match="one objectness, deltas and anchors"):
        P.top_k_per_level(logits, deltas[:1], anchors, pre_nms_top_n=5)
