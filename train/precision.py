"""``--precision float32|bfloat16|auto`` of ``keras-zoo predict`` and ``evaluate``: the Keras
dtype policy a model runs inference in.

"auto" (the default) runs detectors (Mask / Faster R-CNN, from a run or a preset) and
presets in ``mixed_bfloat16`` on a CPU that multiplies bfloat16 natively (AVX512_BF16 or
AMX-BF16, `cpu.has_fast_bfloat16`), and float32 elsewhere (a GPU, or a CPU that would
emulate bfloat16 more slowly than float32), saying which in one line on stderr; other
runs stay in the float32 their numbers were reported in. On a 2-core AMD EPYC with
AVX512_BF16, Mask R-CNN R50-FPN at 800x1216 took 2.98 s in mixed_bfloat16 against 5.71 s
in float32, and TensorFlow's oneDNN bfloat16 graph rewrite on float32 weights
(``auto_mixed_precision_onednn_bfloat16``) 2.94 s: no faster, and a process-wide switch,
so the Keras policy is what keras_zoo uses (README, bench/mask_rcnn.py).
"""

import sys

from keras_zoo.train import cpu

PRECISIONS = ("auto", "float32", "bfloat16")
BFLOAT16_POLICY = "mixed_bfloat16"


def _has_gpu():
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def inference_policy(precision="auto", *, covered=True, log=None):
    """The Keras dtype policy for `precision` (a `PRECISIONS` value), and says which.

    Args:
        precision: "float32", "bfloat16" (even where the CPU emulates it: asked for), or
            "auto" (see the module docstring).
        covered: whether "auto" may pick bfloat16 for this model (a detector or a preset).
        log: where the one line goes (default: stderr).

    Returns:
        "float32" or "mixed_bfloat16".
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Expected --precision in {PRECISIONS}. Received: {precision!r}")
    if precision == "float32" or (precision == "auto" and not covered):
        return "float32"
    log = log or (lambda line: print(line, file=sys.stderr))
    info = cpu.cpu_info()
    fast = cpu.has_fast_bfloat16(info)
    if precision == "bfloat16":
        policy, why = BFLOAT16_POLICY, ("--precision bfloat16" if fast else
                                        f"--precision bfloat16, emulated on CPU "
                                        f"{cpu.describe(info)}: slower than float32")
    elif _has_gpu():
        policy, why = "float32", "a GPU (--precision bfloat16 to change)"
    elif fast:
        policy, why = BFLOAT16_POLICY, (f"CPU {cpu.describe(info)} multiplies bfloat16 "
                                        "natively; --precision float32 to keep float32")
    else:
        policy, why = "float32", f"CPU {cpu.describe(info)} has no AVX512_BF16 or AMX"
    log(f"keras-zoo: inference in {policy} ({why})")
    return policy
