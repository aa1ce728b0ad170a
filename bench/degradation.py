"""The degradation problem (He et al. 2015, Sec. 4.2, Fig. 6): deeper plain nets have a
higher TRAINING error, deeper ResNets a lower one. Trains plain-20, plain-56, ResNet-20
and ResNet-56 on the same data, seeds and budget, and draws Fig. 6 from the curves.

    python bench/degradation.py                                   # digits (shipped)
    python bench/degradation.py --data-dir cifar-10-python.tar.gz --epochs 164 \\
        --batch-size 128 --validation-split 5000 --out runs/degradation-cifar10

Recipe: the paper's (`recipes.resnet_cifar`: SGD momentum 0.9, coupled L2 1e-4 as
`L2SGD`, lr 0.1 divided by 10 at 32k and 48k of 64k iterations) scaled to the run:
the divisions at 50% and 75% of its updates, every net with the same seeded batches
and augmentation (the dataset's: pad and crop for the digits, plus flips for CIFAR).
Training error: Keras's running error over each epoch's augmented batches (batch
norm in training mode), as the paper's curves; validation error: the held-out part
of the training images after each epoch; test error once at the end.

Writes ``<out>/curves.csv`` (net, plain, depth, seed, epoch, train_error, val_error,
seconds; one row per epoch, appended as each net finishes, so a rerun with the same
settings trains only what is missing), ``<out>/test_errors.json`` and
``<out>/degradation.png`` (training error dashed, validation error solid, plain nets
left, ResNets right; with several seeds the mean and +-1 standard deviation bars),
and prints JSON lines
(`_report.emit`): one per trained net and one summary per net over the seeds.
``--plot-only`` redraws the picture from ``curves.csv``.
"""

import argparse
import csv
import functools
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_zoo.train import (  # noqa: E402
    datasets,
    fit,
    plots,  # noqa: E402
    recipes,
    registry,
)
from keras_zoo.train.atomic_files import write_json_atomic  # noqa: E402

from _report import emit  # noqa: E402

COLUMNS = ("net", "plain", "depth", "seed", "epoch", "train_error", "val_error", "seconds")
COLORS = ["tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple"]
DECAY_AT = (0.5, 0.75)  # Sec. 4.2: /10 at 32k and 48k of 64k iterations


def net_name(plain, depth):
    return f"{'plain' if plain else 'ResNet'}-{depth}"


def make_config(args, depth):
    """The resnet_cifar recipe's configuration for ResNet-`depth`, scaled to `args`' run
    (see the module docstring; the boundaries follow once the updates are known)."""
    config = recipes.get("resnet_cifar").get_config(f"resnet{depth}")
    config.update(dataset=args.dataset, batch_size=args.batch_size, epochs=args.epochs)
    if args.learning_rate is not None:
        config["learning_rate"] = args.learning_rate
    return config


def train_one(args, data, plain, depth, seed):
    """Trains one net; returns its per-epoch rows and its test error."""
    recipe = recipes.get("resnet_cifar")
    config = {**make_config(args, depth), "seed": seed}
    keras.utils.set_random_seed(seed)  # the same batches, augmentation and init seed per net
    inputs = recipe.make_datasets(data, config)
    updates = inputs.updates_per_epoch() * args.epochs
    config["boundaries"] = sorted({max(1, round(f * updates)) for f in DECAY_AT})
    builder = functools.partial(registry.get(f"resnet{depth}").builder, plain=plain)
    model = recipe.build_model(builder, data, config)
    recipe.compile_model(model, config, steps_per_epoch=inputs.updates_per_epoch())
    timer = _EpochTimer()
    extra = recipe.callbacks(config, has_validation=True)  # ResNet-110's warm-up, if asked
    history = fit.fit_model(model, inputs, epochs=args.epochs, callbacks=[timer, *extra])
    test = model.evaluate(inputs.test, verbose=0, return_dict=True)
    rows = [{"net": net_name(plain, depth), "plain": int(plain), "depth": depth, "seed": seed,
             "epoch": epoch + 1, "train_error": round(1 - history["accuracy"][epoch], 6),
             "val_error": round(1 - history["val_accuracy"][epoch], 6),
             "seconds": round(timer.seconds[epoch], 2)} for epoch in range(args.epochs)]
    return rows, 1 - float(test["accuracy"])


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def read_curves(path):
    """The rows of ``curves.csv`` (numbers converted), or [] when it does not exist."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [{"net": r["net"], "plain": int(r["plain"]), "depth": int(r["depth"]),
                 "seed": int(r["seed"]), "epoch": int(r["epoch"]),
                 "train_error": float(r["train_error"]), "val_error": float(r["val_error"]),
                 "seconds": float(r["seconds"])} for r in csv.DictReader(f)]


def append_curves(path, rows):
    new = not os.path.exists(path)
    with open(path, "a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def mean_curves(rows, net, key):
    """``(epochs, mean, std)`` of `key` over the seeds of `net` (percent)."""
    by_epoch = {}
    for r in rows:
        if r["net"] == net:
            by_epoch.setdefault(r["epoch"], []).append(100 * r[key])
    epochs = sorted(by_epoch)
    return (epochs, [float(np.mean(by_epoch[e])) for e in epochs],
            [float(np.std(by_epoch[e])) for e in epochs])


def plot_degradation(rows, path, *, title, y_max=None):
    """Fig. 6 of He et al. 2015 from `rows`: per epoch, training error dashed and
    validation error solid; plain nets left, ResNets right, one colour per depth; with
    several seeds, their mean and a +-1 std band. Returns the matplotlib figure."""
    depths = sorted({r["depth"] for r in rows})
    epochs = max(r["epoch"] for r in rows)
    seeds = len({r["seed"] for r in rows})
    if y_max is None:  # fit the curves after the first tenth of the epochs
        later = [100 * r[k] for r in rows for k in ("train_error", "val_error")
                 if r["epoch"] > max(1, epochs // 10) or epochs == 1]
        y_max = min(100.0, 5.0 * np.ceil(max(later) * 1.1 / 5.0))
    fig, axes = plots.figure(2, panel_size=(4.8, 4.2))
    for ax, plain in zip(axes, (True, False)):
        for depth, color in zip(depths, COLORS):
            net = net_name(plain, depth)
            for key, style in (("train_error", "--"), ("val_error", "-")):
                epoch_list, mean, std = mean_curves(rows, net, key)
                ax.plot(epoch_list, mean, style, color=color,
                        label=net if key == "val_error" else None)
                if seeds > 1:
                    ax.fill_between(epoch_list, np.subtract(mean, std), np.add(mean, std),
                                    color=color, alpha=0.15, linewidth=0)
        family = "plain networks" if plain else "ResNets"
        ax.set(xlim=(0, epochs), ylim=(0, y_max), xlabel="epoch", ylabel="error (%)",
               title=family)
        ax.legend(loc="upper right")  # the curves start high, then fall
    fig.suptitle(f"{title}\ndashed: training error, solid: validation error"
                 + (f"; mean and ±1 std over {seeds} seeds" if seeds > 1 else ""))
    plots.save(fig, path)
    return fig


def summarise(rows, tests, args):
    for net in dict.fromkeys(r["net"] for r in rows):
        last = [r for r in rows if r["net"] == net and r["epoch"] == args.epochs]
        record = {"bench": "degradation_summary", "net": net, "seeds": len(last),
                  "epochs": args.epochs}
        for key in ("train_error", "val_error"):
            values = 100 * np.array([r[key] for r in last])
            record[f"final_{key}_pct"] = round(float(values.mean()), 2)
            record[f"final_{key}_std"] = round(float(values.std()), 2)
        if net in tests:
            values = 100 * np.array(list(tests[net].values()))
            record["test_error_pct"] = round(float(values.mean()), 2)
            record["test_error_std"] = round(float(values.std()), 2)
        record["median_seconds_per_epoch"] = round(float(np.median(
            [r["seconds"] for r in rows if r["net"] == net])), 2)
        emit(record)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=None,
                        help="digits (default), or cifar10/cifar100 with --data-dir")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 56])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="the initial rate (default: the recipe's 0.1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--validation-split", type=float, default=0.2,
                        help="training images held out (a count, or a fraction in (0, 1))")
    parser.add_argument("--out", default="runs/degradation")
    parser.add_argument("--y-max", type=float, default=None, help="top of the error axis (%%)")
    parser.add_argument("--plot-only", action="store_true")
    args = parser.parse_args()
    args.dataset = args.dataset or ("cifar10" if args.data_dir else "digits")
    split = args.validation_split
    split = int(split) if split >= 1 else split
    os.makedirs(args.out, exist_ok=True)
    curves = os.path.join(args.out, "curves.csv")
    settings = {k: getattr(args, k) for k in ("dataset", "epochs", "batch_size",
                                               "learning_rate")}
    settings["validation_split"] = split
    settings_path = os.path.join(args.out, "settings.json")
    if os.path.exists(settings_path) and not args.plot_only:
        with open(settings_path, encoding="utf-8") as f:
            old = json.load(f)
        if old != settings:
            raise SystemExit(f"{args.out} holds curves of other settings ({old}); "
                             "choose another --out")
    write_json_atomic(settings, settings_path)
    rows = read_curves(curves)
    tests_path = os.path.join(args.out, "test_errors.json")  # {net: {seed: test error}}
    tests = {}
    if os.path.exists(tests_path):
        with open(tests_path, encoding="utf-8") as f:
            tests = json.load(f)
    if not args.plot_only:
        data = datasets.load(args.dataset, args.data_dir, validation_split=split, seed=0)
        done = {(r["net"], r["seed"]) for r in rows if r["epoch"] == args.epochs}
        for seed in args.seeds:
            for plain in (True, False):
                for depth in args.depths:
                    if (net_name(plain, depth), seed) in done:
                        continue
                    start = time.perf_counter()
                    new, test_error = train_one(args, data, plain, depth, seed)
                    append_curves(curves, new)
                    rows += new
                    tests.setdefault(new[0]["net"], {})[str(seed)] = test_error
                    write_json_atomic(tests, tests_path)
                    emit({"bench": "degradation_run", "net": new[0]["net"], "seed": seed,
                          "dataset": repr(data), "epochs": args.epochs,
                          "batch_size": args.batch_size,
                          "final_train_error_pct": round(100 * new[-1]["train_error"], 2),
                          "final_val_error_pct": round(100 * new[-1]["val_error"], 2),
                          "test_error_pct": round(100 * test_error, 2),
                          "seconds": round(time.perf_counter() - start, 1)})
    summarise(rows, tests, args)
    title = (f"{args.dataset}: {args.epochs} epochs, batch {args.batch_size}, "
             f"seeds {sorted({r['seed'] for r in rows})}")
    plot_degradation(rows, os.path.join(args.out, "degradation.png"), title=title,
                     y_max=args.y_max)
    print(f"Saved: {curves}, {os.path.join(args.out, 'degradation.png')}", flush=True)


if __name__ == "__main__":
    main()
