"""Training recipes: the papers' hyper-parameters, one small module each.

Each module's docstring gives the exact command and the expected result
(STYLE.md practice 9); each defines one `Recipe` subclass (the protocol:
configuration, data, model, datasets, compile, callbacks, evaluation,
exports; see `recipe.Recipe`). `RECIPES` maps a ``--recipe`` name to its
instance; `get` accepts a name, a `Recipe` or a recipe module (the
registry, `keras_zoo.train.registry`, names each model's recipe module).

`keras_zoo.train.run.train` drives them.
"""

import types

from . import (
    concrete_vae,
    mask_rcnn,
    mask_rcnn_tiny,
    quickstart,
    resnet_cifar,
    resnet_finetune,
    resnet_imagenet,
    swapout,
)
from .artifact import Artifact
from .recipe import Recipe

RECIPES = {recipe.name: recipe for recipe in (
    concrete_vae.ConcreteVAERecipe(), mask_rcnn.MaskRCNNRecipe(),
    mask_rcnn_tiny.MaskRCNNTinyRecipe(), quickstart.Quickstart(), resnet_cifar.ResNetCifar(),
    resnet_finetune.ResNetFineTune(), resnet_imagenet.ResNetImageNet(), swapout.Swapout())}


def names():
    """The ``--recipe`` names, sorted."""
    return sorted(RECIPES)


def get(recipe):
    """The `Recipe` of `recipe`: a name of `RECIPES`, a `Recipe`, or a recipe module."""
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, types.ModuleType):
        recipe = recipe.__name__.rsplit(".", 1)[-1]
    if recipe not in RECIPES:
        raise ValueError(f"Expected a recipe in {', '.join(names())}. Received: recipe={recipe!r}")
    return RECIPES[recipe]


__all__ = ["RECIPES", "Artifact", "Recipe", "concrete_vae", "get", "mask_rcnn", "mask_rcnn_tiny",
           "names", "quickstart", "resnet_cifar", "resnet_finetune", "resnet_imagenet", "swapout"]
