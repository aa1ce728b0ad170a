"""The CLI's one flat map from model name to how to train it.

`MODELS[name]` is a `ModelEntry`:

- ``builder``: the model factory, called with keyword arguments only;
  ``builder()`` must build the model with its defaults (``keras-zoo
  models`` counts its parameters that way) and the entry's recipe calls it
  for a dataset (the classification recipes pass ``num_classes`` and
  ``input_shape``).
- ``dataset``: the default ``--dataset`` (a name of `datasets.NAMES`), or
  None when the user must choose one.
- ``recipe``: the recipe module (`keras_zoo.train.recipes`) that holds the
  paper's hyper-parameters for it.

To add a model, add one line to `MODELS`, e.g.
``"swapout-32x4": ModelEntry(partial(models.SwapoutResNet, ...), "cifar10",
recipes.swapout)``.
"""

import dataclasses
import functools
import types
from collections.abc import Callable

from keras_zoo import models
from keras_zoo.models.swapout_resnet import VARIANTS as SWAPOUT_VARIANTS

from . import recipes


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """How the CLI builds and trains one named model (see the module docstring)."""

    builder: Callable
    dataset: str | None
    recipe: types.ModuleType


MODELS = {
    # He et al. 2015, Sec. 4.2 / Table 6: CIFAR nets, option A shortcuts.
    **{f"resnet{d}": ModelEntry(getattr(models, f"ResNet{d}"), "cifar10", recipes.resnet_cifar)
       for d in (20, 32, 44, 56, 110, 1202)},
    # Table 1: ImageNet nets. No ImageNet loader ships: choose --dataset.
    **{f"resnet{d}": ModelEntry(getattr(models, f"ResNet{d}"), None, recipes.resnet_cifar)
       for d in (18, 34, 50, 101, 152)},
    # Singh et al. 2016, Table 2: Swapout v2(20|32) W x2|x4 and stochastic-depth twins.
    **{name: ModelEntry(functools.partial(models.SwapoutResNet, **variant), "cifar10",
                        recipes.swapout)
       for name, variant in SWAPOUT_VARIANTS.items()},
    # Jang et al. 2016, Sec. 4.2: categorical VAE, 20 x 10 latents, on binarised images.
    "concrete-vae": ModelEntry(models.ConcreteVAE, "digits", recipes.concrete_vae),
}


def get(name):
    """The `ModelEntry` of `name`; a ValueError lists the valid names."""
    if name not in MODELS:
        raise ValueError(f"Expected a model name in {', '.join(MODELS)}. "
                         f"Received: model={name!r}")
    return MODELS[name]
