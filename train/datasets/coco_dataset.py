"""`CocoDataset`: the splits of a COCO-format dataset, each read and checked on first use."""

import os

from .coco import CocoSplit

SPLITS = ("train", "val", "test")
# Folder layouts `CocoDataset.from_folder` recognises, per split: the COCO 2017 release,
# then the shipped dataset's (`digits_instances`).
LAYOUTS = (("annotations/instances_{split}2017.json", "{split}2017"),
           ("annotations/instances_{split}.json", "{split}"))


class CocoDataset:
    """A COCO-format dataset: a `CocoSplit` per split, read when first asked for.

    Reading is lazy so that ``keras-zoo evaluate`` on val2017 (5k images) never
    reads train2017's 450 MB of annotations. The classifier's categories are
    the training split's (`CocoCategories`), or those stored in a run.

    Args:
        files: ``{split: (annotations JSON, image folder)}`` for some of `SPLITS`.
        categories: the classifier's `CocoCategories`; None: the training split's.
        name: the dataset's name in messages ("coco", "digits-instances").
        log: called with each split's one-line summary when it is read (None: silent).

    Example:

    >>> data = CocoDataset.from_folder("/data/coco")       # doctest: +SKIP
    >>> data.split("val").summary(training=False)          # doctest: +SKIP
    'val (instances_val2017.json): 5000 images, 36335 objects; left out: 446 crowd'
    """

    def __init__(self, files, *, categories=None, name="coco", log=None):
        unknown = sorted(set(files) - set(SPLITS))
        if unknown:
            raise ValueError(f"Expected splits among {SPLITS}. Received: {unknown}")
        self.files = {split: tuple(os.path.abspath(p) for p in pair)
                      for split, pair in files.items()}
        self.name = name
        self.log = log
        self._categories = categories
        self._splits = {}

    @classmethod
    def from_folder(cls, data_dir, *, files=None, **kwargs):
        """The splits found in `data_dir` (see `LAYOUTS`: ``annotations/instances_val2017.json``
        with the images in ``val2017/``, or ``annotations/instances_val.json`` with ``val/``),
        then `files` (explicit ``{split: (json, folder)}``) replacing them.

        Raises:
            FileNotFoundError: `data_dir` is not a folder, or holds no split of either layout.
        """
        data_dir = os.fspath(data_dir)
        if not os.path.isdir(data_dir):
            raise FileNotFoundError(f"Expected --data-dir to be a folder in the COCO layout "
                                    f"(annotations/instances_train2017.json, train2017/, ...). "
                                    f"Received: {data_dir!r} is not a directory")
        found = {}
        for split in SPLITS:
            for annotations, images in LAYOUTS:
                pair = (os.path.join(data_dir, annotations.format(split=split)),
                        os.path.join(data_dir, images.format(split=split)))
                if os.path.isfile(pair[0]):
                    found[split] = pair
                    break
        if not found:
            raise FileNotFoundError(
                f"Expected a COCO-format dataset in {data_dir}: annotations/instances_train2017"
                f".json with images in train2017/ (likewise val2017), or annotations/instances_"
                f"train.json with train/. Received: none of these annotation files")
        return cls({**found, **(files or {})}, **kwargs)

    def has(self, split):
        """Whether the dataset has `split`."""
        return split in self.files

    def split(self, split, *, training=False):
        """The `CocoSplit` `split`, read (and its summary logged) on the first call;
        `training` only words the summary (images without objects are skipped).

        Raises:
            ValueError: the dataset has no such split (and the reading errors of
                `CocoSplit.read`).
        """
        if split not in self.files:
            raise ValueError(f"Expected a split of the {self.name} dataset: "
                             f"{', '.join(self.files)}. Received: split={split!r}")
        if split not in self._splits:
            categories = self._categories
            if categories is None and split != "train" and self.has("train"):
                categories = self.categories
            annotations, images = self.files[split]
            self._splits[split] = CocoSplit.read(annotations, images, name=split,
                                                 categories=categories)
            if self.log is not None:
                self.log(self._splits[split].summary(training=training))
        return self._splits[split]

    @property
    def categories(self):
        """The classifier's `CocoCategories` (reads the training split when none were given)."""
        if self._categories is None:
            if not self.has("train"):
                raise ValueError(f"Expected a training split to take the categories from. "
                                 f"Received: the {self.name} dataset has only "
                                 f"{', '.join(self.files)}")
            self._categories = self.split("train", training=True).categories
        return self._categories
