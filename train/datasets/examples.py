"""`Examples`: training examples that distributed training cuts into the same global batches
on one process and on N workers, each worker reading only its own rows."""

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from keras_zoo.checks import positive_int

from .global_batches import GlobalBatches
from .image_dataset import AUGMENTATIONS
from .pipeline import augment


def pipeline_replicas(context):
    """``(replicas, first_replica, local_replicas)`` of the input pipeline of a
    `tf.distribute.InputContext` (None: one pipeline of one replica)."""
    if context is None:
        return 1, 0, 1
    local = context.num_replicas_in_sync // context.num_input_pipelines
    return context.num_replicas_in_sync, context.input_pipeline_id * local, local


@dataclasses.dataclass(frozen=True)
class IndexedSource:
    """Examples read one at a time by their index: streaming data, never held in memory.

    Attributes:
        count: the number of examples.
        read: ``read(index) -> example``, traced by ``tf.data`` (``index`` a scalar int64
            tensor): e.g. ``tf.io.read_file(paths[index])`` decoded; an example is a tuple
            ``(x, y)`` (or ``(x,)``) of tensors with static shapes, the same for every index.
    """

    count: int
    read: Callable

    def __post_init__(self):
        positive_int("count", self.count)


def _check_arrays(source):
    if not isinstance(source, tuple) or not 1 <= len(source) <= 3:
        raise ValueError("Expected the examples as (x, y) or (x,) arrays, or an IndexedSource. "
                         f"Received: {type(source).__name__}"
                         + (" (a tf.data.Dataset cannot be read by index: give an "
                            "IndexedSource whose read(i) loads example i)"
                            if isinstance(source, tf.data.Dataset) else ""))
    counts = {len(a) for a in tf.nest.flatten(source)}
    if len(counts) != 1:
        raise ValueError(f"Expected arrays of one length. Received: lengths {sorted(counts)}")


@dataclasses.dataclass(frozen=True, eq=False)
class Examples:
    """Single training examples in a fixed order, and how to batch them.

    Distributed training (`keras_zoo.train.multiworker.fit_distributed`) trains global
    step ``s`` on global batch ``s`` of `GlobalBatches` (every pass a new seeded
    permutation); each input pipeline reads only its replicas' rows of it (`dataset`), and
    augments each image with the draws of its row in the whole global batch (stateless
    seed ``[seed, s]``), so one process and N workers train on the same batches.

    Attributes:
        source: ``(x, y)`` or ``(x,)`` in-memory arrays (any nested structure of arrays of
            one length; the small datasets), or an `IndexedSource` (streaming).
        batch_size: the global batch size.
        seed: seed of the per-pass order and of the augmentation.
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
        if not isinstance(self.source, IndexedSource):
            _check_arrays(self.source)

    def count(self):
        """The number of examples."""
        if isinstance(self.source, IndexedSource):
            return self.source.count
        return len(tf.nest.flatten(self.source)[0])

    def global_batches(self):
        """The `GlobalBatches` of the examples."""
        return GlobalBatches(self.count(), self.batch_size, seed=self.seed)

    def steps_per_pass(self):
        """Global batches per pass over the examples (the last partial batch dropped)."""
        return self.global_batches().steps_per_pass

    def dataset(self, context=None, start_step=0):
        """The per-replica batches of one input pipeline from global step `start_step` on,
        endless: for each step, the batch of each of its replicas in turn (what
        ``strategy.distribute_datasets_from_function`` hands them).

        Args:
            context: the pipeline's `tf.distribute.InputContext` (None: the one pipeline
                of one replica, whole global batches).
            start_step: the first global step (a resumed run's).
        """
        replicas, first, local = pipeline_replicas(context)
        batches = self.global_batches()
        per_replica = batches.per_replica(replicas)
        rows = batches.rows(start_step, replicas=replicas, first_replica=first,
                            local_replicas=local)
        if isinstance(self.source, IndexedSource):
            dataset = _read_rows(rows, self.source.read, per_replica)
        else:
            dataset = rows.map(_gather(self.source), num_parallel_calls=tf.data.AUTOTUNE,
                               deterministic=True)
        if self.augmentation != "none":
            dataset = dataset.map(self._augment(per_replica), num_parallel_calls=tf.data.AUTOTUNE,
                                  deterministic=True)
        options = tf.data.Options()
        options.deterministic = True
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.OFF)  # the rows are this pipeline's already
        return dataset.map(lambda batch, step, replica: batch).with_options(options).prefetch(
            tf.data.AUTOTUNE)

    def _augment(self, per_replica):
        def apply(batch, step, replica):
            images, *rest = batch
            seed = tf.stack([tf.constant(self.seed, tf.int64), step])
            images = augment(images, seed, augmentation=self.augmentation, pad=self.pad,
                             offset=replica * per_replica, batch_size=self.batch_size)
            return (images, *rest), step, replica

        return apply


def _gather(arrays):
    """A map function of `GlobalBatches.rows`: the rows of in-memory `arrays` (one NumPy
    gather per batch: nothing is copied beyond the batch)."""
    flat = [np.asarray(a) for a in tf.nest.flatten(arrays)]
    dtypes = [tf.as_dtype(a.dtype) for a in flat]

    def gather(indices, global_batch, step, replica):
        parts = tf.numpy_function(lambda i: [a[i] for a in flat], [indices], dtypes,
                                  stateful=False)
        for part, array in zip(parts, flat):
            part.set_shape([indices.shape[0], *array.shape[1:]])
        return tf.nest.pack_sequence_as(arrays, parts), step, replica

    return gather


def _read_rows(rows, read, per_replica):
    """Each row's examples read by index (in parallel, in order) and batched."""
    def elements(indices, global_batch, step, replica):
        count = tf.shape(indices, out_type=tf.int64)[0]
        return tf.data.Dataset.from_tensor_slices(
            (indices, tf.fill([count], step), tf.fill([count], replica)))

    def example(index, step, replica):
        return tuple(read(index)), step, replica

    def batch_info(batch, steps, replicas):
        return batch, steps[0], replicas[0]

    return rows.flat_map(elements).map(
        example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(
        per_replica, drop_remainder=True).map(batch_info)
