"""ops.masks.crop_box_masks (ground truth stored cropped to its box) by hand and against
the full-mask targets, and paste_masks' torchvision convention by hand."""

import keras
import numpy as np
import pytest

from keras_zoo.ops import masks as K


@pytest.fixture(autouse=True)
def _seeded_and_clean():
    """Pure TF ops build no Keras state: skip conftest's clear_session."""
    keras.utils.set_random_seed(1234)
    yield


def test_box_crop_targets_by_hand():
    # A 4x4 crop of ones tiles its box [10, 18] x [10, 18]; the RoI is the box itself.
    crop = np.ones((1, 4, 4), np.float32)
    box = np.array([[10, 10, 18, 18]], np.float32)
    soft = K.crop_box_masks(crop, box, box, 4, threshold=None).numpy()[0]
    # Edge bins sample at mask coordinates -0.25 (0.75 of cell 0, the rest is the zero
    # outside) and 0.25 (1.0): mean 0.875 per axis; inner bins read 1.
    edge = np.array([0.875, 1, 1, 0.875])
    np.testing.assert_allclose(soft, np.outer(edge, edge), rtol=1e-6)
    hard = K.crop_box_masks(crop, box, box, 4).numpy()[0]
    np.testing.assert_array_equal(hard, 1)
    # An RoI outside the box reads zeros; the right half of the box reads the right half.
    roi = np.array([[30, 30, 40, 40], [14, 10, 22, 18]], np.float32)
    half = np.zeros((2, 4, 4), np.float32)
    half[..., 2:] = 1
    out = K.crop_box_masks(half, np.repeat(box, 2, axis=0), roi, 4).numpy()
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[1], np.tile([1, 1, 0, 0], (4, 1)))


def test_box_crop_targets_agree_with_full_mask_targets():
    """Crop full masks to their boxes (crop_and_resize_masks, soft) at M = 56, then take
    28x28 targets of jittered RoIs from the crops and from the full masks: the same
    pixels but where the two resamplings straddle 0.5."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:96, :128] + 0.5
    masks, boxes = [], []
    for _ in range(4):
        cx, cy, rx, ry = rng.uniform(30, 90), rng.uniform(30, 60), rng.uniform(10, 30), \
            rng.uniform(8, 25)
        mask = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
        ys, xs = np.nonzero(mask)
        masks.append(mask)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    masks, boxes = np.array(masks, np.uint8), np.array(boxes, np.float32)
    crops = K.crop_and_resize_masks(masks, boxes, np.arange(4), 56, threshold=None)
    jitter = rng.uniform(-0.15, 0.15, (4, 4)) * np.tile(boxes[:, 2:] - boxes[:, :2], 2)
    rois = (boxes + jitter).astype(np.float32)
    from_crops = K.crop_box_masks(crops, boxes, rois)
    from_full = K.crop_and_resize_masks(masks, rois, np.arange(4), 28)
    agree = np.mean(from_crops.numpy() == from_full.numpy(), axis=(1, 2))
    assert np.all(agree > 0.97), agree


def test_torchvision_paste_by_hand():
    # A 1x1 mask of 1 on the box [0, 0, 2, 2]: grown by (1 + 2) / 1 about the centre
    # (1, 1) to [-2, 4] (whole pixels), the padded mask [0, 1, 0] is resized to 7 cells:
    # image pixels 0, 1, 2, 3, 4 read 4/7, 1, 4/7, 1/7, 0 per axis.
    pasted = K.paste_masks(np.ones((1, 1, 1), np.float32), np.array([[0, 0, 2, 2]], np.float32),
                           (5, 5), threshold=None, convention="torchvision").numpy()[0]
    profile = np.array([4 / 7, 1, 4 / 7, 1 / 7, 0])
    np.testing.assert_allclose(pasted, np.outer(profile, profile), rtol=1e-6)
    with pytest.raises(ValueError, match="convention"):
        K.paste_masks(np.ones((1, 1, 1)), np.zeros((1, 4)), (2, 2), convention="caffe")
