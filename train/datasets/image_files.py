"""`ImageFiles`: the image files of one split of a folder dataset, and their labels.

A split is listed from class folders (``train/<class>/...``, ``<class>/...``:
`ImageFiles.from_class_folders`, every file under a class folder, sub-folders
included, as torchvision's ``ImageFolder``) or from one flat folder and a label
file (ImageNet's ``val/`` with ``LOC_val_solution.csv`` or Caffe's ``val.txt``:
`ImageFiles.from_label_file`). Only names are read: no image is opened, so
listing ImageNet's 1.28M training files takes one walk of the tree, and the
images are decoded by the pipeline when it reaches them (`image_pipeline`).

Errors (ValueError / FileNotFoundError naming the path; ``keras-zoo`` exits 2):

- the folder does not exist or holds no class folder;
- a training split with fewer than two classes, or a class folder without an
  image file (add images or remove the folder);
- a validation or test class folder whose name is not a training class;
- a label file line without a file name and a label, naming a class that is not
  a training class (or an index out of range), or a file that is not there.

Skips (counted in the split's one-line `ImageFiles.summary`):

- files that are not images by their extension (`IMAGE_EXTENSIONS`: what
  TensorFlow decodes), e.g. ``README.txt``, ``.tif``; hidden files and folders
  (``.DS_Store``, ``.ipynb_checkpoints``) are left out silently;
- images of a flat validation folder that the label file does not list.

A file whose extension says image but whose data is not a readable image
(corrupt, truncated, unreadable) is found when the pipeline decodes it: it is
skipped and counted then (`SkippedImages`).
"""

import dataclasses
import os
import re

import numpy as np
import tensorflow as tf

from .coco import _count
from .coco_pipeline import read_image

IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".gif", ".bmp", ".webp")
_NOT_IMAGES = ("file that is not an image", "files that are not images")
_UNLABELLED = ("image without a label", "images without a label")


def _visible(name):
    return not name.startswith(".")


def is_image_name(name):
    """Whether file `name` has one of `IMAGE_EXTENSIONS` (any case: ImageNet's ``.JPEG``)."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _walk(folder):
    """Every visible file under `folder` (symbolic links followed), sorted by path."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=True, onerror=_raise):
        dirs[:] = sorted(d for d in dirs if _visible(d))
        found += [os.path.join(root, f) for f in files if _visible(f)]
    return sorted(found)


def _raise(error):
    raise error


def class_folders(folder):
    """The sorted names of the visible sub-folders of `folder` (FileNotFoundError when
    `folder` is not a directory)."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Expected a folder of class folders. Received: {folder!r} is "
                                f"not a directory")
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if _visible(e.name) and e.is_dir())


@dataclasses.dataclass(frozen=True, eq=False)
class ImageFiles:
    """The image files of one split and their integer labels.

    Build it with `from_class_folders` or `from_label_file`; `parts` splits one
    into stratified random parts (a validation or test split held out).

    Attributes:
        name: the split ("train", "val", "test").
        where: the folder it was listed from (for messages).
        paths: the image files, a tuple of str, sorted by class then path.
        labels: int32 ``[N]`` indices into `class_names`.
        class_names: the training classes, sorted (folder names).
        skipped: ``{reason: paths}`` of the files left out when listing (see the
            module docstring), for the summary.
    """

    name: str
    where: str
    paths: tuple
    labels: np.ndarray
    class_names: tuple
    skipped: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if len(self.paths) != len(self.labels):
            raise ValueError(f"Expected one label per file. Received: {len(self.paths)} files, "
                             f"{len(self.labels)} labels")

    @classmethod
    def from_class_folders(cls, folder, *, name, class_names=None):
        """One split from `folder`'s class folders (see the module docstring).

        Args:
            folder: holds one folder per class (its name is the class name).
            name: the split's name.
            class_names: the training classes; None: this split's folders are the
                classes (a training split: at least two, none empty).
        """
        folder = os.fspath(folder)
        found = class_folders(folder)
        if class_names is None:
            if len(found) < 2:
                raise ValueError(f"Expected at least two class folders in {folder} (one folder "
                                 f"of images per class). Received: {len(found)} ({found})")
            class_names = tuple(found)
        index = {c: i for i, c in enumerate(class_names)}
        paths, labels, not_images = [], [], []
        for class_name in found:
            if class_name not in index:
                raise ValueError(f"Expected the class folders of {folder} among the "
                                 f"{len(index)} training classes. Received: "
                                 f"{os.path.join(folder, class_name)}, not a training class")
            files = _walk(os.path.join(folder, class_name))
            images = [f for f in files if is_image_name(f)]
            not_images += [f for f in files if not is_image_name(f)]
            if not images and name == "train":
                raise ValueError(f"Expected image files ({', '.join(IMAGE_EXTENSIONS)}) in every "
                                 f"class folder. Received: {os.path.join(folder, class_name)} "
                                 f"holds none; add images or remove the folder")
            paths += images
            labels += [index[class_name]] * len(images)
        return cls(name, folder, tuple(paths), np.array(labels, np.int32), tuple(class_names),
                   {_NOT_IMAGES: tuple(not_images)})

    @classmethod
    def from_label_file(cls, folder, label_file, *, name, class_names):
        """One split from the images directly in `folder`, labelled by `label_file`.

        Each line of `label_file` names a file (with or without its extension) and
        its class, separated by a comma or white space: a class name (ImageNet's
        ``LOC_val_solution.csv``: ``ILSVRC2012_val_00000001,n01751748 ...``; words
        after the class are ignored) or a 0-based index into the sorted classes
        (Caffe's ``val.txt``: ``ILSVRC2012_val_00000001.JPEG 65``). A first line that
        is a header (``ImageId,PredictionString``) is skipped.
        """
        folder, label_file = os.fspath(folder), os.fspath(label_file)
        index = {c: i for i, c in enumerate(class_names)}
        table = _read_label_file(label_file, index)
        files = _walk(folder)
        paths, labels, unlabelled = [], [], []
        for path in (f for f in files if is_image_name(f)):
            base = os.path.relpath(path, folder)
            label = table.pop(base, None)
            label = table.pop(os.path.splitext(base)[0], label)
            if label is None:
                unlabelled.append(path)
                continue
            paths.append(path)
            labels.append(label)
        if table:
            missing = sorted(table)
            raise FileNotFoundError(f"Expected the files {label_file} lists in {folder}. "
                                    f"Received: {len(missing)} missing, e.g. {missing[0]!r}")
        return cls(name, folder, tuple(paths), np.array(labels, np.int32), tuple(class_names),
                   {_NOT_IMAGES: tuple(f for f in files if not is_image_name(f)),
                    _UNLABELLED: tuple(unlabelled)})

    @property
    def num_examples(self):
        return len(self.paths)

    def parts(self, counts, seed, names):
        """Stratified random parts: ``[rest, part_1, ...]`` where part i holds about
        ``counts[i]`` files (a count, or a fraction in (0, 1) of the split), the same
        share of every class (each class keeps at least one file in `rest`).

        Args:
            counts: per part, a number of files or a fraction.
            seed: the parts follow from it (NumPy PCG64 permutations per class).
            names: the parts' names, `rest`'s first.
        """
        total = self.num_examples
        fractions = [c / total if c >= 1 else c for c in counts]
        if sum(fractions) >= 1:
            raise ValueError(f"Expected the held-out parts to leave training images in "
                             f"{self.where} ({total} images). Received: {list(counts)}")
        rng = np.random.default_rng(seed)
        chosen = [[] for _ in range(len(counts) + 1)]
        order = np.argsort(self.labels, kind="stable")
        for group in np.split(order, np.cumsum(np.bincount(self.labels))[:-1]):
            group = rng.permutation(group)
            start = 0
            for i, fraction in enumerate(fractions):
                take = min(int(round(fraction * len(group))), len(group) - start - 1)
                chosen[i + 1] += list(group[start:start + max(take, 0)])
                start += max(take, 0)
            chosen[0] += list(group[start:])
        return [self._subset(np.sort(np.array(c, np.int64)), n) for c, n in zip(chosen, names)]

    def _subset(self, indices, name):
        return ImageFiles(name, self.where, tuple(self.paths[i] for i in indices),
                          self.labels[indices], self.class_names,
                          self.skipped if name == self.name else {})

    def summary(self):
        """One line: ``train (/data/train): 1281167 images in 1000 classes; skipped: 2 files
        that are not images (e.g. /data/train/n01440764/notes.txt)``."""
        classes = len(np.unique(self.labels))
        line = (f"{self.name} ({self.where}): {_count(self.num_examples, ('image', 'images'))} "
                f"in {_count(classes, ('class', 'classes'))}")
        skipped = [f"{_count(len(paths), words)} (e.g. {paths[0]})"
                   for words, paths in self.skipped.items() if paths]
        return line + ("; skipped: " + ", ".join(skipped) if skipped else "")

    def examples(self, *, seed=None, num_pipelines=1, pipeline_index=0):
        """``(path, index)`` of this input pipeline's files: every `num_pipelines`-th file
        from `pipeline_index` (multi-worker sharding: each pipeline reads only its own).
        With `seed`: shuffled anew every pass and repeated forever (training)."""
        indices = np.arange(pipeline_index, self.num_examples, num_pipelines, dtype=np.int64)
        dataset = tf.data.Dataset.from_tensor_slices(indices)
        if seed is not None:
            dataset = dataset.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
            dataset = dataset.repeat()
        paths = tf.constant(self.paths if self.paths else ("",))
        return dataset.map(lambda i: (tf.gather(paths, i), i))

    def shard_size(self, num_pipelines=1, pipeline_index=0):
        """The number of files `examples` gives that input pipeline (one pass)."""
        return len(range(pipeline_index, self.num_examples, num_pipelines))

    def read(self, source, index):
        """``(encoded image bytes, label)`` of an element of `examples` (in the graph)."""
        return tf.io.read_file(source), tf.gather(tf.constant(self.labels), index)

    def describe(self, index):
        """Where element `index` comes from (its path) and why it cannot be decoded."""
        return diagnose(self.paths[int(index)])


def diagnose(path):
    """Why the image file `path` failed to decode, naming it (Pillow's reading error)."""
    try:
        read_image(path)
    except ValueError as error:
        return str(error).partition("Received: ")[2]
    return f"{path} (TensorFlow cannot decode it; save it again as an 8-bit JPEG or PNG)"


_HEADER = re.compile(r"^\s*image_?id\b", re.IGNORECASE)


def _read_label_file(label_file, index):
    """``{file name: label}`` of a label file (see `ImageFiles.from_label_file`)."""
    if not os.path.isfile(label_file):
        raise FileNotFoundError(f"Expected a label file for the flat validation folder. "
                                f"Received: {label_file!r} does not exist")
    with open(label_file, encoding="utf-8") as f:
        lines = f.read().splitlines()
    table = {}
    for number, line in enumerate(lines, 1):
        fields = line.replace(",", " ").split()
        if not fields or (number == 1 and _HEADER.match(line)):
            continue
        label = _label(fields, index)
        if label is None:
            raise ValueError(f"Expected each line of {label_file} to be a file name and a class "
                             f"(one of the {len(index)} training classes, or its 0-based index). "
                             f"Received: line {number}: {line[:80]!r}")
        table[fields[0]] = label
    return table


def _label(fields, index):
    if len(fields) < 2:
        return None
    if fields[1] in index:
        return index[fields[1]]
    if fields[1].isdigit() and int(fields[1]) < len(index):
        return int(fields[1])
    return None
