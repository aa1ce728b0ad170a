"""Distribution strategies and precision settings for `keras-zoo train`.

`get_strategy(name)` maps a ``--strategy`` value to a `tf.distribute`
strategy; `STRATEGIES` is the one table of names, so a new strategy (e.g.
"multiworker") is one function and one entry. `precision_policy` picks the
mixed-precision policy that suits the device.
"""

import contextlib
import functools

import keras
import tensorflow as tf


def _default(devices=None):
    return tf.distribute.get_strategy()


def _mirrored(devices=None):
    """Synchronous data parallelism on one machine: `devices`, or all GPUs, or,
    without a GPU, every logical CPU device (a CPU split into logical devices,
    as the tests do, then acts as several replicas)."""
    if devices is None:
        found = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        devices = [d.name for d in found]
    return _mirrored_on(tuple(devices))


@functools.lru_cache(maxsize=None)
def _mirrored_on(devices):
    # One strategy per device set and process: two MirroredStrategy objects number their
    # collective ops from the same key, and the second one's all-reduce then fails with
    # "Shape mismatch in the collective instance 100" (a second run in one process).
    return tf.distribute.MirroredStrategy(list(devices))


def _multiworker(devices=None):
    """MultiWorkerMirroredStrategy from ``TF_CONFIG`` (``keras-zoo train --workers
    h:p,h:p --task-index I`` sets it). `train.run` trains it with
    `train.multiworker.fit_distributed`: Keras 3's fit fails under it (keras#20585)."""
    from keras_zoo.train import multiworker

    return multiworker.multiworker_strategy()


STRATEGIES = {
    "default": _default,
    "mirrored": _mirrored,
    "multiworker": _multiworker,
}


def get_strategy(name="default", devices=None):
    """Returns the `tf.distribute.Strategy` named `name` (a key of `STRATEGIES`);
    `devices` (device names) restricts "mirrored" to them. Each `STRATEGIES`
    value is a function ``f(devices=None) -> tf.distribute.Strategy``."""
    if name not in STRATEGIES:
        raise ValueError(f"Expected a strategy in {sorted(STRATEGIES)}. "
                         f"Received: strategy={name!r}")
    return STRATEGIES[name](devices)


def precision_policy(mixed_precision):
    """The Keras dtype policy: ``"float32"``, or with `mixed_precision`
    ``"mixed_float16"`` on a GPU and ``"mixed_bfloat16"`` on CPU (fast on
    CPUs with AVX512-BF16 / AMX; float16 has no fast CPU kernels). Keras
    wraps the optimizer in a `LossScaleOptimizer` for mixed_float16."""
    if not mixed_precision:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


@contextlib.contextmanager
def dtype_policy(name):
    """Sets the global Keras dtype policy to `name` inside the block only."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
