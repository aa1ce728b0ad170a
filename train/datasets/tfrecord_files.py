"""`TFRecordFiles`: one split of a classification dataset in TF's ImageNet TFRecord layout.

The layout TensorFlow's ImageNet tooling writes (``build_imagenet_data.py`` of
tensorflow/models, read by the TPU and Model Garden ImageNet recipes): shards
``train-00000-of-01024`` ... and ``validation-00000-of-00128`` in one folder,
each record a ``tf.train.Example`` with ``image/encoded`` (the JPEG file's bytes)
and ``image/class/label`` (int64); its other features (``image/class/synset``,
sizes, boxes) are not needed. `find_shards` finds them (``val-`` and ``test-``
shards too, with or without a ``.tfrecord`` suffix).

**Label offset.** That tooling numbers ImageNet's 1000 classes 1 to 1000 (in the
sorted order of their synsets) and reserves 0 for a "background" class no image
has (the Inception and slim models had 1001 outputs). A keras_zoo classifier has
``num_classes`` outputs, so labels are read as ``image/class/label -
label_offset`` with ``label_offset=1`` by default (``--set label_offset=0`` for
0-based records). `check_labels` reads the first records of each split when the
dataset is opened: a label outside ``[offset, offset + num_classes)`` is an
error naming the file and the other offset to try.

**Class names** come from a names file beside the shards (`CLASS_NAME_FILES`:
one name per line, line i names class i, e.g. the tooling's
``imagenet_lsvrc_2015_synsets.txt``), else ``num_classes`` numbers.

Record counts come from the files' framing (`count_records`: one small read and
a seek per record, no image read), so an epoch is one pass over the split; a
file that ends inside a record is an error naming it. A record whose image or
label cannot be used is skipped and counted by the pipeline
(`image_pipeline`); a checksum error in the middle of a shard ends that shard's
pass (TensorFlow logs it).
"""

import dataclasses
import io
import os
import re
import struct

import numpy as np
import tensorflow as tf

from .coco import _count

SHARD = re.compile(r"^(train|validation|val|test)-\d+-of-\d+(\.tfrecords?)?$")
SPLIT_OF_PREFIX = {"train": "train", "validation": "val", "val": "val", "test": "test"}
CLASS_NAME_FILES = ("synsets.txt", "labels.txt", "imagenet_lsvrc_2015_synsets.txt")
FEATURES = {"image/encoded": tf.io.FixedLenFeature([], tf.string),
            "image/class/label": tf.io.FixedLenFeature([], tf.int64)}
CHECKED_RECORDS = 256  # records of each split whose labels are checked on opening
_RECORD_BITS = 32  # an element's index: (shard number << 32) | record number


def find_shards(folder):
    """``{split: sorted shard paths}`` of the TFRecord shards in `folder` ("train", "val",
    "test"), empty when there are none."""
    shards = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            match = SHARD.match(entry.name)
            if match and entry.is_file():
                shards.setdefault(SPLIT_OF_PREFIX[match.group(1)], []).append(entry.path)
    return {split: tuple(sorted(paths)) for split, paths in shards.items()}


def count_records(path):
    """The number of records in TFRecord file `path`, from its framing (uint64 length, its
    CRC, the data, the data's CRC); a ValueError when the file ends inside a record."""
    size, count, position = os.path.getsize(path), 0, 0
    with open(path, "rb") as f:
        while position < size:
            header = f.read(12)
            end = position + 16 + (struct.unpack("<Q", header[:8])[0] if len(header) == 12
                                   else size)
            if end > size:
                raise ValueError(f"Expected complete, uncompressed TFRecord files. Received: "
                                 f"{path} ends inside record {count} (copy it again)")
            position, count = end, count + 1
            f.seek(position)
    return count


def class_names_for(folder, num_classes=None):
    """The class names of a TFRecord dataset: the first `CLASS_NAME_FILES` file in
    `folder` (its non-empty lines), else ``"0"`` ... ``str(num_classes - 1)`` (1000 when
    None); a ValueError when both are given and disagree."""
    for name in CLASS_NAME_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                names = tuple(line.strip() for line in f if line.strip())
            if num_classes is not None and num_classes != len(names):
                raise ValueError(f"Expected --set num_classes={len(names)}, the lines of "
                                 f"{path}. Received: num_classes={num_classes}")
            return names
    return tuple(str(i) for i in range(1000 if num_classes is None else num_classes))


def _parse(record):
    example = tf.io.parse_single_example(record, FEATURES)
    return example["image/encoded"], example["image/class/label"]


@dataclasses.dataclass(frozen=True, eq=False)
class TFRecordFiles:
    """The TFRecord shards of one split (see the module docstring).

    Build it with `TFRecordFiles.from_shards(name, files, ...)`.

    Attributes:
        name: the split ("train", "val", "test").
        where: the folder of the shards.
        files: the shard paths, sorted.
        counts: records per shard.
        class_names: the classes (label ``i`` is ``image/class/label - label_offset``).
        label_offset: subtracted from ``image/class/label`` (1 for TF's ImageNet tooling).
        shuffle_buffer: records in the training shuffle buffer (about 110 kB each for
            ImageNet: 4096 hold ~450 MB).
    """

    name: str
    where: str
    files: tuple
    counts: tuple
    class_names: tuple
    label_offset: int = 1
    shuffle_buffer: int = 4096

    @classmethod
    def from_shards(cls, name, files, *, class_names, label_offset=1, shuffle_buffer=4096):
        """Counts the records of `files` and checks the labels of the first ones."""
        split = cls(name, os.path.dirname(files[0]), tuple(files),
                    tuple(count_records(f) for f in files), tuple(class_names),
                    label_offset, shuffle_buffer)
        split.check_labels()
        return split

    @property
    def num_examples(self):
        return sum(self.counts)

    def check_labels(self):
        """ValueError when one of the first `CHECKED_RECORDS` labels is not a class."""
        low, high = self.label_offset, self.label_offset + len(self.class_names) - 1
        records = tf.data.TFRecordDataset(self.files[0]).take(CHECKED_RECORDS)
        for number, record in enumerate(records.map(_parse)):
            label = int(record[1])
            if not low <= label <= high:
                other = 0 if self.label_offset else 1
                raise ValueError(
                    f"Expected image/class/label in [{low}, {high}] ({len(self.class_names)} "
                    f"classes, label_offset {self.label_offset}). Received: {label} in record "
                    f"{number} of {self.files[0]}; try --set label_offset={other}, or a class "
                    f"names file ({', '.join(CLASS_NAME_FILES)}) with every class")

    def summary(self):
        """One line: ``train (/data/tfrecords): 1281167 images in 1024 TFRecord files``."""
        return (f"{self.name} ({self.where}): {_count(self.num_examples, ('image', 'images'))} "
                f"in {_count(len(self.files), ('TFRecord file', 'TFRecord files'))}")

    def examples(self, *, seed=None, num_pipelines=1, pipeline_index=0):
        """``(serialized record, index)`` of this input pipeline's share: every
        `num_pipelines`-th shard from `pipeline_index` (every `num_pipelines`-th record when
        there are fewer shards than pipelines). With `seed`: the shards shuffled every pass,
        read 16 at a time, records shuffled in a `shuffle_buffer`, repeated forever."""
        numbers = np.arange(len(self.files), dtype=np.int64)
        by_shard = len(self.files) >= num_pipelines
        if by_shard:
            numbers = numbers[pipeline_index::num_pipelines]
        files = tf.constant(self.files)
        dataset = tf.data.Dataset.from_tensor_slices(numbers)
        if seed is not None:
            dataset = dataset.shuffle(len(numbers), seed=seed, reshuffle_each_iteration=True)
            dataset = dataset.repeat()

        def records(number):
            shard = tf.data.TFRecordDataset(tf.gather(files, number)).ignore_errors(
                log_warning=True)
            return shard.enumerate().map(
                lambda i, record: (record, tf.bitwise.left_shift(number, _RECORD_BITS) + i))

        dataset = dataset.interleave(records, cycle_length=min(16, len(numbers)),
                                     num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if not by_shard:
            dataset = dataset.shard(num_pipelines, pipeline_index)
        if seed is not None:
            dataset = dataset.shuffle(self.shuffle_buffer, seed=seed,
                                      reshuffle_each_iteration=True)
        return dataset

    def shard_size(self, num_pipelines=1, pipeline_index=0):
        """The number of records `examples` gives that input pipeline (one pass)."""
        if len(self.files) >= num_pipelines:
            return sum(self.counts[pipeline_index::num_pipelines])
        return len(range(pipeline_index, self.num_examples, num_pipelines))

    def read(self, source, index):
        """``(encoded image bytes, label)`` of a serialized record (in the graph)."""
        encoded, label = _parse(source)
        return encoded, label - self.label_offset

    def describe(self, index):
        """Which record `index` is (shard and number) and why it cannot be used."""
        shard, number = self.files[int(index) >> _RECORD_BITS], int(index) & (
            (1 << _RECORD_BITS) - 1)
        where = f"record {number} of {shard}"
        record = next(iter(tf.data.TFRecordDataset(shard).skip(number).take(1)), None)
        if record is None:
            return f"{where} (unreadable)"
        example = tf.train.Example.FromString(record.numpy()).features.feature
        labels = example["image/class/label"].int64_list.value
        images = example["image/encoded"].bytes_list.value
        if len(labels) != 1 or len(images) != 1:
            return f"{where} (without one image/encoded and one image/class/label)"
        label = labels[0] - self.label_offset
        if not 0 <= label < len(self.class_names):
            return (f"{where} (label {labels[0]} is not a class with label_offset "
                    f"{self.label_offset})")
        from PIL import Image

        try:
            with Image.open(io.BytesIO(images[0])) as image:
                image.convert("RGB")
        except (OSError, ValueError, SyntaxError) as error:
            return f"{where} ({type(error).__name__}: {error})"
        return f"{where} (TensorFlow cannot decode its image)"
