"""ops.matching: corner cases by hand, a NumPy reference matcher, sampler counts and determinism.

Labels and indices are integers: compared exactly (the IoUs of the cases are far from
the thresholds)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import matching as M

pytestmark = pytest.mark.no_keras_state  # pure TF ops: see tests/conftest.py
# Faster R-CNN Sec. 3.1.2: the RPN's rules.
RPN = {"fg_threshold": 0.7, "bg_threshold": 0.3, "allow_low_quality_matches": True}


def np_match(quality, valid, fg, bg, low_quality):
    """Torchvision's Matcher rules, one image, loops; padded columns skipped."""
    n, g = quality.shape
    matched = np.zeros(n, np.int32)
    labels = np.zeros(n, np.int32)
    cols = [j for j in range(g) if valid[j]]
    for i in range(n):
        if not cols:
            continue
        j = max(cols, key=lambda c: (quality[i, c], -c))
        matched[i] = j
        best = quality[i, j]
        labels[i] = 1 if best >= fg else (0 if best < bg else -1)
    if low_quality:
        for j in cols:
            top = quality[:, j].max()
            if top > 0:
                labels[quality[:, j] == top] = 1
    return matched, labels


def test_rpn_thresholds_and_best_anchor_rule():
    # 5 anchors x 3 ground truths (the last one padded)
    q = np.array([[[0.80, 0.10, 0.99],
                   [0.50, 0.20, 0.99],
                   [0.20, 0.40, 0.00],   # best anchor of gt 1 (0.4 < 0.7): positive anyway
                   [0.10, 0.40, 0.00],   # tie for gt 1: also positive
                   [0.29, 0.00, 0.00]]], np.float32)
    valid = [[True, True, False]]
    matched, labels = M.match(q, valid, fg_threshold=0.7, bg_threshold=0.3,
                              allow_low_quality_matches=True)
    np.testing.assert_array_equal(labels.numpy(), [[1, -1, 1, 1, 0]])
    np.testing.assert_array_equal(matched.numpy(), [[0, 0, 1, 1, 0]])
    _, labels = M.match(q, valid, fg_threshold=0.7, bg_threshold=0.3,
                        allow_low_quality_matches=False)
    np.testing.assert_array_equal(labels.numpy(), [[1, -1, -1, -1, 0]])


def test_best_anchor_keeps_its_own_argmax():
    # anchor 0 is gt 0's best (0.3), but overlaps gt 1 more (0.6): positive, matched to gt 1
    q = np.array([[[0.3, 0.6], [0.1, 0.9]]], np.float32)
    matched, labels = M.match(q, [[True, True]], fg_threshold=0.7, bg_threshold=0.3,
                              allow_low_quality_matches=True)
    np.testing.assert_array_equal(labels.numpy(), [[1, 1]])
    np.testing.assert_array_equal(matched.numpy(), [[1, 1]])


def test_head_thresholds_boundary():
    q = np.array([[[0.5], [0.49999], [0.0]]], np.float32)
    _, labels = M.match(q, [[True]], fg_threshold=0.5, bg_threshold=0.5,
                        allow_low_quality_matches=False)
    np.testing.assert_array_equal(labels.numpy(), [[1, 0, 0]])


def test_padding_no_ground_truth_and_no_overlap():
    anchors = tf.constant([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    gt = tf.constant([[[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]],   # 2nd padded
                      [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],         # no gt at all
                      [[100.0, 100.0, 110.0, 110.0], [0.0, 0.0, 0.0, 0.0]]])  # overlaps nothing
    classes = tf.constant([[3, -1], [-1, -1], [1, -1]])
    matched, labels = M.match_boxes(anchors, gt, classes >= 0, **RPN)
    np.testing.assert_array_equal(labels.numpy(), [[1, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(matched.numpy(), [[0, 0], [0, 0], [0, 0]])
    np.testing.assert_array_equal(M.gather_matched(classes, matched).numpy()[0], [3, 3])
    # no ground-truth rows at all (G = 0)
    matched, labels = M.match_boxes(anchors, tf.zeros([2, 0, 4]), tf.zeros([2, 0], tf.bool),
                                    **RPN)
    np.testing.assert_array_equal(labels.numpy(), [[0, 0], [0, 0]])
    np.testing.assert_array_equal(matched.numpy(), [[0, 0], [0, 0]])


def test_random_against_reference():
    rng = np.random.default_rng(0)
    q = rng.uniform(0, 1, (3, 40, 6)).astype(np.float32)
    q[q < 0.5] = 0.0
    valid = rng.uniform(size=(3, 6)) < 0.6
    valid[2] = False
    for fg, bg, low in ((0.7, 0.3, True), (0.5, 0.5, False)):
        matched, labels = M.match(q, valid, fg_threshold=fg, bg_threshold=bg,
                                  allow_low_quality_matches=low)
        for b in range(3):
            ref_m, ref_l = np_match(q[b], valid[b], fg, bg, low)
            np.testing.assert_array_equal(labels.numpy()[b], ref_l)
            keep = ref_l == 1
            np.testing.assert_array_equal(matched.numpy()[b][keep], ref_m[keep])


def test_head_matching_on_boxes():
    proposals = tf.constant(
        [[[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 5.0], [0.0, 0.0, 10.0, 4.0]]])
    gt = tf.constant([[[0.0, 0.0, 10.0, 10.0]]])
    _, labels = M.match_boxes(proposals, gt, [[True]], fg_threshold=0.5, bg_threshold=0.5,
                              allow_low_quality_matches=False)  # IoU 1, 0.5, 0.4
    np.testing.assert_array_equal(labels.numpy(), [[1, 1, 0]])
    with pytest.raises(ValueError, match="bg_threshold <= fg_threshold"):
        M.match_boxes(proposals, gt, [[True]], fg_threshold=0.3, bg_threshold=0.7,
                      allow_low_quality_matches=False)


def test_sampler_counts_order_padding():
    labels = tf.constant([[1] * 10 + [0] * 100 + [-1] * 5,      # plenty: 8 pos + 8 neg
                          [1] * 2 + [0] * 100 + [-1] * 13,      # few positives: 2 pos + 14 neg
                          [1] * 3 + [0] * 4 + [-1] * 108])      # too few: 7 then padding
    idx = M.sample_balanced(labels, 16, 0.5, seed=7).numpy()
    lab = labels.numpy()
    for b, (n_pos, n_neg) in enumerate(((8, 8), (2, 14), (3, 4))):
        row = idx[b]
        real = row[row >= 0]
        assert len(real) == n_pos + n_neg and len(set(real)) == len(real)
        np.testing.assert_array_equal(lab[b][real], [1] * n_pos + [0] * n_neg)
        assert np.all(row[n_pos + n_neg:] == -1)


def test_sampler_deterministic_under_seed_and_uniform():
    labels = tf.constant([[1] * 10 + [0] * 10])
    a = M.sample_balanced(labels, 4, 0.5, seed=3)
    np.testing.assert_array_equal(a, M.sample_balanced(labels, 4, 0.5, seed=3))
    np.testing.assert_array_equal(a, M.sample_balanced(labels, 4, 0.5, seed=tf.constant([3, 0])))
    others = [M.sample_balanced(labels, 4, 0.5, seed=s).numpy() for s in (4, 5, 6)]
    assert any(not np.array_equal(a, o) for o in others)
    # 2000 images, 2 of 10 positives drawn each: each is picked with p = 0.2,
    # expected 400 times, binomial std 17.9; allow 5 std.
    many = tf.tile(labels, [2000, 1])
    counts = np.bincount(M.sample_balanced(many, 4, 0.5, seed=11).numpy()[:, :2].ravel(),
                         minlength=20)
    assert np.all(np.abs(counts[:10] - 400) < 5 * 17.9), counts[:10]


def test_rpn_pipeline_in_tf_function_and_mirrored_strategy(mirrored_strategy):
    anchors = tf.constant([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 15.0, 15.0],
                           [30.0, 30.0, 40.0, 40.0], [0.0, 0.0, 8.0, 10.0]])
    gt = tf.constant([[[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 0.0, 0.0]]] * 2)
    valid = tf.constant([[True, False]] * 2)

    @tf.function
    def step(gt_boxes, gt_valid):
        matched, labels = M.match_boxes(anchors, gt_boxes, gt_valid, **RPN)
        return labels, M.sample_balanced(labels, 4, 0.5, seed=0)

    eager_labels, eager_idx = step(gt, valid)
    np.testing.assert_array_equal(eager_labels, [[1, 0, 0, 1]] * 2)  # IoU 1, 1/7, 0, 0.8
    strategy = mirrored_strategy
    with strategy.scope():
        labels, idx = strategy.run(step, args=(gt, valid))
    for got in strategy.experimental_local_results(labels):
        np.testing.assert_array_equal(got, eager_labels)
    for got in strategy.experimental_local_results(idx):
        np.testing.assert_array_equal(got, eager_idx)
