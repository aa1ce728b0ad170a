"""`Examples`: the training examples that multi-worker training cuts into global batches."""

import dataclasses

import tensorflow as tf

from keras_zoo.checks import positive_int

from .image_dataset import AUGMENTATIONS
from .pipeline import known_size


@dataclasses.dataclass(frozen=True, eq=False)
class Examples:
    """Single training examples in a fixed order, and how to batch them.

    `keras_zoo.train.multiworker.fit_distributed` shuffles them each epoch
    (seeded with ``numpy.random.default_rng([seed, epoch])``), shards them
    over the workers' input pipelines and augments each image with a
    stateless seed of its place in the epoch, so every global batch is the
    same on one process and on N workers.

    Attributes:
        source: a finite `tf.data.Dataset` of single ``(x, y)`` examples (any
            nested structure; the same elements in the same order on every
            worker), or ``(x, y)`` in-memory arrays (the small datasets).
        batch_size: the global batch size.
        seed: seed of the per-epoch shuffle and of the augmentation.
        augmentation: ``"none"``, ``"cifar"`` or ``"shift"``, applied to ``x``
            (images ``[H, W, C]``); see `datasets.augment`.
        pad: pixels padded before the random crop; None: the augmentation's default.
    """

    source: object
    batch_size: int
    seed: int = 0
    augmentation: str = "none"
    pad: int | None = None

    def __post_init__(self):
        if self.augmentation not in AUGMENTATIONS:
            raise ValueError(f"Expected augmentation in {AUGMENTATIONS}. "
                             f"Received: augmentation={self.augmentation!r}")
        positive_int("batch_size", self.batch_size)

    def dataset(self):
        """`source` as a `tf.data.Dataset` of single examples."""
        if isinstance(self.source, tf.data.Dataset):
            return self.source
        return tf.data.Dataset.from_tensor_slices(tuple(self.source))

    def count(self):
        """The number of examples (a ValueError when the dataset's size is unknown)."""
        if not isinstance(self.source, tf.data.Dataset):
            return len(self.source[0])
        count = known_size(self.source)
        if count is None:
            raise ValueError("Expected a finite dataset of known size for multi-worker "
                             "training (e.g. `dataset.apply(tf.data.experimental."
                             "assert_cardinality(n))`). Received: a dataset of unknown or "
                             "infinite size")
        return count
