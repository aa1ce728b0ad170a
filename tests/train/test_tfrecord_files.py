"""train.datasets.tfrecord_files: shards in TF's ImageNet tooling layout (1-based labels,
0 the unused background class), counted from their framing, labels checked on opening,
bad records skipped and counted by the pipeline, shards split among input pipelines."""

import numpy as np
import pytest

from keras_zoo.train.datasets import SkippedImages, StreamedImageDataset, image_pipeline
from keras_zoo.train.datasets import tfrecord_files as tfr
from tests.train import image_folder_files as files

pytestmark = pytest.mark.no_keras_state  # tf.data only

SYNSETS = ("n01440764", "n01443537", "n01484850")


def _examples(count, seed=0, label_offset=1):
    """``count`` JPEGs of the tooling's records: label (1-based), synset."""
    rng = np.random.default_rng(seed)
    return [(files.encode(files.pixels(rng, i % 3), "jpeg"), i % 3 + label_offset,
             SYNSETS[i % 3]) for i in range(count)]


def _dataset(tmp_path, train=9, val=6, shards=3, **options):
    files.write_tfrecords(tmp_path, "train", _examples(train), shards)
    files.write_tfrecords(tmp_path, "validation", _examples(val, seed=1), 2)
    (tmp_path / "imagenet_lsvrc_2015_synsets.txt").write_text("\n".join(SYNSETS) + "\n")
    return StreamedImageDataset.from_folder(tmp_path, **options)


def test_reads_the_tooling_layout_with_its_label_offset(tmp_path):
    data = _dataset(tmp_path)
    assert data.layout == "tfrecord" and data.class_names == SYNSETS
    train = data.split("train")
    assert train.counts == (3, 3, 3) and train.num_examples == 9
    assert train.summary() == f"train ({tmp_path}): 9 images in 3 TFRecord files"
    batches = image_pipeline.evaluation_pipeline(
        train, batch_size=4, num_classes=3, skipped=data.skipped, crop_size=16, resize_size=16)
    images, labels, weights = (np.concatenate(part) for part in zip(*batches))
    assert list(weights) == [1] * 9
    assert sorted(labels) == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # image/class/label - 1
    # Each class is a colour: the label read is the image's class.
    for image, label in zip(images, labels):
        mean = image.reshape(-1, 3).mean(0)
        assert np.argmax(mean) == np.argmax(files.COLOURS[label])


def test_zero_based_records_need_label_offset_0(tmp_path):
    files.write_tfrecords(tmp_path, "train", _examples(4, label_offset=0), 1)
    with pytest.raises(ValueError, match=r"Expected image/class/label in \[1, 3\] \(3 classes, "
                                         r"label_offset 1\). Received: 0 in record 0 of .*train-"
                                         r"00000-of-00001; try --set label_offset=0"):
        StreamedImageDataset.from_folder(tmp_path, num_classes=3).split("train")
    split = StreamedImageDataset.from_folder(tmp_path, num_classes=3,
                                             label_offset=0).split("train")
    assert split.num_examples == 4


def test_class_names_file_and_num_classes_must_agree(tmp_path):
    with pytest.raises(ValueError, match=r"Expected --set num_classes=3, the lines of .*"
                                         r"synsets.txt. Received: num_classes=1000"):
        _dataset(tmp_path, num_classes=1000)


def test_truncated_shard_is_an_error_naming_it(tmp_path):
    paths = files.write_tfrecords(tmp_path, "train", _examples(3), 1)
    with open(paths[0], "rb") as f:
        data = f.read()
    with open(paths[0], "wb") as f:
        f.write(data[:-10])
    with pytest.raises(ValueError, match=r"Expected complete, uncompressed TFRecord files. "
                                         r"Received: .*train-00000-of-00001 ends inside "
                                         r"record 2 \(copy it again\)"):
        tfr.count_records(paths[0])


def test_bad_records_are_skipped_and_named(tmp_path, monkeypatch):
    examples = _examples(6)
    examples[2] = (b"\xff\xd8 not a jpeg", 3, SYNSETS[2])
    examples[4] = (examples[4][0], 7, SYNSETS[0])  # not a class
    files.write_tfrecords(tmp_path, "validation", examples, 1)
    monkeypatch.setattr(tfr, "CHECKED_RECORDS", 2)  # the opening check reads 2 records
    data = StreamedImageDataset.from_folder(tmp_path, num_classes=3)
    batches = image_pipeline.evaluation_pipeline(
        data.split("val"), batch_size=8, num_classes=3, skipped=data.skipped, crop_size=16,
        resize_size=16)
    labels, weights = (np.concatenate(part) for part in list(zip(*batches))[1:])
    assert list(weights) == [1, 1, 0, 1, 0, 1] and list(labels[weights == 1]) == [0, 1, 0, 2]
    counts, examples = data.skipped.take()
    assert counts == {"val": 2}
    assert examples["val"].startswith(f"record 2 of {tmp_path}/validation-00000-of-00001 (")
    assert data.split("val").describe((0 << 32) + 4) == (
        f"record 4 of {tmp_path}/validation-00000-of-00001 (label 7 is not a class with "
        f"label_offset 1)")


def test_shards_are_split_among_input_pipelines(tmp_path):
    data = _dataset(tmp_path, train=12, shards=4)
    train = data.split("train")
    by_shard = [sorted(int(i) >> 32 for _, i in train.examples(num_pipelines=2,
                                                                pipeline_index=k))
                for k in range(2)]
    assert by_shard == [[0, 0, 0, 2, 2, 2], [1, 1, 1, 3, 3, 3]]
    by_record = [len(list(train.examples(num_pipelines=5, pipeline_index=k)))
                 for k in range(5)]
    assert by_record == [3, 3, 2, 2, 2]  # fewer shards than pipelines: every 5th record
    skipped = SkippedImages()
    pipeline = image_pipeline.training_pipeline(train, batch_size=4, num_classes=3,
                                                skipped=skipped, crop_size=16,
                                                scale_range=(16, 24), seed=0)
    assert len(list(pipeline.take(5))) == 5 and skipped.take()[0] == {}  # endless, clean
