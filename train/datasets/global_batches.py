"""`GlobalBatches`: which examples form global batch ``s`` of a run, for any number of workers.

Distributed training cuts the same global batches whatever the cluster: the
examples are numbered ``0 ... count - 1``; pass ``p`` over them is the
permutation ``numpy.random.default_rng([seed, p])`` (a seed sequence), cut into
global batches of ``batch_size`` (the last partial batch dropped). With
``groups`` (e.g. landscape / portrait images, detectron2's aspect-ratio
grouping) a batch holds one group only: the permutation is walked and each
example goes into its group's open batch, which is emitted when full (what
``tf.data``'s ``group_by_window`` does to a stream), so every pass has the same
number of batches, ``sum(n_g // batch_size)``.

Global step ``s`` trains on batch ``s mod steps_per_pass`` of pass ``s //
steps_per_pass``; replica ``k`` of ``R`` takes its rows ``[k * B, (k + 1) * B)``
(``B = batch_size / R``). An input pipeline asks `rows` for its replicas' index
rows from a start step on: only integers, so a resumed run skips the steps it
trained without reading an example, and each worker reads only its own.
"""

import numpy as np
import tensorflow as tf

from keras_zoo.checks import positive_int

MAX_PASSES = 2**40  # the index streams end there: never, in practice


class GlobalBatches:
    """The run's global batches as a function of the global step (module docstring).

    Args:
        count: the number of examples.
        batch_size: the global batch size.
        seed: the seed of every pass's order.
        groups: None, or an int per example: a batch holds examples of one group.
    """

    def __init__(self, count, batch_size, *, seed=0, groups=None):
        self.count = positive_int("count", count)
        self.batch_size = positive_int("batch_size", batch_size)
        self.seed = int(seed)
        self.groups = None if groups is None else np.asarray(groups, np.int64)
        if self.groups is not None and self.groups.shape != (self.count,):
            raise ValueError(f"Expected a group per example, shape ({self.count},). Received: "
                             f"groups of shape {self.groups.shape}")
        if self.groups is None:
            self.steps_per_pass = self.count // self.batch_size
        else:
            self.steps_per_pass = int(sum(n // self.batch_size
                                          for n in np.bincount(self.groups)))
        if self.steps_per_pass < 1:
            raise ValueError(f"Expected at least one global batch of {self.batch_size} "
                             f"examples{' of one group' if groups is not None else ''}. "
                             f"Received: {self.count} examples")

    def order(self, pass_index):
        """int64 ``[steps_per_pass, batch_size]``: the examples of each global batch of a pass."""
        order = np.random.default_rng([self.seed, int(pass_index)]).permutation(self.count)
        if self.groups is None:
            return order[:self.steps_per_pass * self.batch_size].reshape(
                self.steps_per_pass, self.batch_size)
        batches, open_batches = [], {}
        for index in order:
            batch = open_batches.setdefault(self.groups[index], [])
            batch.append(index)
            if len(batch) == self.batch_size:
                batches.append(batch)
                open_batches[self.groups[index]] = []
        return np.asarray(batches, np.int64).reshape(self.steps_per_pass, self.batch_size)

    def per_replica(self, replicas):
        """B, the per-replica batch of `replicas` replicas (a ValueError unless it divides)."""
        if self.batch_size % replicas:
            raise ValueError(f"Expected a global batch size divisible by the {replicas} "
                             f"replicas. Received: global_batch_size={self.batch_size}")
        return self.batch_size // replicas

    def pass_rows(self, pass_index, *, replicas, first_replica, local_replicas):
        """A pass's rows of replicas ``first_replica ...``: ``(indices int64 [n, B], global
        batch int64 [n, G], step int64 [n], replica int32 [n])``, for each step of the pass
        the `local_replicas` replicas in turn (n = steps_per_pass * local_replicas)."""
        per_replica = self.per_replica(replicas)
        order = self.order(pass_index)
        rows = order.reshape(self.steps_per_pass, replicas, per_replica)[
            :, first_replica:first_replica + local_replicas].reshape(-1, per_replica)
        steps = np.arange(self.steps_per_pass, dtype=np.int64) + pass_index * self.steps_per_pass
        return (rows, np.repeat(order, local_replicas, axis=0),
                np.repeat(steps, local_replicas),
                np.tile(np.arange(first_replica, first_replica + local_replicas,
                                  dtype=np.int32), self.steps_per_pass))

    def rows(self, start_step=0, *, replicas=1, first_replica=0, local_replicas=1):
        """`tf.data.Dataset` of `pass_rows` elements ``(indices [B], global batch [G], step,
        replica)`` from global step `start_step` on, endless: what an input pipeline of
        `local_replicas` replicas from `first_replica` reads."""
        per_replica = self.per_replica(replicas)
        first_pass, skip = divmod(int(start_step), self.steps_per_pass)

        def one_pass(pass_index):
            arrays = tf.numpy_function(
                lambda p: self.pass_rows(int(p), replicas=replicas, first_replica=first_replica,
                                         local_replicas=local_replicas),
                [pass_index], [tf.int64, tf.int64, tf.int64, tf.int32], stateful=False)
            shapes = ([None, per_replica], [None, self.batch_size], [None], [None])
            for array, shape in zip(arrays, shapes):
                array.set_shape(shape)
            return tf.data.Dataset.from_tensor_slices(tuple(arrays))

        passes = tf.data.Dataset.range(first_pass, MAX_PASSES)
        return passes.flat_map(one_pass).skip(skip * local_replicas)
