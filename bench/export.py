"""Export latency and size, per model: Keras predict vs SavedModel vs TFLite
(float32, int8) on this CPU. Prints one JSON line per (model, runtime).

    python bench/export.py                      # ResNet-20 (CIFAR shape), ResNet-56
    python bench/export.py --models resnet20 --batch 1 --repeats 50
    python bench/export.py --models mask_rcnn --mask-rcnn-size 512 --repeats 5

Weights are freshly initialised (latency and size do not depend on them);
int8 calibrates on random images. Latency: median of `--repeats` timed calls
after 3 warm-up calls, batch `--batch`.

``mask_rcnn``: the R50-FPN `MaskRCNN` (91 classes) on one uint8 image of
``--mask-rcnn-size`` squared (its resize policy set to that size), per image:
Keras, the SavedModel's ``serving_default`` (images of any size), TFLite float32
and dynamic-range at that fixed size (builtin ops: RoIAlign's gather
implementation), unverified (random weights detect nothing meaningful). Its graph
has static shapes (100 padded detections, masks for all), so the latency does not
depend on what random weights detect.
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_zoo import models  # noqa: E402
from keras_zoo.export import to_saved_model, to_tflite  # noqa: E402

from _report import emit  # noqa: E402

BUILDERS = {"resnet20": models.ResNet20, "resnet56": models.ResNet56}


def _median_ms(fn, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def bench(name, batch, repeats, workdir):
    from ai_edge_litert.interpreter import Interpreter

    model = BUILDERS[name]()
    x = np.random.default_rng(0).integers(0, 256, (batch, *model.input_shape[1:]), np.uint8)
    xf = x.astype("float32")
    rows = [("keras_predict", lambda: model.predict(xf, verbose=0), None),
            ("keras_call", lambda: model(xf, training=False), None)]
    sm = to_saved_model(model, os.path.join(workdir, name))
    serve = tf.saved_model.load(sm).signatures["serving_default"]
    rows.append(("saved_model", lambda: serve(images=tf.constant(x)), sm))
    calib = np.random.default_rng(1).integers(0, 256, (64, *model.input_shape[1:]), np.uint8)
    for quantize in (None, "int8"):
        path = to_tflite(model, os.path.join(workdir, f"{name}_{quantize or 'float32'}.tflite"),
                         quantize=quantize, representative_data=calib)
        runner = Interpreter(model_path=path).get_signature_runner("serving_default")
        rows.append((f"tflite_{quantize or 'float32'}", lambda r=runner: r(images=xf), path))
    _emit_rows(name, model, rows, repeats, batch=batch)


def _emit_rows(name, model, rows, repeats, **extra):
    for runtime, fn, path in rows:
        emit({"model": name, "runtime": runtime, **extra,
              "latency_ms": round(_median_ms(fn, repeats), 3),
              "size_bytes": _size(path) if path else None,
              "params": model.count_params()})


def bench_mask_rcnn(size, repeats, workdir):
    """The module docstring's ``mask_rcnn`` rows (batch 1)."""
    from ai_edge_litert.interpreter import Interpreter

    model = models.MaskRCNN(min_size=size, max_size=size)
    x = np.random.default_rng(0).integers(0, 256, (1, size, size, 3), np.uint8)
    model(x)
    rows = [("keras_predict", lambda: model.predict(x, verbose=0), None),
            ("keras_call", lambda: model(x), None)]
    # Not verified: random heads give degenerate detections (scores saturated at 1.0 for
    # many classes, near-tied boxes), whose matching says nothing; the tests verify both
    # exports on a fitted model. Latency and size do not depend on the weights.
    sm = to_saved_model(model, os.path.join(workdir, "mask_rcnn"), verify=False)
    serve = tf.saved_model.load(sm).signatures["serving_default"]
    rows.append(("saved_model", lambda: serve(images=tf.constant(x)), sm))
    for quantize in (None, "dynamic"):
        path = to_tflite(model, os.path.join(workdir, f"mask_rcnn_{quantize or 'float32'}.tflite"),
                         input_size=(size, size), quantize=quantize, verify=False)
        runner = Interpreter(model_path=path).get_signature_runner("serving_default")
        rows.append((f"tflite_{quantize or 'float32'}",
                     lambda r=runner: r(images=x.astype("float32")), path))
    _emit_rows("mask_rcnn_r50_fpn", model, rows, repeats, batch=1, input_size=[size, size])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(BUILDERS),
                        choices=[*BUILDERS, "mask_rcnn"])
    parser.add_argument("--mask-rcnn-size", type=int, default=512,
                        help="mask_rcnn: the fixed square input size (pixels)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            if name == "mask_rcnn":
                bench_mask_rcnn(args.mask_rcnn_size, args.repeats, workdir)
            else:
                bench(name, args.batch, args.repeats, workdir)


if __name__ == "__main__":
    main()
