"""ResNet throughput: keras_zoo vs keras.applications, in one process, contenders alternating.

Prints JSON lines: one per measurement, then a summary per (task, precision) with the
median images/s of each contender and its ratio to keras.applications.

    python bench/resnet.py                      # 5 repeats (slow on CPU: ~1 h)
    python bench/resnet.py --repeats 3 --steps 2 --skip-cifar

Contenders (ResNet-50, 224x224, 1000 classes, weights=None):
  keras_applications   keras.applications.ResNet50 (conv biases, stride on the 1x1 conv)
  keras_zoo_v1         models.ResNet50(stride_on="1x1"): the same architecture, bias-free
  keras_zoo            models.ResNet50(): our default, stride on the 3x3 conv (torchvision
                       "v1.5", ~4.1 vs ~3.9 GFLOPs: expect it a few % slower)
Tasks: training step (train_on_batch, SGD, batch 16), inference (predict_on_batch, batch 8),
for float32 and the policy `keras-zoo train --mixed-precision` picks here ("auto":
mixed_bfloat16 only on CPUs with AVX512_BF16 or AMX, else float32, measured once; a
"policy" line says which and why; `--policies float32,mixed_bfloat16` forces bf16). The
policy is set before each model is built. Then ResNet-20 CIFAR `model.fit` images/s
(batch 128), keras_zoo only. Every line names the CPU (model, vector extensions).

``--onednn-bfloat16-rewrite`` turns on TensorFlow's oneDNN bfloat16 graph rewrite
(``auto_mixed_precision_onednn_bfloat16``) for the whole process, to set it against the
mixed_bfloat16 policy: ``--policies float32 --onednn-bfloat16-rewrite`` is float32
weights with bfloat16 compute in the rewritten graphs.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_zoo import models  # noqa: E402
from keras_zoo.train import strategies  # noqa: E402

from _report import emit  # noqa: E402

CONTENDERS = {
    "keras_applications": lambda: keras.applications.ResNet50(weights=None),
    "keras_zoo_v1": lambda: models.ResNet50(stride_on="1x1", normalization="caffe"),
    "keras_zoo": lambda: models.ResNet50(),
}
TASKS = {"train": 16, "inference": 8}  # batch sizes


def build(name, policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = CONTENDERS[name]()
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model


def step_fn(model, task, x, y):
    if task == "train":
        return lambda: model.train_on_batch(x, y)
    return lambda: model.predict_on_batch(x)


def bench_resnet50(policy, repeats, steps, warmup):
    rng = np.random.default_rng(0)
    data = {task: (rng.uniform(0, 255, (b, 224, 224, 3)).astype("float32"),
                   rng.integers(0, 1000, (b,))) for task, b in TASKS.items()}
    built = {name: build(name, policy) for name in CONTENDERS}
    fns = {(name, task): step_fn(model, task, *data[task])
           for name, model in built.items() for task in TASKS}
    for fn in fns.values():  # trace and warm up every contender first
        for _ in range(warmup):
            fn()
    results = {key: [] for key in fns}
    for r in range(repeats):
        for task in TASKS:
            for name in CONTENDERS:  # alternate contenders inside each repeat
                fn = fns[(name, task)]
                start = time.perf_counter()
                for _ in range(steps):
                    fn()
                rate = steps * TASKS[task] / (time.perf_counter() - start)
                results[(name, task)].append(rate)
                emit({"bench": "resnet50", "policy": policy, "task": task, "contender": name,
                      "repeat": r, "batch": TASKS[task], "images_per_s": round(rate, 3)})
    for task in TASKS:
        base = statistics.median(results[("keras_applications", task)])
        summary = {"bench": "resnet50_summary", "policy": policy, "task": task,
                   "repeats": repeats, "steps": steps}
        for name in CONTENDERS:
            med = statistics.median(results[(name, task)])
            summary[name] = round(med, 3)
            summary[f"{name}_ratio"] = round(med / base, 3)
        emit(summary)


class _EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def bench_cifar(policy, repeats, images):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (images, 32, 32, 3)).astype("uint8")
    y = rng.integers(0, 10, (images,))
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = models.ResNet20()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = _EpochTimer()
    model.fit(x, y, batch_size=128, epochs=1 + repeats, verbose=0, callbacks=[timer])
    rates = [images / t for t in timer.times[1:]]  # epoch 0 traces the graph
    emit({"bench": "resnet20_cifar_fit", "policy": policy, "batch": 128, "images": images,
          "repeats": repeats, "images_per_s": round(statistics.median(rates), 2),
          "all": [round(r, 2) for r in rates]})


def _policies(requested):
    """The policies to measure, each once, saying why each was chosen."""
    chosen = []
    for name in requested.split(","):
        if name == "auto":
            policy, reason = strategies.precision_choice(True)
            reason = f"--mixed-precision picks it: {reason}"
        else:
            policy, reason = name, "named in --policies"
        emit({"bench": "policy", "requested": name, "policy": policy, "reason": reason,
              "measured": policy not in chosen})
        if policy not in chosen:
            chosen.append(policy)
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--policies", default="float32,auto",
                        help="comma-separated Keras dtype policies; 'auto' is what "
                             "keras-zoo train --mixed-precision picks on this machine")
    parser.add_argument("--cifar-images", type=int, default=2048)
    parser.add_argument("--skip-resnet50", action="store_true")
    parser.add_argument("--skip-cifar", action="store_true")
    parser.add_argument("--onednn-bfloat16-rewrite", action="store_true")
    args = parser.parse_args()
    import tensorflow as tf

    if args.onednn_bfloat16_rewrite:
        tf.config.optimizer.set_experimental_options(
            {"auto_mixed_precision_onednn_bfloat16": True})

    emit({"bench": "env", "tensorflow": tf.__version__, "keras": keras.__version__,
          "cpus": os.cpu_count(), "repeats": args.repeats, "steps": args.steps,
          "onednn_bfloat16_rewrite": args.onednn_bfloat16_rewrite})
    for policy in _policies(args.policies):
        if not args.skip_resnet50:
            bench_resnet50(policy, args.repeats, args.steps, args.warmup)
        if not args.skip_cifar:
            bench_cifar(policy, args.repeats, args.cifar_images)
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
