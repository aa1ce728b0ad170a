"""train.datasets.coco_pipeline on the tiny COCO files: batch structure, resize, box-cropped
masks (by hand), flips of image, boxes and masks together, seeded order, a truncated image
dropped mid-epoch with one warning, prediction batches."""

import os

import numpy as np
import pytest

from keras_zoo.train.datasets import coco_pipeline
from keras_zoo.train.datasets.coco import CocoSplit
from tests.train.coco_files import tiny_coco

pytestmark = pytest.mark.no_keras_state  # tf.data only: see tests/conftest.py

M = 16
SETTINGS = dict(min_size=96, max_size=128, mask_size=M)  # 48x64 images -> 96x128


@pytest.fixture()
def split(tmp_path):
    return CocoSplit.read(*tiny_coco(tmp_path), name="train")


def _l_crop(mirrored=False):
    """The L shape of coco_files cropped to its box at M x M: its top-right quarter empty."""
    crop = np.ones((M, M), np.uint8)
    crop[:M // 2, M // 2:] = 0
    return crop[:, ::-1] if mirrored else crop


def _examples(dataset, batches):
    """(image size, box, class, mask) of every valid object in the first `batches`."""
    found = []
    for x, y in dataset.take(batches):
        for b in range(len(x["image_sizes"])):
            for g in np.flatnonzero(y["valid"][b].numpy()):
                found.append((tuple(x["image_sizes"][b].numpy()), y["boxes"][b, g].numpy(),
                              int(y["classes"][b, g]), y["masks"][b, g].numpy()))
    return found


def test_evaluation_batches_structure_resize_and_masks(split):
    dataset = coco_pipeline.training_pipeline(split, batch_size=2, training=False, **SETTINGS)
    batches = list(dataset)
    assert [len(x["images"]) for x, _ in batches] == [2, 1]  # images 1..3, file order
    x, y = batches[0]
    assert x["images"].dtype == "uint8" and tuple(x["images"].shape) == (2, 96, 128, 3)
    np.testing.assert_array_equal(x["image_sizes"], [[96, 128], [96, 128]])
    assert {k: (v.dtype.name, tuple(v.shape)) for k, v in y.items()} == {
        "boxes": ("float32", (2, 2, 4)), "classes": ("int32", (2, 2)),
        "masks": ("uint8", (2, 2, M, M)), "valid": ("bool", (2, 2))}
    np.testing.assert_array_equal(y["valid"], [[True, True], [True, False]])  # padded
    # image 1: a polygon rectangle (car, 1) and the compressed-RLE L (toothbrush, 2), x2
    np.testing.assert_array_equal(y["boxes"][0], [[8, 12, 48, 32], [20, 40, 60, 80]])
    np.testing.assert_array_equal(y["classes"], [[1, 2], [3, 0]])
    np.testing.assert_array_equal(y["masks"][0, 0], np.ones((M, M)))
    np.testing.assert_array_equal(y["masks"][0, 1], _l_crop())
    np.testing.assert_array_equal(y["masks"][1, 0], _l_crop())  # the uncompressed-RLE L


def test_training_flips_images_boxes_and_masks_together(split):
    dataset = coco_pipeline.training_pipeline(split, batch_size=2, training=True, seed=3,
                                              **SETTINGS)
    seen = set()
    for _, box, cls, mask in _examples(dataset, 12):
        if cls != 2 or box[3] - box[1] != 40:  # the L of image 1 (image 3 holds a rectangle)
            continue
        mirrored = bool(box[0] == 128 - 60)
        assert box[0] in (20, 128 - 60)
        np.testing.assert_array_equal(mask, _l_crop(mirrored))
        seen.add(mirrored)
    assert seen == {False, True}


def test_seeded_order(split):
    def first(seed):
        dataset = coco_pipeline.training_pipeline(split, batch_size=2, training=True,
                                                  seed=seed, **SETTINGS)
        return [(s, tuple(b), c) for s, b, c, _ in _examples(dataset, 6)]

    assert first(1) == first(1)
    assert first(1) != first(2)


def test_flips_off_and_no_objects(split):
    dataset = coco_pipeline.training_pipeline(split, batch_size=3, training=True, flip=False,
                                              **SETTINGS)
    for _, box, cls, mask in _examples(dataset, 4):
        if cls == 2 and box[3] - box[1] == 40:
            np.testing.assert_array_equal(mask, _l_crop())
    split_without = CocoSplit(split.name, split.annotations, split.image_dir, split.categories,
                              split.images[3:], split.ground_truth, split.counts)
    with pytest.raises(ValueError, match="Expected images with objects to train on"):
        coco_pipeline.training_pipeline(split_without, batch_size=2, training=True, **SETTINGS)


def test_truncated_image_mid_epoch_with_one_warning(split, capfd):
    """An image cut short after a valid header: left out of training batches; a blank
    image without objects in evaluation batches, which keep their known length."""
    path = os.path.join(split.image_dir, "002.png")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    evaluation = coco_pipeline.training_pipeline(split, batch_size=2, training=False,
                                                 **SETTINGS)
    assert int(evaluation.cardinality()) == 2
    for _ in range(2):  # two epochs, one warning
        (x, y), _ = list(evaluation)
        assert not x["images"][1].numpy().any() and not y["valid"][1].numpy().any()
    training = coco_pipeline.training_pipeline(split, batch_size=2, training=True, **SETTINGS)
    found = _examples(training, 6)  # 3 epochs of the two readable images
    assert {cls for _, _, cls, _ in found} == {1, 2}  # the widget of image 2 never comes
    warnings = [line for line in capfd.readouterr().err.splitlines() if "keras-zoo" in line]
    assert len(warnings) == 2 and warnings[0].startswith(
        "keras-zoo: skipped train image id=2: Expected a readable image file. Received: "
        f"{path}")


def test_prediction_batches(split, tmp_path):
    paths = [image.path for image in split.images] + [str(tmp_path / "missing.png")]
    dataset = coco_pipeline.prediction_pipeline(paths, batch_size=3, ids=[7, 8, 9, 10, 11])
    batches = list(dataset)
    assert [ids.numpy().tolist() for _, ids in batches] == [[7, 8, 9], [10]]
    x, _ = batches[0]
    assert tuple(x["images"].shape) == (3, 64, 64, 3)  # 48x64 padded to multiples of 32
    np.testing.assert_array_equal(x["image_sizes"], [[48, 64]] * 3)
    np.testing.assert_array_equal(x["images"][0, :48], coco_pipeline.read_image(paths[0]))
    assert not x["images"][:, 48:].numpy().any()
