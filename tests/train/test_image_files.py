"""train.datasets.image_files and streamed_image_dataset: listing image folders in every
layout (ImageNet's, a folder of classes, a flat val/ with a label file, TFRecords), each
bad-input case as a small broken folder: one error naming the path, or a counted skip."""

import os

import numpy as np
import pytest

from keras_zoo.train.datasets import ImageFiles, StreamedImageDataset
from tests.train import image_folder_files as files

pytestmark = pytest.mark.no_keras_state  # files, NumPy and tf.data only


def _imagenet(root, train=None, val=None):
    files.write_class_tree(os.path.join(root, "train"), train or {"b_dog": 4, "a_cat": 3})
    files.write_class_tree(os.path.join(root, "val"), val or {"a_cat": 2, "b_dog": 1}, seed=1)
    return str(root)


def test_imagenet_layout(tmp_path):
    root = _imagenet(tmp_path)
    (tmp_path / "train" / "b_dog" / "notes.txt").write_text("not an image")
    (tmp_path / "train" / "b_dog" / ".DS_Store").write_bytes(b"\0")
    os.makedirs(tmp_path / "train" / ".ipynb_checkpoints")
    nested = files.write_image(str(tmp_path / "train" / "a_cat" / "more" / "x.png"),
                               np.zeros((8, 8, 3), np.uint8), "png")
    lines = []
    data = StreamedImageDataset.from_folder(root, log=lines.append)
    assert (data.layout, data.class_names, data.num_classes) == ("imagenet",
                                                                 ("a_cat", "b_dog"), 2)
    assert data.has("train") and data.has("val") and not data.has("test")
    train = data.split("train")
    assert train.num_examples == 8 and list(train.labels) == [0] * 4 + [1] * 4
    assert nested in train.paths  # sub-folders of a class folder belong to it
    assert train.summary() == (f"train ({root}/train): 8 images in 2 classes; skipped: 1 file "
                               f"that is not an image (e.g. {root}/train/b_dog/notes.txt)")
    val = data.split("val")
    assert list(val.labels) == [0, 0, 1]
    assert lines == [train.summary(), val.summary()]  # logged when first listed
    with pytest.raises(ValueError, match=r"Expected a split of .* train, val. Received: "
                                         r"split='test'"):
        data.split("test")


def test_a_folder_of_classes_holds_out_stratified_parts(tmp_path):
    files.write_class_tree(tmp_path, {"a": 20, "b": 10, "c": 30})
    data = StreamedImageDataset.from_folder(tmp_path, validation_split=0.1, test_split=0.2,
                                            seed=3)
    assert data.layout == "classes" and data.class_names == ("a", "b", "c")
    parts = {s: data.split(s) for s in ("train", "val", "test")}
    assert {s: list(np.bincount(p.labels)) for s, p in parts.items()} == {
        "train": [14, 7, 21], "val": [2, 1, 3], "test": [4, 2, 6]}
    assert len(set().union(*(p.paths for p in parts.values()))) == 60  # disjoint, complete
    again = StreamedImageDataset.from_folder(tmp_path, validation_split=0.1, test_split=0.2,
                                             seed=3)
    assert again.split("test").paths == parts["test"].paths  # the same seed, the same parts
    other = StreamedImageDataset.from_folder(tmp_path, validation_split=0.1, test_split=0.2,
                                             seed=4)
    assert other.split("test").paths != parts["test"].paths
    counted = StreamedImageDataset.from_folder(tmp_path, validation_split=12)
    assert counted.split("val").num_examples == 12 and not counted.has("test")


def test_flat_val_folder_with_a_label_file(tmp_path):
    root = _imagenet(tmp_path, val={"a_cat": 0, "b_dog": 0})
    pixels = np.zeros((16, 16, 3), np.uint8)
    for i in range(4):
        files.write_image(str(tmp_path / "val" / f"ILSVRC2012_val_{i:08d}.JPEG"), pixels)
    # Kaggle's LOC_val_solution.csv: a header, ids without extension, class then boxes.
    (tmp_path / "LOC_val_solution.csv").write_text(
        "ImageId,PredictionString\n" + "".join(
            f"ILSVRC2012_val_{i:08d},{c} 1 2 3 4 {c} 5 6 7 8\n"
            for i, c in enumerate(["b_dog", "a_cat", "a_cat"])))
    data = StreamedImageDataset.from_folder(root)
    val = data.split("val")
    assert [os.path.basename(p) for p in val.paths] == [
        f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(3)]
    assert list(val.labels) == [1, 0, 0]
    assert "skipped: 1 image without a label (e.g." in val.summary()
    # Caffe's val.txt: file name and the 0-based index of the sorted classes.
    caffe = tmp_path / "caffe_val.txt"
    caffe.write_text("ILSVRC2012_val_00000000.JPEG 0\nILSVRC2012_val_00000003.JPEG 1\n")
    val = StreamedImageDataset.from_folder(root, val_labels=str(caffe)).split("val")
    assert list(val.labels) == [0, 1]


def test_tfrecord_layout_is_found(tmp_path):
    encoded = files.encode(files.pixels(np.random.default_rng(0), 0), "jpeg")
    files.write_tfrecords(tmp_path, "train", [(encoded, 1, "n0")] * 3, 2)
    files.write_tfrecords(tmp_path, "validation", [(encoded, 2, "n1")] * 2, 1)
    data = StreamedImageDataset.from_folder(tmp_path, num_classes=2)
    assert data.layout == "tfrecord" and data.class_names == ("0", "1")
    assert (data.split("train").num_examples, data.split("val").num_examples) == (3, 2)


@pytest.mark.parametrize("make, error, message", [
    (lambda root: files.write_class_tree(root, {"only": 3}), ValueError,
     r"Expected at least two class folders in .* Received: 1 \(\['only'\]\)"),
    (lambda root: (files.write_class_tree(root, {"a": 2}), os.makedirs(os.path.join(
        root, "b"))), ValueError,
     r"Expected image files .* in every class folder. Received: .*/b holds none; add images "
     r"or remove the folder"),
    (lambda root: (files.write_class_tree(root, {"a": 2}), open(os.path.join(
        root, "b.txt"), "w").close(), os.makedirs(os.path.join(root, "b")),
        open(os.path.join(root, "b", "read.me"), "w").close()), ValueError,
     r"Received: .*/b holds none"),
    (lambda root: _imagenet(root, val={"a_cat": 1, "zebra": 1}), ValueError,
     r"Expected the class folders of .*/val among the 2 training classes. Received: "
     r".*/val/zebra, not a training class"),
    (lambda root: (_imagenet(root, val={"a_cat": 0}), files.write_image(
        os.path.join(root, "val", "x.JPEG"), np.zeros((4, 4, 3), np.uint8))),
     FileNotFoundError, r"Expected class folders in .*/val, or a label file for its images "
     r"\(LOC_val_solution.csv, val_labels.txt, val.txt in"),
])
def test_bad_folders_are_one_error_naming_the_path(tmp_path, make, error, message):
    make(str(tmp_path))
    with pytest.raises(error, match=message):
        StreamedImageDataset.from_folder(tmp_path).split("train")
        StreamedImageDataset.from_folder(tmp_path).split("val")


def test_bad_label_files(tmp_path):
    root = _imagenet(tmp_path, val={"a_cat": 0})
    files.write_image(str(tmp_path / "val" / "v1.JPEG"), np.zeros((4, 4, 3), np.uint8))
    labels = tmp_path / "val.txt"
    labels.write_text("v1.JPEG zebra\n")
    with pytest.raises(ValueError, match=r"Expected each line of .*val.txt to be a file name "
                                         r"and a class .* Received: line 1: 'v1.JPEG zebra'"):
        StreamedImageDataset.from_folder(root).split("val")
    labels.write_text("v1.JPEG 1\nv2.JPEG 0\n")
    with pytest.raises(FileNotFoundError, match=r"Expected the files .*val.txt lists in "
                                                r".*val. Received: 1 missing, e.g. 'v2.JPEG'"):
        StreamedImageDataset.from_folder(root).split("val")


def test_settings_that_do_not_fit_the_layout(tmp_path):
    root = _imagenet(tmp_path)
    with pytest.raises(ValueError, match=r"Expected no --validation-split: .*/val validates"):
        StreamedImageDataset.from_folder(root, validation_split=0.1)
    with pytest.raises(FileNotFoundError, match=r"Expected --data-dir to be a folder of images"):
        StreamedImageDataset.from_folder(tmp_path / "nope")
    with pytest.raises(ValueError, match=r"Expected validation_split a count of images or a "
                                         r"fraction in \[0, 1\). Received: validation_split=-1"):
        StreamedImageDataset.from_folder(root, validation_split=-1)
    with pytest.raises(ValueError, match=r"Expected the class folders of .*/train to be the "
                                         r"run's 3 classes"):
        StreamedImageDataset.from_folder(root, class_names=("a_cat", "b_dog", "c"))
    classes = tmp_path / "classes"
    files.write_class_tree(classes, {"a": 2, "b": 2})
    with pytest.raises(ValueError, match=r"Expected the held-out parts to leave training "
                                         r"images"):
        StreamedImageDataset.from_folder(classes, validation_split=0.5,
                                         test_split=0.5).split("val")


def test_examples_shard_the_files(tmp_path):
    files.write_class_tree(tmp_path, {"a": 5, "b": 6})
    split = ImageFiles.from_class_folders(tmp_path, name="train")
    shards = [[int(i) for _, i in split.examples(num_pipelines=3, pipeline_index=k)]
              for k in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]  # each reads only its files
    epochs = split.examples(seed=1).take(22)
    order = [int(i) for _, i in epochs]
    assert sorted(order[:11]) == sorted(order[11:]) == list(range(11))  # every pass: all
    assert order[:11] != order[11:]  # shuffled anew


def test_nothing_in_the_data_folder_is_written(tmp_path):
    root = _imagenet(tmp_path)
    before = files.snapshot(root)
    data = StreamedImageDataset.from_folder(root)
    for split in ("train", "val"):
        list(data.split(split).examples())
    assert files.snapshot(root) == before
