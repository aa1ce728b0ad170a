"""Streaming `tf.data` pipelines of a classifier over image files or TFRecords.

A split (`ImageFiles` or `TFRecordFiles`) provides the elements and how to read
them; nothing holds the dataset in memory. Each element is read, decoded and
cropped when the pipeline reaches it, on tf.data's threads, by TensorFlow's
decoders (JPEG, PNG, GIF, BMP, WebP; grey, palette, CMYK and 16-bit images come
out RGB uint8), then batched and prefetched.

Training (`training_pipeline`): every pass shuffles the split (TFRecords: the
shards, then a buffer of records), crops a window of each image (the paper's
scale augmentation or the random-resized crop, `image_augment`; a JPEG is
decoded only inside the window), resizes it to ``crop_size``, flips it with
probability 1/2 and adds AlexNet's colour noise; it repeats forever (give
``steps_per_epoch`` to ``fit``) in batches of ``batch_size``. The draws follow
from ``seed``.

Evaluation (`evaluation_pipeline`): the split once, in order, with a weight per
image: the central crop (``[B, crop, crop, 3]``) or the paper's ten crops
(``[B, 10, crop, crop, 3]``).

Bad images never stop an epoch: an element that cannot be read (missing file,
permission denied), parsed (a TFRecord without an image or label) or decoded
(corrupt, truncated, not an image), or whose label is not a class, is skipped
and recorded in a `SkippedImages` with its path (or record) and the reason
(training leaves it out; evaluation keeps a blank image of weight 0 in its place).
Each element is processed in a one-element dataset whose errors
``ignore_errors`` drops, followed by a placeholder flagged as failed
(`_tolerant`), so an error costs only its element.

Multi-worker sharding: ``num_pipelines`` and ``pipeline_index`` (a
`tf.distribute.InputContext`'s ``num_input_pipelines`` and
``input_pipeline_id``) make each pipeline read only its share of the files
(`Shards` gives each pipeline of ``distribute_datasets_from_function`` its share).
"""

import functools

import numpy as np
import tensorflow as tf

from keras_zoo.checks import one_of, positive_int

from . import image_augment
from .skipped_images import SkippedImages

AUGMENTATIONS = ("scale", "inception")  # He et al. 2015 Sec. 3.4; torchvision's reference
CROPS = (1, 10)  # the central crop; the ten crops of Sec. 3.4
MAX_FAILURES_IN_A_ROW = 1000


def decode_window(encoded, window_fn):
    """uint8 ``[h, w, 3]``: the ``window_fn(shape)`` window ``(y, x, h, w)`` of an encoded
    image of ``shape`` ``(height, width)``. A JPEG is decoded inside the window only."""
    def jpeg():
        window = window_fn(tf.image.extract_jpeg_shape(encoded)[:2])
        return tf.image.decode_and_crop_jpeg(encoded, window, channels=3)

    def other():
        image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        y, x, height, width = tf.unstack(window_fn(tf.shape(image)[:2]))
        return image[y:y + height, x:x + width]

    return tf.ensure_shape(tf.cond(tf.io.is_jpeg(encoded), jpeg, other), [None, None, 3])


def whole_window(shape):
    """The window of the whole image."""
    return tf.concat([[0, 0], tf.cast(shape, tf.int32)], 0)


def _checked(encoded, label, num_classes):
    """`label` as int32, with an op that fails unless it is in ``[0, num_classes)``."""
    label = tf.cast(label, tf.int32)
    valid = tf.debugging.Assert(tf.logical_and(label >= 0, label < num_classes), [label])
    with tf.control_dependencies([valid]):
        return encoded, tf.identity(label)


def _tolerant(function, placeholder):
    """An ``interleave`` function: ``function(*element)``, or ``placeholder(*element)``
    when it raises (its error dropped by ``ignore_errors``)."""
    def apply(*element):
        done = tf.data.Dataset.from_tensors(element).map(function).ignore_errors()
        failed = tf.data.Dataset.from_tensors(element).map(placeholder)
        return done.concatenate(failed).take(1)

    return apply


def _parallel(dataset, function, placeholder):
    return dataset.interleave(_tolerant(function, placeholder), cycle_length=tf.data.AUTOTUNE,
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _flagged(dataset, split, skipped):
    """``(image, label, ok)``: each element flagged as failed is recorded in `skipped`
    (split, where, why)."""
    def note(index):
        skipped.record(split.name, split.describe(int(index)))
        return np.bool_(False)

    def flag(image, label, ok, index):
        ok = tf.cond(ok, lambda: tf.constant(True), lambda: tf.reshape(
            tf.numpy_function(note, [index], tf.bool, stateful=True), []))
        return image, label, ok

    return dataset.map(flag)


def _without_skipped(dataset, split, skipped):
    """Training: the failed elements dropped (and recorded); an error once
    `MAX_FAILURES_IN_A_ROW` fail one after the other (the files went away: an endless
    pipeline would otherwise look for a readable image forever)."""
    message = (f"Expected readable images in {split.where}. Received: "
               f"{MAX_FAILURES_IN_A_ROW} in a row that could not be decoded")

    def count(failures, element):
        failures = tf.where(element[2], tf.constant(0, tf.int64), failures + 1)
        check = tf.debugging.Assert(failures < MAX_FAILURES_IN_A_ROW, [message])
        with tf.control_dependencies([check]):
            return tf.identity(failures), element

    def kept(image, label, ok):
        return ok

    def without_flag(image, label, ok):
        return image, label

    return _flagged(dataset, split, skipped).scan(tf.constant(0, tf.int64), count).filter(
        kept).map(without_flag)


def _weighted(dataset, split, skipped):
    """Evaluation: ``(image, label, weight)``, a failed element (recorded) kept as a blank
    image of weight 0 (and label 0), so that the length stays known."""
    return _flagged(dataset, split, skipped).map(
        lambda image, label, ok: (image, tf.maximum(label, 0), tf.cast(ok, tf.float32)))


def _finish(dataset):
    options = tf.data.Options()
    options.deterministic = True
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def training_pipeline(split, *, batch_size, num_classes, skipped, augmentation="scale",
                      crop_size=224, scale_range=(256, 480), lighting=0.0, flip=True, seed=0,
                      num_pipelines=1, pipeline_index=0, skip=0):
    """Endless shuffled, augmented batches of `split` for `model.fit`.

    Args:
        split: an `ImageFiles` or `TFRecordFiles`.
        batch_size: images per batch (per pipeline when sharded); the last partial
            batch of a pass is not formed (the stream runs on into the next pass).
        num_classes: labels outside ``[0, num_classes)`` are skipped.
        skipped: the `SkippedImages` that counts the skipped elements.
        augmentation: ``"scale"`` (He et al. 2015, Sec. 3.4: shorter side uniform in
            `scale_range`, random `crop_size` crop) or ``"inception"`` (random-resized
            crop; `scale_range` unused).
        crop_size: the side of the training crops.
        scale_range: ``(low, high)`` shorter sides of the scale augmentation.
        lighting: standard deviation of AlexNet's PCA colour noise (0: none; 0.1 in
            fb.resnet.torch).
        flip: random horizontal flips.
        seed: the shuffle and every draw follow from it.
        num_pipelines, pipeline_index: this pipeline's share of the files (sharding).
        skip: elements of the stream to pass over before reading any (a resumed run).

    Returns:
        `tf.data.Dataset` of ``(images uint8 [B, crop, crop, 3], labels int32 [B])``.
    """
    positive_int("batch_size", batch_size)
    one_of("augmentation", augmentation, AUGMENTATIONS)
    if augmentation == "scale":
        window = functools.partial(image_augment.scale_window, crop_size=crop_size,
                                   scale_range=image_augment.check_scale_range(scale_range,
                                                                               crop_size))
    else:
        window = image_augment.inception_window

    def load(source, index, random):
        seeds = tf.random.experimental.stateless_split(
            tf.stack([random, tf.constant(seed, tf.int64)]), 3)
        encoded, label = _checked(*split.read(source, index), num_classes)
        image = decode_window(encoded, lambda shape: window(shape, seeds[0]))
        image = image_augment.resize(image, [crop_size, crop_size])
        if flip:
            image = tf.image.stateless_random_flip_left_right(image, seeds[1])
        if lighting:
            image = image_augment.lighting(image, seeds[2], lighting)
        return image, label, True, index

    def placeholder(source, index, random):
        return tf.zeros([crop_size, crop_size, 3], tf.uint8), -1, False, index

    examples = split.examples(seed=seed, num_pipelines=num_pipelines,
                              pipeline_index=pipeline_index)
    randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    dataset = tf.data.Dataset.zip((examples, randoms)).skip(skip).map(
        lambda example, random: (*example, random))
    dataset = _without_skipped(_parallel(dataset, load, placeholder), split, skipped)
    return _finish(dataset.batch(batch_size, drop_remainder=True))


def evaluation_pipeline(split, *, batch_size, num_classes, skipped, crop_size=224,
                        resize_size=256, crops=1, num_pipelines=1, pipeline_index=0):
    """Batches of `split` in order, once, for evaluation.

    Args:
        split, batch_size, num_classes, skipped, num_pipelines, pipeline_index: as for
            `training_pipeline`.
        crop_size, resize_size: the crops are `crop_size` squares of the image resized
            to a shorter side of `resize_size` (224 of 256).
        crops: 1 (the central crop) or 10 (`image_augment.ten_crops`).

    Returns:
        `tf.data.Dataset` of ``(images, labels int32 [B], weights float32 [B])``: uint8
        images ``[B, crop, crop, 3]``, or ``[B, 10, crop, crop, 3]`` for ten crops; an
        element that was skipped stays as a blank image of weight 0 (1 for the others), so
        the number of batches is known (Keras's metrics leave weight-0 elements out; its
        loss averages over the batch, so a skipped image lowers ``val_loss`` a little).
    """
    positive_int("batch_size", batch_size)
    examples = split.examples(num_pipelines=num_pipelines, pipeline_index=pipeline_index)
    dataset = _evaluation_elements(split, examples, num_classes=num_classes, skipped=skipped,
                                   crop_size=crop_size, resize_size=resize_size, crops=crops)
    count = split.shard_size(num_pipelines, pipeline_index)
    return _finish(dataset.batch(batch_size).apply(
        tf.data.experimental.assert_cardinality(-(-count // batch_size))))


def _evaluation_elements(split, examples, *, num_classes, skipped, crop_size, resize_size,
                         crops):
    """``(image, label, weight)`` of each of `examples` (see `evaluation_pipeline`)."""
    one_of("crops", crops, CROPS)
    if resize_size < crop_size:
        raise ValueError(f"Expected resize_size >= crop_size. Received: resize_size="
                         f"{resize_size}, crop_size={crop_size}")
    shape = [10, crop_size, crop_size, 3] if crops == 10 else [crop_size, crop_size, 3]
    center = functools.partial(image_augment.center_window, crop_size=crop_size,
                               resize_size=resize_size)

    def load(source, index):
        encoded, label = _checked(*split.read(source, index), num_classes)
        if crops == 10:
            image = image_augment.ten_crops(decode_window(encoded, whole_window),
                                            crop_size=crop_size, resize_size=resize_size)
        else:
            image = image_augment.resize(decode_window(encoded, center),
                                         [crop_size, crop_size], antialias=True)
        return tf.ensure_shape(image, shape), label, True, index

    def placeholder(source, index):
        return tf.zeros(shape, tf.uint8), -1, False, index

    return _weighted(_parallel(examples, load, placeholder), split, skipped)


def check_decodable(split, *, num_classes, sample=16):
    """A ValueError naming the split's folder (and the first failure) unless at least one
    of its first `sample` images reads and decodes: a folder where nothing decodes is
    refused before training rather than skipped image by image forever."""
    skipped = SkippedImages()
    elements = _evaluation_elements(split, split.examples().take(sample),
                                    num_classes=num_classes, skipped=skipped, crop_size=32,
                                    resize_size=32, crops=1)
    if not any(float(weight) for _, _, weight in elements):
        counts, examples = skipped.take()
        raise ValueError(f"Expected readable images in {split.where}. Received: none of the "
                         f"first {sum(counts.values())} could be decoded, e.g. "
                         f"{examples.get(split.name)}")


class Shards:
    """A split's `training_pipeline` sharded for distributed training
    (`keras_zoo.train.multiworker.fit_distributed`): each input pipeline reads every
    N-th file (or TFRecord shard) and forms per-replica batches of the global batch.

    Each pipeline's stream follows from the seed, so a run resumed at global step ``s``
    skips the ``s * local replicas * B`` elements its pipeline had read before decoding
    anything (file names and draws only). Images that failed to decode before ``s`` are
    not counted there: a resumed run then sees again as many images as had failed.

    Args:
        split: an `ImageFiles` or `TFRecordFiles`.
        global_batch_size: the global batch size.
        **options: `training_pipeline`'s other arguments (``num_classes``, ``skipped``,
            the augmentation, ``seed``).
    """

    def __init__(self, split, *, global_batch_size, **options):
        self.split, self.options = split, options
        self.batch_size = positive_int("global_batch_size", global_batch_size)

    def steps_per_pass(self):
        """Global batches per pass over the split."""
        return max(1, self.split.num_examples // self.batch_size)

    def dataset(self, context=None, start_step=0):
        """This input pipeline's per-replica batches from global step `start_step` on."""
        from .examples import pipeline_replicas

        replicas, _, local = pipeline_replicas(context)
        if self.batch_size % replicas:
            raise ValueError(f"Expected a global batch size divisible by the {replicas} "
                             f"replicas. Received: global_batch_size={self.batch_size}")
        per_replica = self.batch_size // replicas
        pipelines = 1 if context is None else context.num_input_pipelines
        index = 0 if context is None else context.input_pipeline_id
        return training_pipeline(self.split, batch_size=per_replica, num_pipelines=pipelines,
                                 pipeline_index=index, skip=int(start_step) * local * per_replica,
                                 **self.options)
