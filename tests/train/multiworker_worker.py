"""One worker of the multi-worker tests (run as a subprocess; also the
single-process reference with --workers omitted).

    python tests/train/multiworker_worker.py OUT [--workers h:p,h:p --task-index I]
        [--images DIR] [--backup-every N] [--sleep S]

OUT is this host's own run directory (each worker gets another one, as on
machines that share no disk). Trains `small_model` on the first 192 digits,
augmented ("cifar"), with global batch 32 for 2 epochs (12 steps), backing
up in OUT/backup (the chief only), and writes OUT/weights-<task>.npz and
OUT/steps-<task>.txt (optimizer steps, the step it resumed from, last loss).
With ``--images DIR`` the digits stream from the PNG files `write_images` wrote
there (an `IndexedSource`: each worker reads only its rows' files), else they
are in-memory arrays.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_zoo.train import datasets, multiworker  # noqa: E402
from keras_zoo.train.datasets import Examples, IndexedSource  # noqa: E402

GLOBAL_BATCH, EPOCHS, EXAMPLES = 32, 2, 192
AUGMENTATION = "cifar"  # pad, crop and flip: every random op of datasets.augment


def small_model():
    init = keras.initializers.GlorotUniform(seed=0)
    inp = keras.Input((32, 32, 1))
    h = keras.layers.Rescaling(1 / 255.0)(inp)
    h = keras.layers.Conv2D(4, 3, strides=2, activation="relu", kernel_initializer=init)(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(10, activation="softmax", kernel_initializer=init)(h)
    return keras.Model(inp, out)


def compiled_model():
    model = small_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _digits():
    data = datasets.load("digits")
    return data.x_train[:EXAMPLES], data.y_train[:EXAMPLES]


def write_images(folder):
    """The digits as PNG files ``<i>.png`` and their labels in ``labels.txt``."""
    os.makedirs(folder, exist_ok=True)
    x, y = _digits()
    for i, image in enumerate(x):
        tf.io.write_file(os.path.join(folder, f"{i}.png"), tf.io.encode_png(image))
    with open(os.path.join(folder, "labels.txt"), "w") as f:
        f.write("\n".join(str(int(label)) for label in y))


def streamed(folder):
    """An `IndexedSource` of `write_images`' files: example i read from ``<i>.png``."""
    with open(os.path.join(folder, "labels.txt")) as f:
        labels = tf.constant([int(line) for line in f], tf.int32)
    paths = tf.constant([os.path.join(folder, f"{i}.png") for i in range(len(labels))])

    def read(index):
        image = tf.io.decode_png(tf.io.read_file(tf.gather(paths, index)), channels=1)
        return tf.cast(tf.ensure_shape(image, [32, 32, 1]), tf.float32), tf.gather(labels, index)

    return IndexedSource(int(labels.shape[0]), read)


def examples(images=None):
    x, y = _digits()
    source = (x.astype("float32"), y) if images is None else streamed(images)
    return Examples(source, batch_size=GLOBAL_BATCH, augmentation=AUGMENTATION)


class _Start(keras.callbacks.Callback):
    """The optimizer step training starts at (after a restore)."""

    def on_train_begin(self, logs=None):
        self.step = int(self.model.optimizer.iterations.numpy())


class _Slow(keras.callbacks.Callback):
    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(self.seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--workers")
    parser.add_argument("--task-index", type=int, default=0)
    parser.add_argument("--images")
    parser.add_argument("--backup-every", type=int)
    parser.add_argument("--sleep", type=float, default=0.0)
    args = parser.parse_args()
    if args.workers:
        strategy = multiworker.multiworker_strategy(args.workers, args.task_index)
    else:
        strategy = tf.distribute.get_strategy()
    with strategy.scope():
        model = compiled_model()
    os.makedirs(args.out, exist_ok=True)
    start = _Start()
    history = multiworker.fit_distributed(
        model, examples(args.images), strategy=strategy, epochs=EPOCHS,
        backup_dir=os.path.join(args.out, "backup"), backup_every=args.backup_every,
        callbacks=[start, *([_Slow(args.sleep)] if args.sleep else [])], verbose=0,
        checkpoint_path=os.path.join(args.out, "last.keras"))
    np.savez(os.path.join(args.out, f"weights-{args.task_index}.npz"),
             *[np.asarray(w) for w in model.get_weights()])
    with open(os.path.join(args.out, f"steps-{args.task_index}.txt"), "w") as f:
        f.write(f"{int(model.optimizer.iterations.numpy())} {start.step} "
                f"{history['loss'][-1]}\n")


if __name__ == "__main__":
    main()
