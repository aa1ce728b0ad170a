"""Stochastic against deterministic inference of a small Swapout net on the
quick-start digits data (scikit-learn's 8x8 scans at 32x32, 1,437 train /
360 test; nothing is downloaded).

    python bench/swapout_digits.py                 # Swapout v2(20) W x2, 15 epochs (CPU)
    python bench/swapout_digits.py --merge stochastic_depth

Trains with the paper's recipe scaled down (SGD momentum 0.9, L2 1e-4,
lr 0.1 divided by 10 after 75% and 87.5% of the epochs, i.e. 192/256 and
224/256), then prints JSON lines: deterministic test accuracy, and the
test accuracy of the mean softmax of N sampled passes for N = 1, 5, 30,
repeated `--repeats` times with fresh masks (mean, min, max).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_zoo import models  # noqa: E402
from keras_zoo.train import datasets  # noqa: E402
from keras_zoo.train.optimizers import L2SGD  # noqa: E402
from keras_zoo.train.schedules import StepSchedule  # noqa: E402

from _report import emit  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=int, default=2)
    parser.add_argument("--merge", default="swapout",
                        choices=("swapout", "stochastic_depth", "add"))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--samples", type=int, nargs="+", default=[1, 5, 30])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)

    data = datasets.load("digits")
    train = datasets.make_pipeline(data.x_train, data.y_train, batch_size=args.batch_size,
                                   training=True, augmentation=data.augmentation,
                                   seed=args.seed)
    steps = args.epochs * int(np.ceil(len(data.x_train) / args.batch_size))
    model = models.SwapoutResNet(args.depth, args.width, merge=args.merge, seed=args.seed,
                                 input_shape=data.x_train.shape[1:], normalization="unit",
                                 num_classes=data.num_classes)
    schedule = StepSchedule([int(steps * 192 / 256), int(steps * 224 / 256)],
                            [0.1, 0.01, 0.001])
    model.compile(optimizer=L2SGD(schedule, momentum=0.9, l2=1e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train, epochs=args.epochs, verbose=0)
    header = {"net": model.name, "epochs": args.epochs, "seed": args.seed,
              "train_seconds": round(time.perf_counter() - start, 1),
              "final_train_loss": round(history.history["loss"][-1], 4),
              "final_train_accuracy": round(history.history["accuracy"][-1], 4)}
    emit({"bench": "digits_train", **header})

    y = data.y_test
    deterministic = model.predict(data.x_test, batch_size=128, verbose=0)
    emit({"bench": "digits_inference", "net": model.name, "mode": "deterministic",
          "accuracy": round(float(np.mean(deterministic.argmax(1) == y)), 4)})
    for n in args.samples:
        accs = []
        start = time.perf_counter()
        for _ in range(args.repeats):
            probs = models.stochastic_predict(model, data.x_test, n, batch_size=128)
            accs.append(float(np.mean(probs.argmax(1) == y)))
        emit({
            "bench": "digits_inference", "net": model.name, "mode": f"stochastic_N{n}",
            "accuracy_mean": round(float(np.mean(accs)), 4),
            "accuracy_min": round(min(accs), 4), "accuracy_max": round(max(accs), 4),
            "repeats": args.repeats,
            "seconds_per_repeat": round((time.perf_counter() - start) / args.repeats, 2)})


if __name__ == "__main__":
    main()
