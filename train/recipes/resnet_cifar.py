"""He et al. 2015 (arXiv:1512.03385), Sec. 4.2: CIFAR ResNets.

Command (CIFAR-10 "python version" archive from
https://www.cs.toronto.edu/~kriz/cifar.html):

    keras-zoo train resnet20 --data-dir cifar-10-python.tar.gz
    keras-zoo train resnet110 --data-dir cifar-10-python.tar.gz      # with warm-up
    keras-zoo train resnet56 --data-dir ... --validation-split 5000  # the 45k/5k split

Expected (Table 6, CIFAR-10 test error): ResNet-20 8.75%, -32 7.51%, -44
7.17%, -56 6.97%, -110 6.43% (6.61 +- 0.16 over 5 runs), -1202 7.93%.
Not reproduced here (2 CPU cores); the schedule values are tested in
tests/train/test_recipes.py.

Recipe: SGD, momentum 0.9, weight decay 1e-4 on the kernels (coupled L2,
see `L2SGD`), batch 128, lr 0.1 divided by 10 at 32k and 48k iterations,
stop at 64k (``epochs = ceil(64000 / steps_per_epoch)``: 164 epochs on the
50k training images, 182 on 45k); ResNet-110 warms up at 0.01 until the
running training error is below 80% (`callbacks.WarmupUntilError`), for at
most 400 iterations (``warmup_steps``, the paper's "about 400 iterations"):
the run's ``lr.csv`` shows the switch. Augmentation: 4-pixel pad, random
32x32 crop, horizontal flip (the dataset's own augmentation).
``schedule="plateau"`` is the alternative: lr 0.1 divided by 10 when the
validation loss (or the training loss without a validation split) has not
improved for `plateau_patience` epochs; its warm-up lasts ``warmup_steps``
updates (`callbacks.Warmup`). ``tiny=True`` shrinks the run for a CPU smoke
test.
"""

from keras_zoo.train.callbacks import Warmup, WarmupUntilError
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.schedules import StepSchedule

from . import common
from .recipe import Recipe

WARMUP_MODELS = ("resnet110", "resnet1202")  # Sec. 4.2 (110); 1202 reuses it


def make_optimizer(config, steps_per_epoch):
    """`L2SGD` with the step schedule (or a plain rate for "plateau")."""
    if config["schedule"] == "step":
        lr = StepSchedule(
            config["boundaries"],
            [config["learning_rate"] * 0.1**i for i in range(len(config["boundaries"]) + 1)],
            warmup_steps=config["warmup_steps"], warmup_value=config["warmup_learning_rate"])
    elif config["schedule"] == "plateau":
        lr = config["learning_rate"]
    else:
        raise ValueError("Expected schedule 'step' or 'plateau'. "
                         f"Received: schedule={config['schedule']!r}")
    return L2SGD(lr, momentum=config["momentum"], l2=config["weight_decay"])


class ResNetCifar(Recipe):
    """He et al.'s CIFAR schedule (see the module docstring)."""

    name = "resnet_cifar"
    defaults = {
        "dataset": "cifar10",
        "batch_size": 128,  # Sec. 4.2
        "steps": 64000,  # Sec. 4.2: terminate at 64k iterations
        "epochs": None,  # None: derived from `steps`
        "learning_rate": 0.1,  # Sec. 4.2
        "boundaries": [32000, 48000],  # Sec. 4.2: /10 at 32k and 48k
        "momentum": 0.9,  # Sec. 3.4
        "weight_decay": 1e-4,  # Sec. 3.4
        "warmup_learning_rate": 0.01,  # Sec. 4.2
        "warmup_error": 0.8,  # Sec. 4.2: warm up "until the training error is below 80%"
        "schedule": "step",  # or "plateau"
        "plateau_patience": 10,
        "min_lr": 1e-4,
    }
    tiny = {"steps": 40, "boundaries": [20, 30], "batch_size": 32}

    def model_config(self, model_name, *, tiny):
        """ResNet-110 (and 1202) warm up at 0.01 for at most 400 iterations (Sec. 4.2: "about
        400"), 5 when tiny; the step schedule ends it once the training error is below 80%."""
        return {"warmup_steps": (5 if tiny else 400) if model_name in WARMUP_MODELS else 0}

    def compile_model(self, model, config, *, steps_per_epoch, jit_compile="auto"):
        return common.compile_classifier(model, make_optimizer(config, steps_per_epoch),
                                         jit_compile=jit_compile)

    def callbacks(self, config, *, has_validation, data=None):
        """Extra callbacks: "step": `WarmupUntilError` when the model warms up;
        "plateau": its fixed-length `Warmup` and the plateau rule."""
        if config["schedule"] != "plateau":
            return [WarmupUntilError(config["warmup_error"])] if config["warmup_steps"] else []
        extra = [common.plateau_callback(config, "val_loss" if has_validation else "loss")]
        if config["warmup_steps"]:
            extra.insert(0, Warmup(config["warmup_steps"], config["warmup_learning_rate"],
                                   config["learning_rate"]))
        return extra
