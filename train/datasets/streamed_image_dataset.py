"""`StreamedImageDataset`: a classification dataset read from its files as training goes.

`StreamedImageDataset.from_folder(data_dir)` recognises three layouts (`LAYOUTS`):

- ``"tfrecord"``: TFRecord shards as TF's ImageNet tooling writes them
  (``train-00000-of-01024``, ``validation-...``; `tfrecord_files`);
- ``"imagenet"``: ``train/<class>/...`` beside ``val/<class>/...`` (or
  ``validation/``), or ``val/`` as one folder of images and a label file (the
  ``val_labels`` argument, else the first of `LABEL_FILES` found in `data_dir` or
  ``val/``), and optionally ``test/<class>/...``;
- ``"classes"``: any folder holding one folder per class (your own photos).

Splits: "val" is the val folder (or validation shards), else ``validation_split``
of the training images held out; "test" is the test folder (or shards), else,
when there is no val folder either, ``test_split`` of the training images held
out. Held-out parts are stratified (every class gives the same share) and follow
from ``seed``, so the same folder and settings give the same parts again (``keras-zoo
evaluate`` finds the run's test images). A flat ``test/`` (ImageNet's, without
labels) is not used.

Class names are the training class folders' names, sorted (torchvision's
``ImageFolder`` order, which for ImageNet is the synsets' order), or the names a
run stored; each split is listed (file names only, no image opened) when first
used, and its one-line summary logged. Nothing is ever written into `data_dir`.
"""

import os

from . import tfrecord_files
from .image_files import ImageFiles, class_folders
from .skipped_images import SkippedImages

LAYOUTS = ("tfrecord", "imagenet", "classes")
VAL_FOLDERS = ("val", "validation")
LABEL_FILES = ("LOC_val_solution.csv", "val_labels.txt", "val.txt")


def _fraction_or_count(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
            isinstance(value, float) and value >= 1 and not value.is_integer()):
        raise ValueError(f"Expected {name} a count of images or a fraction in [0, 1). "
                         f"Received: {name}={value!r}")
    return value


class StreamedImageDataset:
    """An image folder or TFRecord set: its classes and splits (see the module docstring).

    Build it with `StreamedImageDataset.from_folder`.

    Attributes:
        where: the dataset's folder.
        layout: one of `LAYOUTS`.
        class_names: the classes, a tuple of str (label i is class_names[i]).
        skipped: the `SkippedImages` of this dataset's pipelines.
        log: called with each split's one-line summary when it is listed (None: silent).
    """

    def __init__(self, where, layout, class_names, readers, *, log=None):
        self.where, self.layout, self.class_names = where, layout, tuple(class_names)
        self._readers = dict(readers)  # {split: () -> ImageFiles | TFRecordFiles}
        self._splits = {}
        self.log = log
        self.skipped = SkippedImages()

    @classmethod
    def from_folder(cls, data_dir, *, class_names=None, validation_split=0, test_split=0,
                    seed=0, val_labels=None, label_offset=1, num_classes=None,
                    shuffle_buffer=4096, log=None):
        """The dataset in `data_dir` (see the module docstring).

        Args:
            data_dir: the dataset's folder.
            class_names: the classes a run was trained on (their order gives the labels);
                None: the training folders' (or the TFRecord names file's).
            validation_split, test_split: images held out of the training folder for
                validation / testing when it has no such folder: a count or a fraction
                in (0, 1); 0: none.
            seed: the held-out parts follow from it.
            val_labels: the label file of a flat ``val/`` folder (None: looked for).
            label_offset, num_classes, shuffle_buffer: TFRecords (`TFRecordFiles`).
            log: called with each split's summary line.

        Raises:
            FileNotFoundError, ValueError: a missing folder, an unknown layout, bad class
                folders or label files (`ImageFiles`), bad TFRecords (`TFRecordFiles`).
        """
        data_dir = os.path.abspath(os.fspath(data_dir))
        if not os.path.isdir(data_dir):
            raise FileNotFoundError(f"Expected --data-dir to be a folder of images (one folder "
                                    f"per class, or train/ and val/ of them) or of TFRecord "
                                    f"shards. Received: {data_dir!r} is not a directory")
        validation_split = _fraction_or_count("validation_split", validation_split)
        test_split = _fraction_or_count("test_split", test_split)
        shards = tfrecord_files.find_shards(data_dir)
        if shards:
            if validation_split:
                raise ValueError(f"Expected no --validation-split for TFRecords (their "
                                 f"validation-* shards validate). Received: {validation_split}")
            names = class_names or tfrecord_files.class_names_for(data_dir, num_classes)
            readers = {split: _tfrecords(split, files, names, label_offset, shuffle_buffer)
                       for split, files in shards.items()}
            return cls(data_dir, "tfrecord", names, readers, log=log)
        train = os.path.join(data_dir, "train")
        layout = "imagenet" if os.path.isdir(train) and class_folders(train) else "classes"
        train = train if layout == "imagenet" else data_dir
        found = tuple(class_folders(train))
        if class_names is not None and tuple(class_names) != found:
            raise ValueError(f"Expected the class folders of {train} to be the run's "
                             f"{len(class_names)} classes. Received: {len(found)} folders, "
                             f"{sorted(set(found) ^ set(class_names))[:5]} differ")
        names = tuple(class_names or found)
        readers = {"train": lambda: ImageFiles.from_class_folders(train, name="train")}
        val = next((os.path.join(data_dir, f) for f in VAL_FOLDERS if layout == "imagenet"
                    and os.path.isdir(os.path.join(data_dir, f))), None)
        test = os.path.join(data_dir, "test")
        has_test = layout == "imagenet" and os.path.isdir(test) and bool(class_folders(test))
        if val is not None:
            if validation_split:
                raise ValueError(f"Expected no --validation-split: {val} validates. Received: "
                                 f"validation_split={validation_split}")
            readers["val"] = _val_reader(val, data_dir, val_labels, names)
        if has_test:
            readers["test"] = lambda: ImageFiles.from_class_folders(test, name="test",
                                                                    class_names=names)
        held_out = {"val": validation_split if val is None else 0,
                    "test": test_split if val is None and not has_test else 0}
        readers.update(_held_out(readers["train"], held_out, seed))
        return cls(data_dir, layout, names, readers, log=log)

    @property
    def num_classes(self):
        return len(self.class_names)

    def has(self, split):
        """Whether the dataset has `split`."""
        return split in self._readers

    def split(self, split):
        """The `ImageFiles` or `TFRecordFiles` of `split`, listed (and its summary logged)
        on first use; a ValueError for a split the dataset lacks."""
        if split not in self._readers:
            raise ValueError(f"Expected a split of {self.where}: {', '.join(self._readers)}. "
                             f"Received: split={split!r}")
        if split not in self._splits:
            self._splits[split] = self._readers[split]()
            if self.log is not None:
                self.log(self._splits[split].summary())
        return self._splits[split]


def _tfrecords(split, files, names, label_offset, shuffle_buffer):
    return lambda: tfrecord_files.TFRecordFiles.from_shards(
        split, files, class_names=names, label_offset=label_offset,
        shuffle_buffer=shuffle_buffer)


def _val_reader(val, data_dir, val_labels, names):
    """Lists `val` from its class folders, or from its images and a label file."""
    if class_folders(val):
        return lambda: ImageFiles.from_class_folders(val, name="val", class_names=names)
    candidates = [val_labels] if val_labels else [
        os.path.join(folder, name) for folder in (data_dir, val) for name in LABEL_FILES]
    label_file = next((p for p in candidates if os.path.isfile(p)), None)
    if label_file is None:
        raise FileNotFoundError(
            f"Expected class folders in {val}, or a label file for its images "
            f"({', '.join(LABEL_FILES)} in {data_dir}, or --set val_labels=PATH). Received: "
            + (f"{val_labels!r} does not exist" if val_labels else "neither"))
    return lambda: ImageFiles.from_label_file(val, label_file, name="val", class_names=names)


def _held_out(train, counts, seed):
    """Readers of ``train`` less the held-out parts and of the parts (``{split: count}``,
    0 for none): one listing of the training folder, split once."""
    wanted = {split: n for split, n in counts.items() if n}
    if not wanted:
        return {}
    cache = {}

    def part(split):
        if not cache:
            parts = train().parts(list(wanted.values()), seed, ["train", *wanted])
            cache.update(zip(["train", *wanted], parts))
        return cache[split]

    return {split: (lambda split=split: part(split)) for split in ["train", *wanted]}
