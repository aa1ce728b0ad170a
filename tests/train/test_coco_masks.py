"""train.datasets.coco_masks: COCO polygons and RLE (compressed and uncompressed)
rasterised through pycocotools, against masks drawn by hand."""

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from keras_zoo.train.datasets import coco_masks as C

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
    flat = want.ravel(order="F")
    runs, value, count = [], 0, 0
    for v in flat:
        if v != value:
            runs.append(count)
            value, count = v, 0
        count += 1
    runs.append(count)
    np.testing.assert_array_equal(
        C.segmentation_to_mask({"size": [10, 12], "counts": runs}, 10, 12), want)
    assert not C.polygons_to_mask([], 4, 4).any()
    with pytest.raises(ValueError, match="Expected an RLE of size"):
        C.rle_to_mask(rle, 12, 10)
    with pytest.raises(ValueError, match="COCO segmentation"):
        C.segmentation_to_mask("abc", 4, 4)
