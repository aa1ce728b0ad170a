"""ImageNet-style crops and colour noise on one decoded image, with stateless seeds.

Training crops are *windows* ``[y, x, height, width]`` of the original image,
computed from its size before it is decoded, so that a JPEG is decoded only
inside the window (`tf.image.decode_and_crop_jpeg`) and then resized to the
crop size; that equals resizing the whole image and cropping, up to the
interpolation at the window's edge:

- `scale_window`: He et al. 2015, Sec. 3.4 ("scale augmentation", after
  Simonyan & Zisserman): the shorter side resized to S, uniform in
  ``scale_range`` ([256, 480]), and a random 224 x 224 crop of that.
- `inception_window`: the random-resized crop of torchvision's reference
  (Szegedy et al. 2015): 8% to 100% of the area, aspect ratio in [3/4, 4/3]; the
  whole image when ten tries find no such window.
- `center_window`: evaluation: the shorter side resized to ``resize_size`` (256)
  and the central ``crop_size`` (224) square.

`ten_crops` is the paper's 10-crop testing (Sec. 3.4, after Krizhevsky et al.
2012): the four corner crops and the central one of the image resized to a
shorter side of 256, and their mirror images. `lighting` is AlexNet's PCA
colour noise ("the standard color augmentation in [21]", Sec. 3.4).

Images are uint8 ``[H, W, 3]`` in and out (the model normalises).
"""

import tensorflow as tf

# AlexNet's colour noise (Krizhevsky et al. 2012, Sec. 4.1): eigenvalues and eigenvectors
# (columns) of the covariance of ImageNet's RGB pixels in [0, 1], the values
# fb.resnet.torch (the ResNet authors' Torch reproduction) publishes.
PCA_EIGENVALUES = (0.2175, 0.0188, 0.0045)
PCA_EIGENVECTORS = ((-0.5675, 0.7192, 0.4009),
                    (-0.5808, -0.0045, -0.8140),
                    (-0.5836, -0.6948, 0.4203))
INCEPTION_AREA = (0.08, 1.0)  # torchvision RandomResizedCrop's defaults
INCEPTION_RATIO = (3 / 4, 4 / 3)


def _side(value):
    return tf.cast(tf.round(value), tf.int32)


def scale_window(shape, seed, *, scale_range, crop_size):
    """The window of a random `crop_size` square of the image resized to a shorter side
    S, uniform in ``[scale_range[0], scale_range[1]]`` (He et al. 2015, Sec. 3.4).

    Args:
        shape: int ``[2]`` ``(height, width)`` of the image.
        seed: int ``[2]`` stateless seed.
        scale_range: ``(low, high)`` shorter sides (pixels), ``low >= crop_size``.
        crop_size: the crop's side after resizing.

    Returns:
        int32 ``[4]``: ``(y, x, side, side)`` in the image's pixels.
    """
    shape = tf.cast(shape, tf.int32)
    seeds = tf.random.experimental.stateless_split(seed, 3)
    target = tf.random.stateless_uniform([], seeds[0], scale_range[0], scale_range[1] + 1,
                                         dtype=tf.int32)
    shorter = tf.reduce_min(shape)
    side = tf.clip_by_value(_side(crop_size * tf.cast(shorter, tf.float32)
                                  / tf.cast(target, tf.float32)), 1, shorter)
    y = tf.random.stateless_uniform([], seeds[1], 0, shape[0] - side + 1, dtype=tf.int32)
    x = tf.random.stateless_uniform([], seeds[2], 0, shape[1] - side + 1, dtype=tf.int32)
    return tf.stack([y, x, side, side])


def inception_window(shape, seed, *, area_range=INCEPTION_AREA, ratio_range=INCEPTION_RATIO):
    """The window of a random-resized crop: a fraction of the area in `area_range` with
    width / height in `ratio_range` (TensorFlow's `sample_distorted_bounding_box`, ten
    tries, then the whole image). Returns int32 ``[4]`` ``(y, x, height, width)``."""
    shape = tf.cast(shape, tf.int32)
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.concat([shape, [3]], 0), tf.zeros([1, 0, 4]), seed, min_object_covered=0.0,
        aspect_ratio_range=ratio_range, area_range=area_range, max_attempts=10,
        use_image_if_no_bounding_boxes=True)
    return tf.stack([begin[0], begin[1], size[0], size[1]])


def center_window(shape, *, crop_size, resize_size):
    """The central square that becomes the `crop_size` crop of the image resized to a
    shorter side of `resize_size`. Returns int32 ``[4]`` ``(y, x, side, side)``."""
    shape = tf.cast(shape, tf.int32)
    shorter = tf.reduce_min(shape)
    side = tf.clip_by_value(_side(tf.cast(shorter, tf.float32) * crop_size / resize_size), 1,
                            shorter)
    return tf.stack([(shape[0] - side) // 2, (shape[1] - side) // 2, side, side])


def resize(image, size, *, antialias=False):
    """uint8 `image` resized to ``size`` ``(height, width)`` (bilinear), rounded."""
    resized = tf.image.resize(image, size, method="bilinear", antialias=antialias)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def lighting(image, seed, std):
    """AlexNet's PCA colour noise: adds ``V (alpha * lambda) * 255`` to every pixel, alpha
    ~ N(0, `std`) per image (3 numbers), V and lambda the `PCA_EIGENVECTORS` and
    `PCA_EIGENVALUES`. uint8 ``[H, W, 3]`` RGB in and out."""
    alpha = tf.random.stateless_normal([3], seed, stddev=std)
    offset = tf.linalg.matvec(tf.constant(PCA_EIGENVECTORS), alpha * PCA_EIGENVALUES) * 255.0
    shifted = tf.cast(image, tf.float32) + offset
    return tf.cast(tf.clip_by_value(tf.round(shifted), 0, 255), tf.uint8)


def shorter_side(image, size):
    """uint8 `image` resized (antialiased) so that its shorter side is `size`."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = size / tf.reduce_min(shape)
    return resize(image, tf.cast(tf.round(shape * scale), tf.int32), antialias=True)


def ten_crops(image, *, crop_size, resize_size):
    """The 10 test crops of He et al. 2015, Sec. 3.4: `image` resized to a shorter side
    of `resize_size`, its four corner and central `crop_size` squares, then the same five
    mirrored. Returns uint8 ``[10, crop_size, crop_size, 3]``."""
    image = shorter_side(image, resize_size)
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    ys = tf.stack([0, 0, height - crop_size, height - crop_size, (height - crop_size) // 2])
    xs = tf.stack([0, width - crop_size, 0, width - crop_size, (width - crop_size) // 2])
    five = tf.stack([image[ys[i]:ys[i] + crop_size, xs[i]:xs[i] + crop_size]
                     for i in range(5)])
    return tf.concat([five, five[:, :, ::-1]], 0)


def check_scale_range(scale_range, crop_size):
    """`scale_range` as two ints ``crop_size <= low <= high``, or a ValueError."""
    if (not isinstance(scale_range, (list, tuple)) or len(scale_range) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in scale_range)
            or not crop_size <= scale_range[0] <= scale_range[1]):
        raise ValueError(f"Expected scale_range [low, high] with {crop_size} (the crop size) <= "
                         f"low <= high. Received: scale_range={scale_range!r}")
    return tuple(scale_range)

