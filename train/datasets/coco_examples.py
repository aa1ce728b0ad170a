"""`CocoExamples`: Mask R-CNN's training images as the same global batches on any cluster.

What distributed training reads (`keras_zoo.train.multiworker.fit_distributed`): the
split's training images are numbered, and global step ``s`` trains on global batch
``s`` of `GlobalBatches` (a seeded permutation per pass, landscape and portrait images
in separate batches: detectron2's aspect-ratio grouping). Each input pipeline decodes
only its replicas' images of each global batch (so each of N workers reads about
1/N of the files), resizes and flips each one as `coco_pipeline.training_pipeline`
does (the flip drawn from the seed and the image's place in the run, not from a
stream), and pads every image to the size of the whole global batch's largest, and the
ground truth to its largest object count: both follow from the annotations' sizes and
counts, so a replica's batch is exactly its rows of the global batch one process would
form. Hence 2 workers x 1 replica and one process train on the same tensors, and a
restarted run continues at any step without reading the images it skips.

An image that cannot be read is warned about once and trains as a blank image without
objects (so that every global batch keeps its size on every worker).
"""

import functools

import numpy as np
import tensorflow as tf

from keras_zoo import ops

from .coco_pipeline import decoded, resize_and_flip
from .examples import pipeline_replicas
from .global_batches import GlobalBatches


class CocoExamples:
    """The training images of a `CocoSplit` for distributed training (module docstring).

    Args:
        split: the `CocoSplit`.
        batch_size: the global batch size.
        min_size, max_size: the resize policy (800, 1333 for COCO).
        mask_size: M, the side of the box-cropped masks.
        flip: random horizontal flips.
        seed: the order and the flips follow from it.
        skip_empty: leave out the images without objects.
        max_images: the first `max_images` images only (None: all).
    """

    def __init__(self, split, *, batch_size, min_size, max_size, mask_size, flip=True, seed=0,
                 skip_empty=True, max_images=None):
        self.split = split
        self.images = split.training_images(skip_empty)[:max_images]
        if not self.images:
            raise ValueError(f"Expected images with objects to train on in "
                             f"{split.annotations}. Received: {split.summary(training=True)}")
        self.batch_size = int(batch_size)
        self.min_size, self.max_size, self.mask_size = min_size, max_size, mask_size
        self.flip, self.seed = bool(flip), int(seed)
        self.sizes = np.asarray([[image.height, image.width] for image in self.images],
                                np.int32)
        self.objects = np.asarray([len(image.boxes) for image in self.images], np.int32)

    @functools.cached_property
    def batches(self):
        """The `GlobalBatches` (landscape and portrait images apart)."""
        return GlobalBatches(len(self.images), self.batch_size, seed=self.seed,
                             groups=[int(image.height > image.width) for image in self.images])

    def steps_per_pass(self):
        """Global batches per pass over the images."""
        return self.batches.steps_per_pass

    def dataset(self, context=None, start_step=0):
        """One input pipeline's per-replica batches from global step `start_step` on,
        endless (`datasets.Examples.dataset`'s contract), structured as
        `coco_pipeline.training_pipeline`'s: ``({"images", "image_sizes"}, {"boxes",
        "classes", "masks", "valid"})``."""
        replicas, first, local = pipeline_replicas(context)
        per_replica = self.batches.per_replica(replicas)
        rows = self.batches.rows(start_step, replicas=replicas, first_replica=first,
                                 local_replicas=local)
        sizes, objects = tf.constant(self.sizes), tf.constant(self.objects)
        size = self.batch_size

        def elements(indices, global_batch, step, replica):
            # The global batch's padded image size and object count, from the annotations.
            resized = ops.images.resized_sizes(tf.gather(sizes, global_batch), self.min_size,
                                               self.max_size)
            padded = ops.images.padded_size(tf.reduce_max(resized, axis=0))
            count = tf.reduce_max(tf.gather(objects, global_batch))
            positions = (step * size + tf.cast(replica, tf.int64) * per_replica
                         + tf.range(per_replica, dtype=tf.int64))
            return tf.data.Dataset.from_tensor_slices(
                (indices, positions, tf.fill([per_replica, 2], 0) + padded,
                 tf.fill([per_replica], count)))

        decode = decoded(self.split.name, self.images, self.mask_size, placeholder=True)
        resize = resize_and_flip(self.min_size, self.max_size, self.flip, self.seed)

        def example(index, position, padded, count):
            pixels, new, _, boxes, classes, masks = resize(decode(index), position)
            pixels = tf.pad(pixels, [[0, padded[0] - new[0]], [0, padded[1] - new[1]], [0, 0]])
            extra = count - tf.shape(classes)[0]
            return (pixels, new, tf.pad(boxes, [[0, extra], [0, 0]]),
                    tf.pad(classes, [[0, extra]]), tf.pad(masks, [[0, extra], [0, 0], [0, 0]]))

        def structure(pixels, image_sizes, boxes, classes, masks):
            return ({"images": pixels, "image_sizes": image_sizes},
                    {"boxes": boxes, "classes": classes, "masks": masks, "valid": classes > 0})

        options = tf.data.Options()
        options.deterministic = True
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.OFF)  # the rows are this pipeline's already
        return rows.flat_map(elements).map(
            example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(
            per_replica, drop_remainder=True).map(structure).with_options(options).prefetch(
            tf.data.AUTOTUNE)
