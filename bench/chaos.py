"""A soak test of faults: kill keras-zoo with SIGKILL at random moments, rerun the same
command, and compare the end with a run that was never killed.

For each workload the script first runs the command once uninterrupted (the reference),
then, in a second directory, starts the same command, kills it (``kill -9``) after a random
delay drawn from the reference's duration (the window shrinking by a third per kill, as a
resumed run has less left to do), and starts it again (a resume), until `--kills` kills are
done; a run that ends before its kill is checked and the next kills go to a new directory
(``runs`` counts them). Each run is checked for what a user would: the final weights
against the reference (the largest absolute difference over every weight), no temporary
file, lock or backup left behind, each epoch once in ``log.csv``, and the run recorded as
finished.

    python bench/chaos.py --kills 20                        # the three workloads
    python bench/chaos.py --workloads train --kills 3 --tiny  # what the test suite runs

Prints one JSON line per workload: kills, resumes, the largest weight difference, the
tolerance it is held to, what was left behind, seconds, and the CPU.
"""

import argparse
import csv
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

from _report import emit

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")
# Resumed from a backup the run computes the same float32 operations again; only the
# reassociation inside TensorFlow's kernels may differ (observed: 0, i.e. bitwise equal).
WEIGHT_TOLERANCE = 1e-4


def _mnist(folder, count=48):
    """Tiny MNIST IDX files: a bright square at each class's place on noise."""
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    for prefix, n in (("train", count), ("t10k", count // 3)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            r, c = divmod(int(label), 5)
            images[i, 4 + 10 * r:12 + 10 * r, 2 + 5 * c:6 + 5 * c] = 255
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 8, array.ndim]) + b"".join(
                struct.pack(">I", s) for s in array.shape)
            with open(os.path.join(folder, f"{prefix}-{kind}-ubyte"), "wb") as f:
                f.write(header + array.tobytes())
    return folder


def workloads(tiny, scratch):
    """``{name: (argv without --out, the final model's path inside --out, epochs)}``."""
    if tiny:
        data = _mnist(os.path.join(scratch, "mnist"))
        return {"train": (["train", "resnet20", "--dataset", "mnist", "--data-dir", data,
                           "--epochs", "3", "--batch-size", "16"], "checkpoints/last.keras", 3)}
    return {
        "train": (["train", "resnet20", "--dataset", "digits", "--epochs", "8"],
                  "checkpoints/last.keras", 8),
        "search": (["search", "--dataset", "digits", "--trials", "4", "--child-epochs", "1",
                    "--layers", "2", "--children-per-update", "2", "--retrain-epochs", "2",
                    "--executor", "in-process"], "best/model.keras", None),
        "mask-rcnn-tiny": (["train", "mask-rcnn-tiny", "--epochs", "2",
                            "--set", "steps_per_epoch=6", "--set", "pictures=1",
                            "--set", "eval_images=8"],
                           "checkpoints/last.keras", 2),
    }


def _run(argv, out, *, kill_after=None):
    """Runs ``keras-zoo ARGV --out OUT``; with `kill_after` seconds, SIGKILLs it then.
    Returns ``(exit status, killed?)``."""
    process = subprocess.Popen([KERAS_ZOO, *argv, "--out", out], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=kill_after)
        killed = False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed = True
    error = process.stderr.read()
    process.stderr.close()
    if not killed and process.returncode != 0:
        raise RuntimeError(f"keras-zoo {' '.join(argv)} failed ({process.returncode}): "
                           f"{error[-2000:]}")
    return process.returncode, killed


def _weights(path):
    import keras

    import keras_zoo.train.run_dir  # noqa: F401  (registers keras_zoo's classes)

    return keras.saving.load_model(path, compile=False).get_weights()


def _leftovers(out):
    """Temporary files, a held lock and a backup left in `out`."""
    from keras_zoo.train import directory_lock

    left = [os.path.relpath(os.path.join(root, name), out)
            for root, dirs, names in os.walk(out) for name in [*dirs, *names]
            if ".tmp-" in name or ".old-" in name or name == "backup"]
    try:
        directory_lock.lock_directory(out)
        directory_lock.unlock_directory(out)
    except directory_lock.DirectoryInUse:
        left.append(directory_lock.LOCK_NAME + " (held)")
    return left


def _epochs_logged(out):
    path = os.path.join(out, "log.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def _check(chaos, reference, model_file, epochs):
    """What a user checks of a finished run in `chaos` against the `reference` run."""
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(
        _weights(os.path.join(chaos, model_file)), _weights(os.path.join(reference, model_file))))
    logged = _epochs_logged(chaos) if epochs else None
    status = {}
    if epochs:
        with open(os.path.join(chaos, "status.json")) as f:
            status = json.load(f)
    return {"difference": difference,
            "logged_once": None if logged is None else logged == list(range(epochs)),
            "finished": status.get("state", "finished") == "finished",
            "left": _leftovers(chaos)}


def soak(name, argv, model_file, epochs, kills, rng, scratch):
    """`kills` SIGKILLs, each followed by the same command. A run that ends before its kill
    is checked and the next kill goes to a new run (a cycle), so every cycle is compared
    with the reference."""
    reference = os.path.join(scratch, f"{name}-reference")
    start = time.time()
    _run(argv, reference)
    duration = time.time() - start
    start = time.time()
    checks, done_kills, in_cycle = [], 0, 0
    chaos = os.path.join(scratch, f"{name}-chaos-1")
    while done_kills < kills:
        # From the start of the imports to the end: every phase of the run can be hit. A
        # resumed run has less left to do, so the window shrinks by a third per kill.
        window = duration * (2 / 3)**in_cycle
        _, killed = _run(argv, chaos, kill_after=rng.uniform(0.05 * duration, window))
        if killed:
            done_kills, in_cycle = done_kills + 1, in_cycle + 1
            continue
        checks.append(_check(chaos, reference, model_file, epochs))
        chaos, in_cycle = os.path.join(scratch, f"{name}-chaos-{len(checks) + 1}"), 0
    if in_cycle or not checks:
        _run(argv, chaos)
        checks.append(_check(chaos, reference, model_file, epochs))
    difference = max(c["difference"] for c in checks)
    logged = [c["logged_once"] for c in checks]
    return {"bench": "chaos", "workload": name, "command": "keras-zoo " + " ".join(argv),
            "kills": done_kills, "resumed": done_kills, "runs": len(checks),
            "max_weight_difference": difference, "tolerance": WEIGHT_TOLERANCE,
            "weights_match": difference <= WEIGHT_TOLERANCE,
            "epochs_logged_once": None if None in logged else all(logged),
            "finished": all(c["finished"] for c in checks),
            "left_behind": sorted({p for c in checks for p in c["left"]}),
            "reference_seconds": round(duration, 1),
            "soak_seconds": round(time.time() - start, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10, help="kills per workload")
    parser.add_argument("--workloads", nargs="+", default=None,
                        help="train, search, mask-rcnn-tiny (default: all)")
    parser.add_argument("--tiny", action="store_true",
                        help="one tiny training run (48 MNIST-like images, 3 epochs)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill times")
    parser.add_argument("--keep", help="keep the run directories in this folder")
    args = parser.parse_args(argv)
    scratch = args.keep or tempfile.mkdtemp(prefix="keras-zoo-chaos-")
    os.makedirs(scratch, exist_ok=True)
    rng = random.Random(args.seed)
    try:
        chosen = workloads(args.tiny, scratch)
        for name in args.workloads or list(chosen):
            if name not in chosen:
                parser.error(f"unknown workload {name!r}; one of {', '.join(chosen)}")
            emit(soak(name, *chosen[name], args.kills, rng, scratch))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
