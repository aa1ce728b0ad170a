"""Stateless seeds for the random ops: what a ``seed`` argument of `keras_zoo.ops` means.

Ops hold no random state. Each random op takes ``seed`` and draws with
``tf.random.stateless_*``, so the same seed gives the same numbers:

- a ``[2]`` integer tensor: the stateless seed itself. A layer owns a
  `keras.random.SeedGenerator` and passes ``seed_generator.next()``, so every
  call of the layer draws new numbers and a seeded model repeats them.
  Non-int32 seeds (the int64 state of a SeedGenerator) are reduced modulo
  ``2**31 - 2`` to int32 exactly as Keras' TensorFlow backend does, so an op
  draws the numbers ``keras.random.*`` draws from the same seed;
- a Python int ``s``: the seed ``[s, 0]``, as ``keras.random`` reads an int
  seed: the same numbers on every call (repeatable, stateless);
- None: a fresh seed from TensorFlow's global random generator (a stateful
  ``tf.random.uniform``), which ``tf.random.set_seed`` (called by
  ``keras.utils.set_random_seed``) makes repeatable from program start. For
  reproducible layers pass a seed instead.
"""

import tensorflow as tf

_INT32_MAX = 2**31 - 1


def stateless_seed(seed):
    """The int32 ``[2]`` seed for ``tf.random.stateless_*`` (rules in the module docstring).

    Args:
        seed: a ``[2]`` int tensor (or list), a Python int, or None.

    Returns:
        int32 ``[2]`` tensor.
    """
    if seed is None:
        return tf.random.uniform([2], minval=0, maxval=_INT32_MAX, dtype=tf.int32)
    if isinstance(seed, bool):
        raise ValueError(f"Expected seed to be an int, a [2] int tensor or None. "
                         f"Received: seed={seed!r}")
    if isinstance(seed, int):
        seed = tf.constant([seed, 0], tf.int64)
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer or seed.shape.rank != 1 or seed.shape[0] not in (2, None):
        raise ValueError("Expected seed to be an int, a [2] int tensor or None. "
                         f"Received: seed of dtype {seed.dtype.name} and shape {seed.shape}")
    if seed.dtype == tf.int32:
        return seed
    # Keras' TensorFlow backend (`random._cast_seed`): int64 states, int32 seeds for XLA.
    return tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), _INT32_MAX - 1), tf.int32)
