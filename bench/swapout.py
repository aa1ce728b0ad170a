"""Swapout costs: training step time against the same net with `Add` merges,
and stochastic inference (N sampled passes) against one deterministic pass.

    python bench/swapout.py                       # CPU-sized: Swapout v2(20) W x2, batch 32
    python bench/swapout.py --depth 32 --width 4 --batch 128   # the paper's net and batch

Prints one JSON line per measurement. Nets are built once and timed in the
same process, alternating, after a warm-up; times are medians over repeats.
Issue 5 targets: swapout step <= 1.15x the Add step; N=30 stochastic inference
close to 30x one pass, or better by batching the samples (`max_batch_size`).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_zoo import models  # noqa: E402

from _report import emit  # noqa: E402


def _train_step(model):
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(jit_compile=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def _time(fn, steps):
    start = time.perf_counter()
    for _ in range(steps):
        out = fn()
    np.asarray(out)  # wait for the device
    return (time.perf_counter() - start) / steps


def bench_training(args, x, y):
    nets = {merge: models.SwapoutResNet(args.depth, args.width, merge=merge, seed=0,
                                        input_shape=x.shape[1:], normalization="unit")
            for merge in ("add", "swapout", "stochastic_depth")}
    steps = {merge: _train_step(model) for merge, model in nets.items()}
    times = {merge: [] for merge in nets}
    for merge, step in steps.items():  # warm-up: trace and first runs
        _time(lambda step=step: step(x, y), 2)
    for _ in range(args.repeats):  # alternate the nets within each repeat
        for merge, step in steps.items():
            times[merge].append(_time(lambda step=step: step(x, y), args.steps))
    base = statistics.median(times["add"])
    for merge, values in times.items():
        med = statistics.median(values)
        emit({"bench": "train_step", "net": f"{args.depth}x{args.width}",
              "merge": merge, "batch": len(x), "seconds": round(med, 5),
              "ratio_vs_add": round(med / base, 3), "repeats": args.repeats,
              "steps": args.steps, "device": DEVICE})
    return nets["swapout"]


def bench_inference(args, model, x):
    one_pass = tf.function(lambda images: model(images, training=False))
    variants = {"deterministic_1_pass": lambda: one_pass(x)}
    for label, max_batch in (("batched", args.max_batch_size), ("unbatched", len(x))):
        fn = tf.function(lambda images, n, mb=max_batch: models.sampled_probabilities(
            model, images, n, max_batch_size=mb))
        variants[f"stochastic_N{args.samples}_{label}"] = (
            lambda fn=fn: fn(x, tf.constant(args.samples)))
    times = {name: [] for name in variants}
    for fn in variants.values():
        _time(fn, 1)
    for _ in range(args.repeats):
        for name, fn in variants.items():
            times[name].append(_time(fn, 1))
    base = statistics.median(times["deterministic_1_pass"])
    for name, values in times.items():
        med = statistics.median(values)
        emit({"bench": "inference", "net": f"{args.depth}x{args.width}",
              "mode": name, "batch": len(x), "seconds": round(med, 5),
              "ratio_vs_one_pass": round(med / base, 2),
              "max_batch_size": args.max_batch_size, "device": DEVICE})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=30, help="N of stochastic inference")
    parser.add_argument("--max-batch-size", type=int, default=256)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.batch, args.image_size, args.image_size, 3)).astype("float32")
    y = rng.integers(0, 10, (args.batch,))
    model = bench_training(args, x, y)
    bench_inference(args, model, x)


DEVICE = (tf.config.list_physical_devices("GPU") or tf.config.list_physical_devices("CPU"))[
    0].device_type
if __name__ == "__main__":
    main()
