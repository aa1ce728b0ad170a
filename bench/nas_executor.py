"""What training children in a worker process costs against training them in process.

    python bench/nas_executor.py --children 8 --child-epochs 2

Trains the same `--children` random children of the CLI's default space (4 layers,
strides 1/2/3, skip connections) on the digits with the CLI's `ChildTrainer`
settings, first one after another in this process (``--executor in-process``), then
in a pool of one worker process (``--executor pool``, the default of ``keras-zoo
search``). Prints, for each, the wall seconds of all children, the mean seconds
measured around each child's training, and for the worker the seconds until its
first child started (start-up: a spawned Python importing TensorFlow and keras_zoo
and receiving the trainer with its data). One JSON line each (`_report.emit`).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_zoo.models.nas import SearchSpace  # noqa: E402
from keras_zoo.train import datasets  # noqa: E402
from keras_zoo.train.nas import executors  # noqa: E402
from keras_zoo.train.nas.child_trainer import ChildTrainer  # noqa: E402

from _report import emit  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=8)
    parser.add_argument("--child-epochs", type=int, default=2)
    args = parser.parse_args()
    data = datasets.load("digits", validation_split=360, seed=0)
    trainer = ChildTrainer(data, epochs=args.child_epochs, batch_size=32, seed=0)
    space = SearchSpace(4, strides=(1, 2, 3))
    archs = [space.sample(k) for k in range(args.children)]
    for name in ("in-process", "pool"):
        executor = executors.get(name)
        start = time.perf_counter()
        results = dict(executor.run(trainer, archs))
        wall = time.perf_counter() - start
        executor.close()
        seconds = np.array([results[i]["seconds"] for i in range(len(archs))])
        emit({"executor": name, "children": len(archs), "child_epochs": args.child_epochs,
              "wall_seconds": wall, "wall_per_child": wall / len(archs),
              "child_seconds_mean": float(seconds.mean()),
              "overhead_per_child": (wall - seconds.sum()) / len(archs),
              "failed": sum(r["failed"] for r in results.values())})


if __name__ == "__main__":
    main()
