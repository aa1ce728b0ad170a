"""ops.masks against NumPy references of RoIAlign / grid_sample."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import masks as K

pytestmark = pytest.mark.no_keras_state  # pure TF ops: see tests/conftest.py

# Soft crops are float32 sums of <= 9 bilinear samples of {0, 1} masks (or <= 4 for
# pasting): two computations of one value (another batch size, graph or device) may
# differ by a few ulps, ~1e-7; 1e-6 bounds it.
ROUNDING = 1e-6


def assert_thresholded(hard, soft, threshold=0.5):
    """`hard == (soft >= threshold)` wherever `soft` is not within rounding of the
    threshold (there another computation of the same value may fall on either side)."""
    hard, soft = np.asarray(hard), np.asarray(soft)
    clear = np.abs(soft - threshold) > ROUNDING
    assert clear.mean() > 0.9  # the check is not vacuous
    np.testing.assert_array_equal(hard[clear], (soft >= threshold)[clear])


def np_bilinear(img, y, x):
    """torchvision roi_align's bilinear_interpolate (zero beyond one pixel out, else clamped)."""
    h, w = img.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(math.floor(y)), int(math.floor(x))
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * img[y0, x0] + (1 - ly) * lx * img[y0, x1]
            + ly * (1 - lx) * img[y1, x0] + ly * lx * img[y1, x1])


def np_roi_align(img, box, size, sampling_ratio):
    """RoIAlign, aligned=True, spatial scale 1, written from the definition."""
    x1, y1, x2, y2 = (float(v) - 0.5 for v in box)
    bw, bh = (x2 - x1) / size, (y2 - y1) / size
    gy = sampling_ratio if sampling_ratio > 0 else math.ceil((y2 - y1) / size)
    gx = sampling_ratio if sampling_ratio > 0 else math.ceil((x2 - x1) / size)
    out = np.zeros((size, size))
    for p in range(size):
        for q in range(size):
            acc = 0.0
            for a in range(gy):
                for c in range(gx):
                    y = y1 + p * bh + (a + 0.5) * bh / gy
                    x = x1 + q * bw + (c + 0.5) * bw / gx
                    acc += np_bilinear(img, y, x)
            out[p, q] = acc / max(gy * gx, 1)
    return out


def np_paste(mask, box, height, width):
    """detectron2 paste: grid_sample(align_corners=False, zero padding) at pixel centres."""
    m_h, m_w = mask.shape
    x1, y1, x2, y2 = box
    out = np.zeros((height, width))
    for i in range(height):
        for j in range(width):
            v = (i + 0.5 - y1) / (y2 - y1) * m_h - 0.5
            u = (j + 0.5 - x1) / (x2 - x1) * m_w - 0.5
            v0, u0 = math.floor(v), math.floor(u)
            acc = 0.0
            for yy, wy in ((v0, 1 - (v - v0)), (v0 + 1, v - v0)):
                for xx, wx in ((u0, 1 - (u - u0)), (u0 + 1, u - u0)):
                    if 0 <= yy < m_h and 0 <= xx < m_w:
                        acc += wy * wx * mask[yy, xx]
            out[i, j] = acc
    return out


def disc_masks(rng, count, h, w):
    yy, xx = np.mgrid[:h, :w]
    out = []
    for _ in range(count):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(3, h / 2)
        out.append(((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).astype(np.uint8))
    return np.stack(out)


BOXES = np.array([[2.0, 3.0, 17.0, 12.0],     # ordinary
                  [0.3, 0.7, 3.1, 2.2],       # tiny
                  [-6.0, -4.0, 30.0, 25.0],   # larger than the mask, adaptive grid 3x3
                  [15.0, 10.0, 40.0, 30.0],   # partly outside
                  [5.0, 5.0, 5.0, 9.0]],      # zero width
                 np.float32)


@pytest.mark.parametrize("sampling_ratio", [0, 2])
def test_crop_matches_roi_align_reference(sampling_ratio):
    rng = np.random.default_rng(sampling_ratio)
    masks = disc_masks(rng, 2, 20, 24)
    idx = np.array([0, 1, 0, 1, 0], np.int32)
    soft = K.crop_and_resize_masks(masks, BOXES, idx, 7, sampling_ratio=sampling_ratio,
                                   threshold=None).numpy()
    hard = K.crop_and_resize_masks(masks, BOXES, idx, 7, sampling_ratio=sampling_ratio).numpy()
    for k in range(len(BOXES)):
        ref = np_roi_align(masks[idx[k]].astype(np.float64), BOXES[k], 7, sampling_ratio)
        np.testing.assert_allclose(soft[k], ref, atol=1e-5)  # float32 sums of <= 9 samples
        assert_thresholded(hard[k], soft[k])


def test_crop_hand_computed():
    mask = np.zeros((10, 10), np.uint8)
    mask[3:8, 2:6] = 1  # pixels of the box (2, 3, 6, 8)
    got = K.crop_and_resize_masks(mask[None], [[2.0, 3.0, 6.0, 8.0]], [0], 4,
                                  threshold=None).numpy()[0]
    # rows: bin height 1.25, 2 samples at y = 2.8125 (0.8125 inside) and 3.4375 (1)
    edge = (0.8125 + 1.0) / 2
    np.testing.assert_allclose(got, [[edge] * 4, [1] * 4, [1] * 4, [edge] * 4], atol=1e-6)
    np.testing.assert_array_equal(K.crop_and_resize_masks(mask[None], [[2.0, 3.0, 6.0, 8.0]],
                                                          [0], 4).numpy()[0], np.ones((4, 4)))


def test_crop_refuses_batched_masks():
    gt = disc_masks(np.random.default_rng(3), 6, 16, 16).reshape(2, 3, 16, 16)
    with pytest.raises(ValueError, match=r"\[G, H, W\]"):
        K.crop_and_resize_masks(gt, BOXES[:4] / 2, np.zeros(4, np.int32))


def test_paste_at_box_position():
    # an all-ones mask lights exactly the pixels whose centres lie in the box
    got = K.paste_masks(tf.ones([2, 28, 28]), [[2.0, 3.0, 6.0, 8.0], [5.0, 5.0, 5.0, 9.0]],
                        (10, 12)).numpy()
    want = np.zeros((10, 12), bool)
    want[3:8, 2:6] = True
    np.testing.assert_array_equal(got[0], want)
    assert not got[1].any()  # empty box pastes nothing


def test_paste_matches_grid_sample_reference():
    rng = np.random.default_rng(4)
    masks = rng.uniform(0, 1, (2, 3, 6, 6)).astype(np.float32)
    boxes = np.array([[[1.0, 2.0, 9.5, 7.0], [-3.0, 4.0, 5.0, 15.0], [0.0, 0.0, 13.0, 11.0]],
                      [[6.2, 1.1, 7.9, 3.3], [2.0, 2.0, 30.0, 30.0], [4.0, 4.0, 8.0, 8.0]]],
                     np.float32)
    soft = K.paste_masks(masks, boxes, (11, 13), threshold=None).numpy()
    hard = tf.function(lambda m, b: K.paste_masks(m, b, (11, 13)))(masks, boxes).numpy()
    assert soft.shape == (2, 3, 11, 13) and hard.dtype == bool
    for b in range(2):
        for n in range(3):
            ref = np_paste(masks[b, n].astype(np.float64), boxes[b, n], 11, 13)
            np.testing.assert_allclose(soft[b, n], ref, atol=1e-5)
    assert_thresholded(hard, soft)


def test_mirrored_strategy(mirrored_strategy):
    rng = np.random.default_rng(5)
    gt = disc_masks(rng, 4, 16, 16)
    rois = BOXES[:3] / 2
    matched = np.array([0, 3, 1], np.int32)
    fn = tf.function(lambda g, r, m: K.crop_and_resize_masks(g, r, m, 6, threshold=None))
    eager = K.crop_and_resize_masks(gt, rois, matched, 6, threshold=None).numpy()
    strategy = mirrored_strategy
    with strategy.scope():
        out = strategy.run(fn, args=(tf.constant(gt), tf.constant(rois), tf.constant(matched)))
    for replica in strategy.experimental_local_results(out):
        np.testing.assert_allclose(replica.numpy(), eager, rtol=0, atol=ROUNDING)
