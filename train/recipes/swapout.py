"""Singh, Hoiem, Forsyth 2016 (arXiv:1605.06465), Sec. 4: Swapout on CIFAR.

Command (CIFAR-10 "python version" archive from
https://www.cs.toronto.edu/~kriz/cifar.html):

    keras-zoo train swapout-32x4 --data-dir cifar-10-python.tar.gz
    keras-zoo train swapout-20x2 --dataset digits --epochs 15   # CPU-sized, no download
    keras-zoo train stochastic-depth-32x4 --data-dir ...        # the stochastic-depth twin

Expected (Table 2, CIFAR-10 test error with stochastic inference, 30
samples): Swapout v2(32) W x4 4.76%, v2(20) W x4 5.09%. Not reproduced here
(2 CPU cores). `keras-zoo train` reports deterministic test accuracy; for
stochastic inference load the checkpoint and call
`keras_zoo.models.stochastic_predict(model, x, num_samples=30)`;
bench/swapout_digits.py does both on the digits data.

Recipe: SGD batch 128, momentum 0.9, weight decay 1e-4 (coupled L2 on the
kernels, `L2SGD`), 256 epochs, lr 0.1 divided by 10 after epochs 192 and
224 (`decay_at` keeps those places, 75% and 87.5% of the run, when
``--epochs`` changes); left-right flips and translations of up to 4 pixels
(the dataset's own augmentation: shifts only for digits). Keep
probabilities Linear(1, 0.5) for θ1 and θ2 (`SwapoutResNet` defaults).
Inputs: CIFAR-10's per-channel mean/std ("cifar10"); other datasets get the
per-pixel mean of their training images. ``tiny=True``: one short epoch.
"""

import functools

from . import common
from .recipe import Recipe


class Swapout(Recipe):
    """Swapout and stochastic-depth wide ResNets (see the module docstring)."""

    name = "swapout"
    defaults = {
        "dataset": "cifar10",
        "batch_size": 128,  # Sec. 4
        "epochs": 256,  # Sec. 4
        "learning_rate": 0.1,
        "decay_at": [192 / 256, 224 / 256],  # Sec. 4: /10 after epochs 192 and 224
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "stochastic_samples": 30,  # Sec. 4.3: N for stochastic inference
    }
    tiny = {"epochs": 1, "batch_size": 32}
    compile_model = staticmethod(common.compile_fractional_step_sgd)

    def build_model(self, builder, data, config):
        normalization = "cifar10" if data.name == "cifar10" else "per_pixel"
        return super().build_model(functools.partial(builder, normalization=normalization),
                                   data, config)
