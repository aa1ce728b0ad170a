"""train.datasets.digits_instances: the shipped COCO-format dataset is deterministic, reads
back through the COCO loader with nothing skipped, and is generated once into the cache."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from keras_zoo.train.datasets import coco_masks, digits_instances
from keras_zoo.train.datasets.coco_dataset import CocoDataset

pytestmark = pytest.mark.no_keras_state  # NumPy and files only: see tests/conftest.py

SMALL = {"train": (0, 100, 8), "val": (100, 150, 3)}


def _files(folder):
    """Every generated file: JSON documents and PNG pixels."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            key = os.path.relpath(path, folder)
            if name.endswith(".json"):
                with open(path) as f:
                    found[key] = json.load(f)
            else:
                found[key] = np.asarray(Image.open(path)).tolist()
    return found


def test_generation_is_deterministic_and_reads_back(tmp_path):
    for name in ("a", "b"):
        os.makedirs(tmp_path / name)
        digits_instances.generate(tmp_path / name, splits=SMALL)
    first = _files(tmp_path / "a")
    assert first == _files(tmp_path / "b")  # integer pixels and JSON: exact
    assert len(first) == 2 + 8 + 3
    data = CocoDataset.from_folder(tmp_path / "a")
    for split in SMALL:
        coco = data.split(split)
        objects = coco.counts["objects"]
        assert coco.summary() == (f"{split} (instances_{split}.json): "
                                  f"{SMALL[split][2]} images, {objects} objects")
        assert objects >= 2 * SMALL[split][2]
        for ann in coco.ground_truth.dataset["annotations"]:
            image = coco.ground_truth.imgs[ann["image_id"]]
            assert 112 <= image["height"] <= 160 and 112 <= image["width"] <= 160
            mask = coco_masks.rle_to_mask(ann["segmentation"], image["height"], image["width"])
            ys, xs = np.nonzero(mask)
            assert ann["area"] == mask.sum() > 0
            assert ann["bbox"] == [xs.min(), ys.min(), xs.max() + 1 - xs.min(),
                                   ys.max() + 1 - ys.min()]  # the mask's tight box
    assert data.categories.names == tuple(str(d) for d in range(10))
    assert data.categories.ids == tuple(range(1, 11))


def test_canvas_digits_come_from_the_split_scans():
    scans, labels = digits_instances._scans()
    rng = np.random.default_rng(0)
    pixels, instances = digits_instances.render_canvas(rng, scans, labels, (5, 6))
    assert pixels.dtype == np.uint8 and pixels.shape[2] == 3
    assert 2 <= len(instances) <= 6
    assert {label for label, _ in instances} == {int(labels[5])}
    for _, mask in instances:  # occlusion leaves each digit most of its pixels
        assert mask.sum() > 0


def test_generated_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_ZOO_CACHE", str(tmp_path / "cache"))
    assert digits_instances.cache_root() == str(tmp_path / "cache")
    monkeypatch.setattr(digits_instances, "SPLITS", SMALL)
    folder = digits_instances.digits_instances_dir()
    assert folder == str(tmp_path / "cache" / digits_instances.NAME)
    stamp = os.stat(os.path.join(folder, "annotations", "instances_train.json")).st_mtime_ns
    assert digits_instances.digits_instances_dir() == folder
    assert os.stat(os.path.join(folder, "annotations",
                                "instances_train.json")).st_mtime_ns == stamp
    assert os.listdir(tmp_path / "cache") == [digits_instances.NAME]  # no scratch left
    monkeypatch.delenv("KERAS_ZOO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert digits_instances.cache_root() == str(tmp_path / "xdg" / "keras_zoo")
