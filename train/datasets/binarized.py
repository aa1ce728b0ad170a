"""Binarised images for Bernoulli-likelihood models (the discrete VAE of Jang et al. 2016).

Jang et al. and Maddison et al. train on binarised MNIST: each grey level
``p = pixel / 255`` becomes a 0/1 pixel. Three binarisations:

- ``"fixed"``: one seeded Bernoulli(p) draw, kept for every epoch (the
  "fixed binarisation" of Salakhutdinov & Murray 2008 used by the papers);
- ``"dynamic"``: a fresh Bernoulli(p) draw every epoch (`make_binarized_pipeline`);
- ``"threshold"``: ``p > 0.5``, deterministic.

Digits: `datasets.load("digits")` gives the 8x8 scikit-learn scans bilinearly
resized to 32x32. Their real resolution is 8x8, so `load_binarized` averages
4x4 blocks back to 8x8 (``pool=4``) before binarising: each Bernoulli pixel
is then one measured pixel and the NLL counts 64 pixels, not 1024 strongly
correlated ones. MNIST (28x28, IDX files in ``data_dir``) is used as is.

Default binarisation per dataset (`DEFAULT_BINARIZATION`): MNIST ``"fixed"``,
as in the papers (its pixels are nearly all close to 0 or 255, so a draw
changes little). Digits ``"threshold"``: the 4-bit scans are grey, 54 % of the
8x8 pixels lie in (0.1, 0.9), so a Bernoulli draw is mostly noise. Measured
on the test set: the noise entropy alone is 22.5 nats per image against
29.4 nats for the best independent-pixel model, and a VAE trained on fixed
draws barely uses its code; thresholded, the independent-pixel model scores
23.2 nats and the VAE reaches ~17 (bench/concrete_vae.py).
"""

import dataclasses

import numpy as np
import tensorflow as tf

BINARIZATIONS = ("fixed", "dynamic", "threshold")
DEFAULT_POOL = {"digits": 4, "mnist": 1}
DEFAULT_BINARIZATION = {"digits": "threshold", "mnist": "fixed"}


@dataclasses.dataclass(frozen=True, eq=False)
class BinarizedImages:
    """float32 ``[N, H, W, 1]`` images: 0/1 pixels, or probabilities in [0, 1] for
    ``binarization="dynamic"`` (sampled per epoch by `make_binarized_pipeline`)."""

    x_train: np.ndarray
    x_val: np.ndarray | None
    x_test: np.ndarray
    binarization: str
    name: str

    @property
    def image_shape(self):
        return tuple(self.x_train.shape[1:])


def _check(binarization):
    if binarization not in BINARIZATIONS:
        raise ValueError(f"Expected binarization in {BINARIZATIONS}. "
                         f"Received: binarization={binarization!r}")


def grey_levels(images, pool=1):
    """uint8 ``[N, H, W, C]`` -> float32 probabilities ``[N, H/pool, W/pool, C]`` in [0, 1]
    (mean of ``pool x pool`` blocks)."""
    x = np.asarray(images, np.float32) / 255.0
    if pool > 1:
        n, h, w, c = x.shape
        if h % pool or w % pool:
            raise ValueError(f"Expected image sides divisible by pool={pool}. "
                             f"Received: images of shape {x.shape}")
        x = x.reshape(n, h // pool, pool, w // pool, pool, c).mean(axis=(2, 4))
    return x


def binarize(images, binarization="fixed", *, pool=1, seed=0):
    """uint8 ``[N, H, W, C]`` -> float32 ``[N, H/pool, W/pool, C]``: 0/1 for ``"fixed"`` and
    ``"threshold"``; the probabilities themselves for ``"dynamic"``."""
    _check(binarization)
    p = grey_levels(images, pool)
    if binarization == "threshold":
        return (p > 0.5).astype(np.float32)
    if binarization == "fixed":
        return (np.random.default_rng(seed).random(p.shape) < p).astype(np.float32)
    return p


def load_binarized(name, data_dir=None, *, binarization=None, pool=None, validation_split=0,
                   seed=0):
    """`datasets.load(name, ...)` binarised (see the module docstring).

    Args:
        name: ``"digits"`` or ``"mnist"`` (``data_dir``: the folder of the four IDX files).
        binarization: ``"fixed"``, ``"dynamic"`` or ``"threshold"``; None: the
            dataset's default (`DEFAULT_BINARIZATION`).
        pool: block size averaged before binarising; None: 4 for digits, 1 for MNIST.
        validation_split, seed: as in `datasets.load`; ``seed`` also seeds the fixed
            binarisation (train, validation and test get independent draws).

    Returns:
        `BinarizedImages`.
    """
    from . import load

    if name not in DEFAULT_POOL:
        raise ValueError(f"Expected name in {tuple(DEFAULT_POOL)}. Received: name={name!r}")
    binarization = binarization or DEFAULT_BINARIZATION[name]
    _check(binarization)
    data = load(name, data_dir, validation_split=validation_split, seed=seed)
    pool = DEFAULT_POOL[name] if pool is None else int(pool)
    parts = [binarize(x, binarization, pool=pool, seed=seed + i) if x is not None else None
             for i, x in enumerate((data.x_train, data.x_val, data.x_test))]
    return BinarizedImages(*parts, binarization=binarization, name=name)


def make_binarized_pipeline(x, *, batch_size, training, dynamic=False, seed=0):
    """A `tf.data.Dataset` of image batches ``[B, H, W, C]`` float32 for a VAE's `fit`.

    Training shuffles every epoch; ``dynamic=True`` draws Bernoulli(x) pixels anew
    each epoch (``x`` holds probabilities). Evaluation keeps the order; with
    ``dynamic=True`` it uses one fixed draw (seeded) so scores are comparable.
    """
    x = np.asarray(x, np.float32)
    if dynamic and not training:
        x = (np.random.default_rng(seed + 7919).random(x.shape) < x).astype(np.float32)
        dynamic = False
    ds = tf.data.Dataset.from_tensor_slices(x)
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if dynamic:  # per-batch seeds that change every epoch (every new iterator)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(
            lambda b, pair: tf.cast(tf.random.stateless_uniform(tf.shape(b), pair) < b,
                                    tf.float32),
            num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
