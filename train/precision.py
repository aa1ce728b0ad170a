"""``--precision float32|bfloat16|auto`` of ``keras-zoo predict`` and ``evaluate``: how a
model runs inference.

"auto" (the default) runs detectors (Mask / Faster R-CNN, from a run or a preset) and
presets in bfloat16 on a CPU that multiplies it natively (AVX512_BF16 or AMX-BF16,
`cpu.has_fast_bfloat16`), and in float32 elsewhere (a GPU, or a CPU that would emulate
bfloat16 more slowly than float32), saying which in one line on stderr; other runs stay
in the float32 their numbers were reported in.

bfloat16 comes two ways, each used where it measured faster (bench/README.md, on a
2-core AMD EPYC with AVX512_BF16): detectors take Keras's ``mixed_bfloat16`` policy
(Mask R-CNN R50-FPN inference 2.73 CPU s against 2.87 with the rewrite, v2 4.22 against
4.28); classifiers keep float32 weights and turn on TensorFlow's oneDNN bfloat16 graph
rewrite (``auto_mixed_precision_onednn_bfloat16``; ResNet-50 inference 32.8 images/s
against 30.4 with the policy and 21.7 in float32), a process-wide switch, so it is on only
while the command runs that model (`rewrite_scope`).
"""

import contextlib
import sys

from keras_zoo.train import cpu

PRECISIONS = ("auto", "float32", "bfloat16")
POLICY = "mixed_bfloat16"  # Keras's policy: bfloat16 compute, float32 variables
REWRITE = "onednn_bfloat16"  # float32 model, TensorFlow's oneDNN bfloat16 graph rewrite
_REWRITE_OPTION = "auto_mixed_precision_onednn_bfloat16"


def _has_gpu():
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def inference_mode(precision="auto", *, covered=True, detector=True, log=None):
    """How to run inference for `precision` (a `PRECISIONS` value), said in one line.

    Args:
        precision: "float32", "bfloat16" (even where the CPU emulates it: asked for), or
            "auto" (see the module docstring).
        covered: whether "auto" may pick bfloat16 for this model (a detector or a preset).
        detector: a detector (bfloat16 by the Keras policy) or a classifier (by the rewrite).
        log: where the one line goes (default: stderr).

    Returns:
        "float32", `POLICY` or `REWRITE`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Expected --precision in {PRECISIONS}. Received: {precision!r}")
    if precision == "float32" or (precision == "auto" and not covered):
        return "float32"
    log = log or (lambda line: print(line, file=sys.stderr))
    info = cpu.cpu_info()
    fast = cpu.has_fast_bfloat16(info)
    bfloat16 = POLICY if detector else REWRITE
    if precision == "bfloat16":
        mode, why = bfloat16, ("--precision bfloat16" if fast else
                               f"--precision bfloat16, emulated on CPU {cpu.describe(info)}: "
                               f"slower than float32")
    elif _has_gpu():
        mode, why = "float32", "a GPU (--precision bfloat16 to change)"
    elif fast:
        mode, why = bfloat16, (f"CPU {cpu.describe(info)} multiplies bfloat16 natively; "
                               "--precision float32 to keep float32")
    else:
        mode, why = "float32", f"CPU {cpu.describe(info)} has no AVX512_BF16 or AMX"
    how = {POLICY: "mixed_bfloat16", REWRITE: "bfloat16 by TensorFlow's oneDNN rewrite of "
           "the float32 graph", "float32": "float32"}[mode]
    log(f"keras-zoo: inference in {how} ({why})")
    return mode


@contextlib.contextmanager
def rewrite_scope(enabled=True):
    """TensorFlow's oneDNN bfloat16 graph rewrite on inside the block (for the graphs first
    run there), restored after: it is a process-wide setting."""
    if not enabled:
        yield
        return
    import tensorflow as tf

    previous = tf.config.optimizer.get_experimental_options().get(_REWRITE_OPTION, False)
    tf.config.optimizer.set_experimental_options({_REWRITE_OPTION: True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({_REWRITE_OPTION: previous})
