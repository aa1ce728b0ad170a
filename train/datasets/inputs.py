"""`Inputs`: what a recipe hands the training loop: train / validation / test datasets."""

import dataclasses
from collections.abc import Callable

import tensorflow as tf

from .examples import Examples
from .pipeline import known_size, make_pipeline


@dataclasses.dataclass(frozen=True, eq=False)
class Inputs:
    """The `tf.data` pipelines of one run (`Recipe.make_datasets` returns one).

    Attributes:
        train: batches for `model.fit`.
        validation: batches evaluated at each epoch end, or None.
        test: batches of the final evaluation, or None (a recipe whose
            `evaluate` is not `model.evaluate`, e.g. COCOeval).
        steps_per_epoch: updates per epoch; None takes `train`'s cardinality.
            Required when that is unknown or infinite (a streaming dataset):
            Keras then draws `steps_per_epoch` batches per epoch from one
            iterator, so `train` should repeat.
        examples: what multi-worker training (`multiworker.fit_distributed`) reads:
            `Examples` (in-memory arrays or an `IndexedSource`), or any object with
            ``batch_size`` (global) and ``dataset(context, start_step)`` (each input
            pipeline's per-replica batches from a global step on: `coco_examples.CocoExamples`,
            `image_pipeline.Shards`); None: ``--strategy multiworker`` is refused.
        train_from: ``train_from(batches)`` is `train` without its first `batches`
            batches, skipped without being read (e.g. file names skipped before decoding),
            for a resumed run; None: a resumed run reads and drops them
            (`fit.fit_model`). ``train_from(0)`` must give the batches of `train`.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset | None = None
    test: tf.data.Dataset | None = None
    steps_per_epoch: int | None = None
    examples: Examples | None = None
    train_from: Callable[[int], tf.data.Dataset] | None = None

    def updates_per_epoch(self):
        """`steps_per_epoch`, or the training dataset's cardinality when it is known."""
        if self.steps_per_epoch is not None:
            return int(self.steps_per_epoch)
        count = known_size(self.train)
        if count is None:
            raise ValueError("Expected steps_per_epoch for a training dataset of unknown or "
                             "infinite size. Received: steps_per_epoch=None")
        return count

    def distributed_updates_per_epoch(self):
        """The updates per epoch of multi-worker training: `steps_per_epoch`, else one pass
        over `examples` (whole global batches)."""
        if self.steps_per_epoch is not None:
            return int(self.steps_per_epoch)
        return self.examples.steps_per_pass()

    @classmethod
    def from_arrays(cls, x, y, *, batch_size, seed=0, augmentation="none", validation=None,
                    test=None):
        """In-memory images: seeded `make_pipeline`s, and the same arrays as `examples`.

        Args:
            x, y: uint8 ``[N, H, W, C]`` training images and int ``[N]`` labels.
            batch_size: the (global) batch size.
            seed: the shuffle and augmentation seed.
            augmentation: the training augmentation (see `datasets.augment`).
            validation, test: ``(x, y)`` pairs or None.
        """
        def evaluation(pair):
            return None if pair is None else make_pipeline(
                *pair, batch_size=batch_size, training=False, seed=seed)

        return cls(train=make_pipeline(x, y, batch_size=batch_size, training=True, seed=seed,
                                       augmentation=augmentation),
                   validation=evaluation(validation), test=evaluation(test),
                   examples=Examples((x, y), batch_size, seed=seed, augmentation=augmentation))
