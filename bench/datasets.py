"""Input-pipeline speed: CIFAR-10 loading and make_pipeline throughput.

    python bench/datasets.py [--images 50000] [--batches 200]

Writes a full-size CIFAR-10 (random pixels, the published python-version
layout and archive) to a temporary folder, then prints JSON lines: seconds to
load it from the folder and from the .tar.gz, and images/s of the training
pipeline (shuffle + pad/crop/flip + batch 128) and of the evaluation pipeline.
"""

import argparse
import pickle
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

from keras_zoo.train import datasets

from _report import emit


def write_cifar10(root, images):
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        count = images // 5  # 10,000 per file for 50,000 images, as published
        batch = {b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, count).tolist()}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {b"label_names": [n.encode() for n in datasets.cifar.CIFAR10_CLASSES]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    archive = Path(root) / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(folder, arcname=folder.name)
    return folder, archive


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def images_per_second(dataset, batches):
    iterator = iter(dataset.repeat())
    next(iterator)  # warm up: builds the pipeline
    start = time.perf_counter()
    count = sum(len(next(iterator)[1]) for _ in range(batches))
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50000)
    parser.add_argument("--batches", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        folder, archive = write_cifar10(root, args.images)
        data, seconds = timed(lambda: datasets.load("cifar10", folder, validation_split=5000))
        emit({"bench": "load_cifar10", "source": "folder", "seconds": round(seconds, 2),
              "train": len(data.x_train), "val": len(data.x_val)})
        _, seconds = timed(lambda: datasets.load("cifar10", archive))
        emit({"bench": "load_cifar10", "source": "tar.gz",
              "seconds": round(seconds, 2)})
    for training in (True, False):
        dataset = datasets.make_pipeline(data.x_train, data.y_train, batch_size=128,
                                         training=training, augmentation="cifar")
        rate = images_per_second(dataset, args.batches)
        emit({"bench": "make_pipeline", "training": training, "augmentation":
              "cifar" if training else "none", "batch_size": 128,
              "images_per_s": round(rate)})


if __name__ == "__main__":
    main()
