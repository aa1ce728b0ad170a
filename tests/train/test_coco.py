"""train.datasets.coco: reading COCO-format files (tests/train/coco_files.py), every
bad-input case as a small broken file: one clear error naming the file and the id,
or a skip counted in the summary."""

import json
import os

import numpy as np
import pytest

from keras_zoo.train.datasets.coco import CocoSplit
from keras_zoo.train.datasets.coco_categories import CocoCategories
from keras_zoo.train.datasets.coco_dataset import CocoDataset
from tests.train import coco_files
from tests.train.coco_files import tiny_coco, tiny_document, write_coco

pytestmark = pytest.mark.no_keras_state  # files and NumPy only: see tests/conftest.py


def test_reads_every_annotation_kind(tmp_path):
    annotations, images = tiny_coco(tmp_path)
    split = CocoSplit.read(annotations, images, name="train")
    assert split.categories.ids == (3, 90, 1000)  # classifier indices 1, 2, 3 by id
    assert split.categories.names == ("car", "toothbrush", "widget")
    by_id = {image.id: image for image in split.images}
    assert sorted(by_id) == [1, 2, 3, 4]
    np.testing.assert_array_equal(by_id[1].boxes, [[4, 6, 24, 16], [10, 20, 30, 40]])
    np.testing.assert_array_equal(by_id[1].classes, [1, 2])
    np.testing.assert_array_equal(by_id[2].classes, [3])  # the crowd region is left out
    assert isinstance(by_id[2].segmentations[0]["counts"], list)  # uncompressed RLE kept
    assert [image.id for image in split.training_images()] == [1, 2, 3]  # 4 has no object
    assert len(split.training_images(skip_empty=False)) == 4
    # The evaluator's ground truth keeps the crowd region, fills in area and iscrowd.
    gt = split.ground_truth
    assert sorted(gt.getAnnIds()) == [11, 12, 21, 22, 31]
    assert gt.anns[22]["iscrowd"] == 1 and gt.anns[31]["iscrowd"] == 0
    assert gt.anns[31]["area"] == 16 * 24
    assert split.summary() == ("train (instances_train.json): 4 images, 4 objects; left out: "
                               "1 crowd region; skipped: 1 image without objects")
    assert split.summary(training=False) == ("train (instances_train.json): 4 images, "
                                             "4 objects; left out: 1 crowd region")


def test_categories_map_both_ways():
    cats = CocoCategories.from_coco(coco_files.CATEGORIES)
    assert [cats.index_of(i) for i in (3, 90, 1000)] == [1, 2, 3]
    assert [cats.id_of(i) for i in (1, 2, 3)] == [3, 90, 1000]
    assert cats.name_of(3) == "widget" and cats.num_classes == 4
    assert CocoCategories.from_json(json.loads(json.dumps(cats.to_json()))) == cats


def _broken(tmp_path, change):
    document = tiny_document()
    change(document)
    annotations, images = write_coco(tmp_path, document, images=False)
    coco_files.write_images(images, tiny_document())
    return annotations, images


def _set(path, value):
    """A change: ``document[path[0]][path[1]]...[path[-1]] = value``."""
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _delete(path):
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


ERRORS = {
    "no annotations list": (_delete(["annotations"]), r"with an 'annotations' list"),
    "image without width": (_delete(["images", 1, "width"]),
                            r"every image .* Received: image id=2 without width"),
    "duplicate image id": (_set(["images", 1, "id"], 1), r"unique image ids .* id 1 twice"),
    "category without name": (_delete(["categories", 0, "name"]), r"an int 'id' and a 'name'"),
    "duplicate category id": (_set(["categories", 1, "id"], 90), r"unique category ids"),
    "annotation without bbox": (_delete(["annotations", 2, "bbox"]),
                                r"Received: annotation id=21 without bbox"),
    "duplicate annotation id": (_set(["annotations", 1, "id"], 11),
                                r"unique annotation ids .* id 11 twice"),
    "unknown image id": (_set(["annotations", 0, "image_id"], 77),
                         r"image_id of annotation id=11 .* image_id=77"),
    "unknown category id": (_set(["annotations", 1, "category_id"], 7),
                            r"category_id of annotation id=12 .* \[3, 90, 1000\]. "
                            r"Received: category_id=7"),
    "bbox of 3 numbers": (_set(["annotations", 0, "bbox"], [1, 2, 3]),
                          r"annotation id=11 .* bbox \[x, y, width, height\]"),
    "negative bbox width": (_set(["annotations", 0, "bbox"], [30, 2, -5, 4]),
                            r"annotation id=11 .* width and height >= 0"),
    "non-finite bbox": (_set(["annotations", 0, "bbox"], [1, 2, float("nan"), 4]),
                        r"annotation id=11 .* finite numbers"),
    "segmentation a string": (_set(["annotations", 0, "segmentation"], "abc"),
                              r"annotation id=11 .* polygon list or an RLE dict"),
    "RLE of another size": (_set(["annotations", 1, "segmentation", "size"], [64, 48]),
                            r"annotation id=12 .* image's size \[48, 64\]"),
    "RLE runs short": (_set(["annotations", 2, "segmentation", "counts"], [5, 10, 20]),
                       r"annotation id=21 .* summing to height \* width = 3072. "
                       r"Received: runs summing to 35"),
    "RLE string cut": (_set(["annotations", 1, "segmentation", "counts"], "0`"),
                       r"annotation id=12 .* ends inside a run length"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_annotation_files_raise_one_clear_error(tmp_path, case):
    change, message = ERRORS[case]
    annotations, images = _broken(tmp_path, change)
    with pytest.raises(ValueError, match=message) as raised:
        CocoSplit.read(annotations, images, name="train")
    assert "\n" not in str(raised.value)
    if case not in ("category without name", "duplicate category id"):
        assert annotations in str(raised.value)  # names the file


def test_unreadable_json(tmp_path):
    path, images = tiny_coco(tmp_path)
    with open(path, "w") as f:
        f.write('{"images": [')
    with pytest.raises(ValueError, match=rf"Expected COCO-format annotations \(JSON\) in {path}"):
        CocoSplit.read(path, images, name="train")


def test_missing_and_resized_image_files(tmp_path):
    annotations, images = tiny_coco(tmp_path)
    os.remove(os.path.join(images, "002.png"))
    with pytest.raises(FileNotFoundError, match=r"Received: 1 missing, the first image id=2 "
                                                r"'002.png'"):
        CocoSplit.read(annotations, images, name="train")
    coco_files.write_images(images, {"images": [
        {"file_name": "002.png", "height": 20, "width": 64}]})
    with pytest.raises(ValueError, match=r"image id=2 .* of the size in .*instances_train.json, "
                                         r"48x64 \(height x width\). Received: 20x64"):
        CocoSplit.read(annotations, images, name="train")
    with pytest.raises(FileNotFoundError, match="image folder"):
        CocoSplit.read(annotations, tmp_path / "nowhere", name="train")


def test_skipped_objects_and_images_are_counted(tmp_path):
    def change(document):
        anns = document["annotations"]
        anns[0]["bbox"] = [70, 50, 5, 5]  # outside the 64x48 image
        anns[1]["bbox"] = [10, 20, 0, 20]  # zero width
        anns[2]["bbox"] = [50, 30, 30, 30]  # partly outside: clipped to [50, 30, 64, 48]
        anns[4]["segmentation"] = [[1, 2, 3, 4], [5, 5, 6, 6, 7, 7]]  # 2 points; collinear
        anns.append({"id": 41, "image_id": 4, "category_id": 3, "bbox": [1, 1, 9, 9],
                     "segmentation": []})  # empty polygon list
        anns.append({"id": 42, "image_id": 4, "category_id": 3, "bbox": [1, 1, 9, 9]})
        anns.append({"id": 43, "image_id": 3, "category_id": 3, "bbox": [2, 2, 10, 10],
                     "segmentation": [[2, 2, 12, 2], coco_files.rectangle_polygon(
                         2, 2, 12, 12)[0]]})  # a degenerate polygon beside a valid one
        document["images"].append({"id": 5, "file_name": "005.png", "height": 48,
                                   "width": 64})
    annotations, images = _broken(tmp_path, change)
    with open(os.path.join(images, "005.png"), "wb") as f:
        f.write(b"not an image at all")
    split = CocoSplit.read(annotations, images, name="train")
    by_id = {image.id: image for image in split.images}
    assert 5 not in by_id and split.unreadable == (os.path.join(images, "005.png"),)
    np.testing.assert_array_equal(by_id[2].boxes, [[50, 30, 64, 48]])
    assert len(by_id[1].boxes) == 0 and [len(by_id[3].boxes)] == [1]
    assert by_id[3].segmentations[0] == [[2, 2, 12, 2, 12, 12, 2, 12]]
    assert split.summary() == (
        "train (instances_train.json): 4 images, 2 objects; left out: 1 crowd region, 2 boxes "
        "without area, 3 objects without a usable segmentation; 1 box clipped to the image; "
        "skipped: 1 unreadable image file (e.g. 005.png), 2 images without objects")
    assert sorted(split.ground_truth.getAnnIds()) == [21, 22, 43]  # what can be evaluated


def test_dataset_folder_layouts_and_lazy_splits(tmp_path):
    tiny_coco(tmp_path, "train")
    tiny_coco(tmp_path, "val")
    logged = []
    data = CocoDataset.from_folder(tmp_path, log=logged.append)
    assert data.has("train") and data.has("val") and not data.has("test")
    assert data.split("val").categories.ids == (3, 90, 1000)  # the training split's
    assert [line.split(" ")[0] for line in logged] == ["train", "val"]
    with pytest.raises(ValueError, match=r"split of the coco dataset: train, val. "
                                         r"Received: split='test'"):
        data.split("test")
    coco2017 = tmp_path / "c17"
    tiny_coco(coco2017, "val2017")
    assert CocoDataset.from_folder(coco2017).files["val"][1] == str(coco2017 / "val2017")
    with pytest.raises(FileNotFoundError, match="annotations/instances_train2017.json"):
        CocoDataset.from_folder(tmp_path / "train")


def test_validation_categories_must_be_the_training_ones(tmp_path):
    tiny_coco(tmp_path, "train")
    document = tiny_document()
    document["categories"].append({"id": 5, "name": "new"})
    document["annotations"][0]["category_id"] = 5
    write_coco(tmp_path, document, "val")
    data = CocoDataset.from_folder(tmp_path)
    with pytest.raises(ValueError, match=r"instances_val.json among the categories "
                                         r"\[3, 90, 1000\]. Received: category_id=5"):
        data.split("val")
    stored = CocoCategories.from_json(data.categories.to_json())
    assert CocoDataset.from_folder(tmp_path, categories=stored).split("train").categories \
        == stored
