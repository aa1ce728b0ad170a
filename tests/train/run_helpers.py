"""Helpers of the training/CLI tests: tiny MNIST files and `keras-zoo` subprocesses."""

import os
import re
import struct
import subprocess
import sys

import numpy as np

# TensorFlow's own C++ log lines (absl/glog format), printed at import time
# before any keras_zoo code runs; they are not the CLI's output.
_TF_LOG = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl|"
                     r"To enable the following instructions)")


def _idx(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_tiny_mnist(folder, n_train=48, n_test=16, seed=0):
    """The four MNIST IDX files (uncompressed) with `n_train`/`n_test` images.

    Each class is a bright square at its own place on a dark noisy image, so
    a few updates already learn something. Returns `folder`.
    """
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(count) % 10).astype(np.uint8)
        images = rng.integers(0, 40, (count, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            r, c = divmod(int(label), 5)
            images[i, 4 + 10 * r:12 + 10 * r, 2 + 5 * c:6 + 5 * c] = 255
        with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(_idx(images))
        with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(_idx(labels))
    return folder


def keras_zoo(*args, cwd, timeout=600, env=None):
    """Runs the installed ``keras-zoo`` console script as a user would."""
    script = os.path.join(os.path.dirname(sys.executable), "keras-zoo")
    return subprocess.run([script, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def cli_stderr_lines(stderr):
    """stderr lines written by keras-zoo itself (TensorFlow's import-time log dropped)."""
    return [line for line in stderr.splitlines() if line.strip() and not _TF_LOG.match(line)]


TINY_TRAIN = ("train", "resnet20", "--dataset", "mnist", "--epochs", "1", "--batch-size", "16")


def one_line_error(capsys, argv):
    """Runs ``keras-zoo ARGV`` in process (`cli.main`); checks that it exits with status 2 and
    one line on stderr, and returns that line."""
    from keras_zoo.train import cli

    status = cli.main(argv)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1, lines
    return lines[0]
