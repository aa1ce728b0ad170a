"""Distribution strategies and precision settings for `keras-zoo train`.

`get_strategy(name)` maps a ``--strategy`` value to a `tf.distribute`
strategy; `STRATEGIES` is the one table of names, so a new strategy (e.g.
"multiworker") is one function and one entry. `precision_policy` picks the
mixed-precision policy that suits the device.
"""

import contextlib
import functools
import sys

import keras
import tensorflow as tf

from keras_zoo.train import cpu


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


def precision_choice(mixed_precision):
    """`(policy, reason)`: the Keras dtype policy for ``--mixed-precision`` and why.

    Without `mixed_precision`: ``"float32"``. With it: ``"mixed_float16"`` on a
    GPU (Keras wraps the optimizer in a `LossScaleOptimizer`);
    ``"mixed_bfloat16"`` on a CPU with AVX512_BF16 or AMX-BF16, which
    multiply bfloat16 natively; ``"float32"`` on any other CPU, where bfloat16
    is emulated and slower than float32 (a ResNet-50 training step took 9x
    longer on an AVX2-only EPYC) and float16 has no fast kernels. `reason` is
    one line naming the device.
    """
    if not mixed_precision:
        return "float32", "mixed precision not requested"
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16", "a GPU: float16 compute, loss scaling"
    info = cpu.cpu_info()
    if cpu.has_fast_bfloat16(info):
        return "mixed_bfloat16", f"CPU {cpu.describe(info)} multiplies bfloat16 natively"
    return "float32", (f"CPU {cpu.describe(info)} has no AVX512_BF16 or AMX: bfloat16 would be "
                       "emulated and slower than float32")


def precision_policy(mixed_precision):
    """The policy of `precision_choice`. When mixed precision was asked for and the
    CPU cannot use it, trains in float32 and says so in one line on stderr
    (rather than refusing: the run is the same, only its speed would differ)."""
    policy, reason = precision_choice(mixed_precision)
    if mixed_precision and policy == "float32":
        print(f"keras-zoo: --mixed-precision: {reason}; training in float32", file=sys.stderr)
    return policy


@contextlib.contextmanager
def dtype_policy(name):
    """Sets the global Keras dtype policy to `name` inside the block only."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
