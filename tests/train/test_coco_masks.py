"""train.datasets.coco_masks: COCO polygons and RLE (compressed and uncompressed)
rasterised through pycocotools, against masks drawn by hand."""

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from keras_zoo.train.datasets import coco_masks as C
from tests.train.coco_files import uncompressed_rle

pytestmark = pytest.mark.no_keras_state  # NumPy only: see tests/conftest.py


def test_polygon_and_rle_rasterisation():
    poly = [[2, 3, 6, 3, 6, 8, 2, 8]]  # integer rectangle: pixels x in [2, 6), y in [3, 8)
    mask = C.polygons_to_mask(poly, 10, 12)
    want = np.zeros((10, 12), np.uint8)
    want[3:8, 2:6] = 1
    np.testing.assert_array_equal(mask, want)
    rle = C.mask_to_rle(mask)
    assert isinstance(rle["counts"], str) and rle["size"] == [10, 12]
    np.testing.assert_array_equal(C.rle_to_mask(rle, 10, 12), mask)
    np.testing.assert_array_equal(C.segmentation_to_mask(rle, 10, 12), mask)
    np.testing.assert_array_equal(C.segmentation_to_mask(poly, 10, 12), mask)
    assert int(mask_utils.area(mask_utils.encode(np.asfortranarray(mask)))) == 20
    # uncompressed RLE (iscrowd annotations): column-major run lengths, starting with zeros
    np.testing.assert_array_equal(C.segmentation_to_mask(uncompressed_rle(want), 10, 12), want)
    assert not C.polygons_to_mask([], 4, 4).any()
    with pytest.raises(ValueError, match="Expected an RLE of size"):
        C.rle_to_mask(rle, 12, 10)
    with pytest.raises(ValueError, match="COCO segmentation"):
        C.segmentation_to_mask("abc", 4, 4)


def test_compressed_rle_runs_are_pycocotools_runs():
    rng = np.random.default_rng(0)
    for _ in range(50):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        mask = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        assert C.rle_counts(C.mask_to_rle(mask)) == uncompressed_rle(mask)["counts"]
        C.check_rle(C.mask_to_rle(mask), h, w)
    with pytest.raises(ValueError, match="ends inside a run length"):
        C.rle_counts({"counts": "0`"})
    with pytest.raises(ValueError, match=r"summing to height \* width = 12. Received: .* 11"):
        C.check_rle({"size": [3, 4], "counts": [5, 6]}, 3, 4)
    with pytest.raises(ValueError, match=r"runs >= 0"):
        C.check_rle({"size": [3, 4], "counts": [14, -2]}, 3, 4)


def test_valid_polygons():
    square = [0, 0, 4, 0, 4, 4, 0, 4]
    assert C.valid_polygons([square, [1, 2, 3, 4], [0, 0, 1, 1, 2, 2], [1, 2, 3], [],
                             [0, 0, 1, 0, float("nan"), 1]]) == [square]


def test_crop_to_box_polygon_and_rle_agree():
    """An L shape as a polygon (rasterised in the box frame) and as an RLE (decoded, then
    resampled) crop to the same 28x28 mask: its top-right quarter empty."""
    polygon = [[10, 20, 20, 20, 20, 30, 30, 30, 30, 40, 10, 40]]
    rle = C.mask_to_rle(C.polygons_to_mask(polygon, 48, 64))
    want = np.ones((28, 28), np.uint8)
    want[:14, 14:] = 0
    for segmentation in (polygon, rle):
        np.testing.assert_array_equal(C.crop_to_box(segmentation, (10, 20, 30, 40), 48, 64, 28),
                                      want)
