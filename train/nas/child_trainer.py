"""`ChildTrainer`: the standard reward of a search, a child trained with `model.fit`."""

import math
import zlib

import numpy as np

from keras_zoo.checks import positive_int
from keras_zoo.models.nas import Architecture, build_child
from keras_zoo.train import datasets
from keras_zoo.train.fit import fit_model
from keras_zoo.train.nas.epoch_batches import epoch_batches
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.recipes.common import compile_classifier


def mix_seed(seed, text):
    """An int seed in [0, 2^31) from a trainer's `seed` and an architecture's JSON `text`:
    one architecture always trains the same way, in any process."""
    return (seed * 1_000_003 + zlib.crc32(text.encode())) % 2**31


class ChildTrainer:
    """Trains a child on the training split; its reward is validation accuracy.

    ``trainer(arch)`` builds `build_child(arch)`, trains it with `model.fit`
    (through `keras_zoo.train.fit.fit_model`) for `epochs` epochs on
    ``data.x_train`` and returns as reward the best validation accuracy of
    the last `last_epochs` epochs, to the power `reward_power` (Zoph & Le
    2016, Sec. 4.1: the maximum over the last 5 epochs, cubed). The test split is never read.

    The paper's child optimiser is the default: SGD with Nesterov momentum
    0.9, learning rate 0.1 and weight decay 1e-4 (Sec. 4.1). Nothing touches
    global state: the weights and the batch order of a child follow from the
    trainer's `seed` and the architecture (`child_seed`), so one
    architecture always gets one reward and many children can train in one
    process.

    The object is plain data (the dataset arrays and numbers), so it pickles
    to process-pool and Ray workers.

    Args:
        data: an `ImageDataset` with a validation split
            (``datasets.load(name, validation_split=...)``).
        epochs: training epochs per child.
        batch_size: mini-batch size.
        learning_rate, momentum, l2, nesterov: the SGD optimiser.
        reward_power: 1 for the accuracy itself, 3 for the paper's cube.
        last_epochs: the reward is the maximum over this many last epochs.
        seed: int seed of every child's weights and batches.
        verbose: `model.fit`'s verbosity.
    """

    def __init__(self, data, *, epochs=2, batch_size=64, learning_rate=0.1, momentum=0.9,
                 l2=1e-4, nesterov=True, reward_power=1, last_epochs=5, seed=0, verbose=0):
        if data.x_val is None:
            raise ValueError("Expected a dataset with a validation split (rewards never use "
                             "the test split). Received: x_val=None; load it with "
                             "validation_split=...")
        for name, value in (("epochs", epochs), ("batch_size", batch_size),
                            ("last_epochs", last_epochs)):
            positive_int(name, value)
        self.data = data
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.l2 = l2
        self.nesterov = nesterov
        self.reward_power = reward_power
        self.last_epochs = last_epochs
        self.seed = int(seed)
        self.verbose = verbose

    def child_seed(self, arch):
        """The seed of `arch`'s weights and batches: the trainer's seed mixed
        with a CRC-32 of the architecture's JSON."""
        return mix_seed(self.seed, arch.to_json())

    def train(self, arch, x, y, *, validation_data=None, epochs=None, backup_dir=None,
              callbacks=()):
        """Builds and fits the child of `arch` on ``(x, y)``; with `backup_dir`, resumes
        from its backup (`fit.fit_model`, kept when training ends).

        Returns:
            ``(model, history)``: the trained `keras.Model` and its
            ``History.history`` dict (``"accuracy"``, ``"val_accuracy"``, ...).
        """
        if not isinstance(arch, Architecture):
            raise ValueError(f"Expected an Architecture. Received: {type(arch).__name__}")
        seed = self.child_seed(arch)
        model = build_child(arch, self.data.input_shape, self.data.num_classes, seed=seed)
        optimizer = L2SGD(self.learning_rate, momentum=self.momentum, l2=self.l2,
                          nesterov=self.nesterov)
        compile_classifier(model, optimizer)
        epochs = epochs or self.epochs
        batches, steps = epoch_batches(x, y, batch_size=self.batch_size, epochs=epochs, seed=seed)
        validation = None if validation_data is None else datasets.make_pipeline(
            *validation_data, batch_size=256, training=False)
        history = fit_model(model, datasets.Inputs(train=batches, validation=validation,
                                                   steps_per_epoch=steps),
                            epochs=epochs, backup_dir=backup_dir, keep_backup=True,
                            callbacks=callbacks, verbose=self.verbose)
        return model, history

    def __call__(self, arch):
        """Trains `arch`'s child and returns ``{"reward", "val_accuracy",
        "val_accuracies", "params"}``."""
        data = self.data
        model, history = self.train(arch, data.x_train, data.y_train,
                                    validation_data=(data.x_val, data.y_val))
        accuracies = [float(a) for a in history["val_accuracy"]]
        best = max(accuracies[-self.last_epochs:])
        if not math.isfinite(best):
            raise ValueError(f"Expected a finite validation accuracy. Received: {accuracies}")
        return {"reward": best**self.reward_power, "val_accuracy": best,
                "val_accuracies": accuracies, "params": int(model.count_params()),
                "train_loss": float(np.asarray(history["loss"][-1]))}
