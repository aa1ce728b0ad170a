"""Pieces shared by the image-classification recipes."""

import math

from keras_zoo.train.callbacks import ReduceLROnPlateau
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.schedules import StepSchedule


def build_classifier(builder, data):
    """`builder(num_classes=..., input_shape=...)` for `data` (an
    `ImageDataset`), with its "normalization" layer adapted to the training
    images when it has one (the per-pixel mean of He et al. 2015, Sec. 4.2)."""
    model = builder(num_classes=data.num_classes, input_shape=data.input_shape)
    try:
        normalization = model.get_layer("normalization")
    except ValueError:
        normalization = None
    if normalization is not None and hasattr(normalization, "adapt"):
        normalization.adapt(data.x_train)
    return model


def compile_classifier(model, optimizer, *, jit_compile="auto"):
    """Sparse categorical cross-entropy on softmax outputs, accuracy metric."""
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit_compile)
    return model


def compile_fractional_step_sgd(model, config, *, steps_per_epoch, jit_compile="auto"):
    """SGD with coupled L2 whose learning rate is divided by 10 at the fractions
    `config["decay_at"]` of the run (`config["epochs"]` epochs of `steps_per_epoch`)."""
    total = steps_per_epoch * config["epochs"]
    boundaries = sorted({max(1, round(f * total)) for f in config["decay_at"]})
    lr = StepSchedule(boundaries, [config["learning_rate"] * 0.1**i
                                   for i in range(len(boundaries) + 1)])
    optimizer = L2SGD(lr, momentum=config["momentum"], l2=config["weight_decay"])
    return compile_classifier(model, optimizer, jit_compile=jit_compile)


def epochs_for(steps, updates_per_epoch):
    """Epochs needed to run at least `steps` updates of `updates_per_epoch` each."""
    return math.ceil(steps / updates_per_epoch)


def plateau_callback(config, monitor):
    """Divide the learning rate by 10 when `monitor` stops improving."""
    return ReduceLROnPlateau(
        monitor=monitor, factor=0.1, patience=config["plateau_patience"],
        min_lr=config["min_lr"], verbose=1)
