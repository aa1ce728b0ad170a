"""The quick-start dataset: scikit-learn's handwritten digits, 32x32.

`sklearn.datasets.load_digits` ships 1,797 real 8x8 scans (UCI "optdigits"
test set, 43 writers' digits downsampled to 4-bit grey levels 0..16) inside
the scikit-learn package, so nothing is downloaded.
"""

import functools

import numpy as np

from .image_dataset import ImageDataset

SIZE = 32
NUM_TEST = 360  # the last 360 scans (20%); the first 1,437 train


def bilinear_matrix(n_in, n_out):
    """[n_out, n_in] weights of 1-D linear interpolation with half-pixel
    centres and edge clamping (``tf.image.resize(method="bilinear")``)."""
    src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    low = np.floor(src).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = src - low
    weights = np.zeros((n_out, n_in))
    np.add.at(weights, (np.arange(n_out), low), 1 - frac)
    np.add.at(weights, (np.arange(n_out), high), frac)
    return weights


def resize_digits(images, size=SIZE):
    """float ``[N, 8, 8]`` grey levels 0..16 -> uint8 ``[N, size, size, 1]`` in 0..255.

    Bilinear resize (half-pixel centres), then ``round(v * 255 / 16)``.
    """
    rows = bilinear_matrix(images.shape[1], size)
    cols = bilinear_matrix(images.shape[2], size)
    resized = np.einsum("ij,njk,lk->nil", rows, images, cols)
    return np.clip(np.rint(resized * (255.0 / 16.0)), 0, 255).astype(np.uint8)[..., None]


@functools.lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return resize_digits(bunch.images), bunch.target.astype(np.int32)


def load_digits():
    """scikit-learn's 1,797 digit scans, resized to 32x32, with a fixed split.

    The split is by position, not random: the first 1,437 scans train and the
    last 360 test, in the file's order (an 80/20 split with 33 to 37 test
    images per class; no random number is involved, so it never changes).

    Returns:
        `ImageDataset`: x uint8 ``[N, 32, 32, 1]`` (grey levels 0..16 mapped
        to 0..255), y int32 ``[N]`` in 0..9, augmentation ``"shift"``.
    """
    x, y = _digits()
    split = len(x) - NUM_TEST
    return ImageDataset(
        x_train=x[:split].copy(), y_train=y[:split].copy(), x_val=None, y_val=None,
        x_test=x[split:].copy(), y_test=y[split:].copy(), num_classes=10,
        class_names=tuple(str(d) for d in range(10)), name="digits", augmentation="shift")
