"""Streaming `tf.data` pipelines over a `CocoSplit`, for `MaskRCNN.fit` and prediction.

Nothing holds the dataset's images or masks in memory: each element is
decoded when the pipeline reaches it (Pillow for the image, pycocotools for
the masks, in parallel ``tf.numpy_function`` calls), then resized, flipped,
grouped by orientation, padded and batched in TensorFlow, and prefetched.

Training batches (`training_pipeline`), the structure `keras_zoo.models.MaskRCNN`
trains on:

    x = {"images": uint8 [B, H, W, 3], "image_sizes": int32 [B, 2]}
    y = {"boxes": float32 [B, G, 4] xyxy, "classes": int32 [B, G],
         "masks": uint8 [B, G, M, M] (each mask cropped to its box), "valid": bool [B, G]}

Each image is resized as the model would (shorter side `min_size`, longer <=
`max_size`; the model then leaves it unchanged), flipped left-right with
probability 1/2 (image, boxes and masks), and batched with images of the same
orientation (landscape or portrait, detectron2's aspect-ratio grouping); the
batch is zero-padded to its largest image, rounded up to a multiple of 32;
ground truth is padded to the batch's largest object count (``valid`` False).

Memory per batch: ``B * H * W * 3`` bytes of images plus ``B * G * M * M`` bytes of
masks, e.g. 2 COCO images (800 x 1088 padded) with up to 93 objects at M = 112:
5.2 MB + 2.3 MB; the parallel decoders hold one full-size RLE mask each
(``H * W`` bytes) while they crop it. See bench/README.md for the figures per recipe.

Prediction batches (`prediction_pipeline`) are the images at their own size,
zero-padded to the batch's largest (the model resizes each one itself and
answers in its pixels), with their ids.
"""

import sys

import numpy as np
import tensorflow as tf

from keras_zoo import ops

from . import coco_masks

ORIENTATIONS = 2  # landscape (width >= height) and portrait


def read_image(path, size=None):
    """uint8 ``[H, W, 3]`` RGB pixels of an image file (any format Pillow reads; grey and
    palette images converted).

    Raises:
        ValueError: not a readable image, or not of ``size`` ``(height, width)``.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as error:  # truncated, corrupt, unknown format
        raise ValueError(f"Expected a readable image file. Received: {path} "
                         f"({type(error).__name__}: {error})") from None
    if size is not None and pixels.shape[:2] != tuple(size):
        raise ValueError(f"Expected {path} of size {size[0]}x{size[1]}. Received: "
                         f"{pixels.shape[0]}x{pixels.shape[1]}")
    return pixels


def read_example(image, mask_size):
    """The training arrays of a `CocoImage`: ``(pixels uint8 [H, W, 3], boxes float32
    [G, 4], classes int32 [G], masks uint8 [G, M, M])`` (`coco_masks.crop_to_box`)."""
    pixels = read_image(image.path, (image.height, image.width))
    masks = np.stack([coco_masks.crop_to_box(seg, box, image.height, image.width, mask_size)
                      for seg, box in zip(image.segmentations, image.boxes)]) if len(
        image.boxes) else np.zeros((0, mask_size, mask_size), np.uint8)
    return pixels, image.boxes, image.classes, masks


class _Warnings:
    """Prints one line per image that fails to decode (once per image id)."""

    def __init__(self, what):
        self.what, self.seen = what, set()

    def __call__(self, image_id, error):
        if image_id not in self.seen:
            self.seen.add(image_id)
            print(f"keras-zoo: skipped {self.what} image id={image_id}: {error}",
                  file=sys.stderr)


PLACEHOLDER_SIDE = 32  # an evaluation image that fails to decode: blank, no objects


def decoded(what, images, mask_size, *, placeholder):
    """A map function: index -> the example's tensors, the image's orientation (portrait,
    from its JSON size) and an ``ok`` flag. An image that fails to decode is warned
    about once; with `placeholder` it becomes a blank image without objects (so that a
    finite pipeline keeps its known length), else it is flagged for a filter."""
    warn = _Warnings(what)
    side = PLACEHOLDER_SIDE if placeholder else 0
    empty = (np.zeros((side, side, 3), np.uint8), np.zeros((0, 4), np.float32),
             np.zeros((0,), np.int32), np.zeros((0, mask_size, mask_size), np.uint8))
    portrait = tf.constant([image.height > image.width for image in images])

    def load(index):
        image = images[int(index)]
        try:
            return (*read_example(image, mask_size), True)
        except ValueError as error:
            warn(image.id, error)
            return (*empty, placeholder)

    def decode(index):
        pixels, boxes, classes, masks, ok = tf.numpy_function(
            load, [index], [tf.uint8, tf.float32, tf.int32, tf.uint8, tf.bool])
        pixels.set_shape([None, None, 3])
        boxes.set_shape([None, 4])
        classes.set_shape([None])
        masks.set_shape([None, mask_size, mask_size])
        ok.set_shape([])
        return pixels, boxes, classes, masks, tf.gather(portrait, index), ok

    return decode


def resize_and_flip(min_size, max_size, flip, seed):
    """A map function: the example resized by the policy (and flipped when `flip`):
    ``(pixels, new (height, width), portrait, boxes, classes, masks)``."""
    def apply(example, random):
        pixels, boxes, classes, masks, portrait, _ = example
        size = tf.shape(pixels)[:2]
        new = ops.images.resized_sizes(size[None], min_size, max_size)[0]
        pixels = tf.image.resize(pixels, new, method="bilinear")
        pixels = tf.cast(tf.clip_by_value(tf.round(pixels), 0, 255), tf.uint8)
        ratio = tf.cast(new, tf.float32) / tf.cast(size, tf.float32)  # (y, x)
        boxes = boxes * tf.stack([ratio[1], ratio[0], ratio[1], ratio[0]])
        if flip:
            flipped = tf.random.stateless_uniform(
                [], tf.stack([random, tf.constant(seed, tf.int64)])) < 0.5
            width = tf.cast(new[1], tf.float32)
            mirrored = tf.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0],
                                 boxes[:, 3]], 1)
            pixels = tf.cond(flipped, lambda: pixels[:, ::-1], lambda: pixels)
            boxes = tf.cond(flipped, lambda: mirrored, lambda: boxes)
            masks = tf.cond(flipped, lambda: masks[:, :, ::-1], lambda: masks)
        return pixels, new, portrait, boxes, classes, masks

    return apply


def _batched(dataset, batch_size, *, drop_remainder, portrait=None):
    """Batches of images of one orientation (landscape / portrait, from the JSON size:
    detectron2's aspect-ratio grouping), zero-padded to the largest; elements start with
    ``(pixels, size, portrait)`` and lose the flag. With `portrait` (the flags of a finite
    dataset's elements) the result has a known length."""
    def orientation(pixels, size, portrait, *rest):
        return tf.cast(portrait, tf.int64)

    def batch(_, window):
        return window.padded_batch(batch_size, drop_remainder=drop_remainder)

    dataset = dataset.group_by_window(orientation, batch, window_size=batch_size).map(
        _without_orientation)
    if portrait is None:
        return dataset
    tall = int(np.sum(portrait))
    count = sum(n // batch_size if drop_remainder else -(-n // batch_size)
                for n in (tall, len(portrait) - tall))
    return dataset.apply(tf.data.experimental.assert_cardinality(count))


def _without_orientation(pixels, size, portrait, *rest):
    return (pixels, size, *rest)


def _model_inputs(pixels, sizes):
    """``{"images", "image_sizes"}`` with the images padded to a multiple of 32."""
    shape = tf.shape(pixels)
    pad = [[0, 0], [0, ops.images.padded_size(shape[1]) - shape[1]],
           [0, ops.images.padded_size(shape[2]) - shape[2]], [0, 0]]
    return {"images": tf.pad(pixels, pad), "image_sizes": sizes}


def _training_batch(pixels, sizes, boxes, classes, masks):
    return (_model_inputs(pixels, sizes),
            {"boxes": boxes, "classes": classes, "masks": masks, "valid": classes > 0})


def _prediction_batch(pixels, sizes, image_ids):
    return _model_inputs(pixels, sizes), image_ids


def _finish(dataset, structure):
    options = tf.data.Options()
    options.deterministic = True
    return dataset.map(structure).with_options(options).prefetch(tf.data.AUTOTUNE)


def training_pipeline(split, *, batch_size, training, min_size, max_size, mask_size,
                      flip=True, seed=0, skip_empty=True, max_images=None):
    """Batches of a `CocoSplit` for `MaskRCNN.fit` (structure in the module docstring).

    Args:
        split: the `CocoSplit`.
        batch_size: images per batch.
        training: shuffle (a new order each epoch), flip and repeat forever (give
            ``steps_per_epoch`` to ``fit``); an image that fails to decode is left out.
            Else the file order once, no flip, a known number of batches (an image that
            fails to decode counts as a blank image without objects).
        min_size, max_size: the resize policy (800, 1333 for COCO).
        mask_size: M, the side of the box-cropped masks (112).
        flip: random horizontal flips when `training` (off for digits: a mirrored
            digit is another symbol).
        seed: the shuffle and flip draws follow from it.
        skip_empty: leave out the images without objects.
        max_images: use the first `max_images` images only (None: all).

    Returns:
        `tf.data.Dataset` of ``(x, y)`` batches.

    Raises:
        ValueError: the split has no image to train on.
    """
    images = split.training_images(skip_empty)[:max_images]
    if not images:
        raise ValueError(f"Expected images with objects to train on in {split.annotations}. "
                         f"Received: {split.summary(training=True)}")
    indices = tf.data.Dataset.range(len(images))
    if training:
        indices = indices.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        indices = indices.repeat()
    dataset = indices.map(decoded(split.name, images, mask_size, placeholder=not training),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if training:
        dataset = dataset.filter(_decoded_ok)
    randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    dataset = tf.data.Dataset.zip((dataset, randoms)).map(
        resize_and_flip(min_size, max_size, flip and training, seed),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    portrait = None if training else [image.height > image.width for image in images]
    dataset = _batched(dataset, batch_size, drop_remainder=training, portrait=portrait)
    return _finish(dataset, _training_batch)


def prediction_pipeline(paths, *, batch_size, ids=None, sizes=None, what="input"):
    """Batches of images at their own size for `MaskRCNN.predict_on_batch`.

    Args:
        paths: image files.
        batch_size: images per batch.
        ids: an int per image (default 0, 1, ...), returned with each batch.
        sizes: ``(height, width)`` per image to check, or None.
        what: how the warnings name the images (e.g. "val": "skipped val image id=3").

    Returns:
        `tf.data.Dataset` of ``(x, ids)``: ``x = {"images": uint8 [B, H, W, 3],
        "image_sizes": int32 [B, 2]}`` (images padded to a multiple of 32) and
        ``ids int64 [B]``. An image that cannot be read is left out, with one warning.
    """
    paths = [str(p) for p in paths]
    ids = list(range(len(paths))) if ids is None else [int(i) for i in ids]
    sizes = [None] * len(paths) if sizes is None else list(sizes)
    warn = _Warnings(what)

    def load(index):
        index = int(index)
        try:
            return read_image(paths[index], sizes[index]), True
        except ValueError as error:
            warn(ids[index], error)
            return np.zeros((0, 0, 3), np.uint8), False

    def decode(index):
        pixels, ok = tf.numpy_function(load, [index], [tf.uint8, tf.bool])
        pixels.set_shape([None, None, 3])
        ok.set_shape([])
        size = tf.shape(pixels)[:2]
        return pixels, size, size[0] > size[1], tf.gather(tf.constant(ids, tf.int64), index), ok

    dataset = tf.data.Dataset.range(len(paths)).map(
        decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.filter(_decoded_ok).map(_without_flag)
    dataset = _batched(dataset, batch_size, drop_remainder=False)
    return _finish(dataset, _prediction_batch)


def _decoded_ok(*element):
    return element[-1]


def _without_flag(*element):
    return element[:-1]
