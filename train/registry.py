"""The CLI's one flat map from model name to how to train it.

`MODELS[name]` is a `ModelEntry`: the name of a `keras_zoo.models` factory
and its keyword arguments, the default ``--dataset`` (a name of
`datasets.NAMES`, or None when the user must choose one), the recipe module
(`keras_zoo.train.recipes`) that holds the paper's hyper-parameters, and the
parameter counts of ``builder()``, the model with its defaults, which
``keras-zoo models`` prints (tests/train/test_registry.py builds every model
and checks them).

The table names factories and recipes as strings, so reading it (``keras-zoo
--help``, ``keras-zoo models``) imports neither TensorFlow nor the models;
``entry.builder`` and ``entry.recipe`` import them on first use. To add a
model, add one row, e.g. ``"swapout-56x4": ModelEntry("SwapoutResNet",
"cifar10", "swapout", <params>, <trainable>, {"depth": 56, "width": 4})``
with the counts that ``keras-zoo models`` would otherwise have to build it for.
"""

import dataclasses
import functools
import importlib


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """How the CLI builds and trains one named model (see the module docstring).

    Attributes:
        factory: name of the model factory in `keras_zoo.models`, e.g. "ResNet20".
        dataset: the default ``--dataset``, or None.
        recipe_name: module name in `keras_zoo.train.recipes`, e.g. "resnet_cifar".
        params: ``builder().count_params()``.
        trainable_params: the parameter count of ``builder().trainable_weights``.
        kwargs: keyword arguments the builder passes to the factory.
    """

    factory: str
    dataset: str | None
    recipe_name: str
    params: int
    trainable_params: int
    kwargs: dict = dataclasses.field(default_factory=dict)

    @property
    def builder(self):
        """The factory with `kwargs` bound: called with keyword arguments only;
        ``builder()`` builds the model with its defaults, and the recipe calls it
        for a dataset (the classification recipes pass ``num_classes`` and
        ``input_shape``). Imports `keras_zoo.models` (and TensorFlow)."""
        models = importlib.import_module("keras_zoo.models")
        return functools.partial(getattr(models, self.factory), **self.kwargs)

    @property
    def recipe(self):
        """The recipe module (imports it, and TensorFlow)."""
        return importlib.import_module(f"keras_zoo.train.recipes.{self.recipe_name}")


def _swapout(depth, width, merge, params, trainable):
    return ModelEntry("SwapoutResNet", "cifar10", "swapout", params, trainable,
                      {"depth": depth, "width": width, "merge": merge})


MODELS = {
    # He et al. 2015, Sec. 4.2 / Table 6: CIFAR nets, option A shortcuts (0.27M ... 19.4M).
    "resnet20": ModelEntry("ResNet20", "cifar10", "resnet_cifar", 274_170, 269_722),
    "resnet32": ModelEntry("ResNet32", "cifar10", "resnet_cifar", 469_498, 464_154),
    "resnet44": ModelEntry("ResNet44", "cifar10", "resnet_cifar", 664_826, 658_586),
    "resnet56": ModelEntry("ResNet56", "cifar10", "resnet_cifar", 860_154, 853_018),
    "resnet110": ModelEntry("ResNet110", "cifar10", "resnet_cifar", 1_739_130, 1_727_962),
    "resnet1202": ModelEntry("ResNet1202", "cifar10", "resnet_cifar", 19_513_978, 19_421_274),
    # Table 1: ImageNet nets (1000 classes), trained on an image folder or TFRecords at
    # --data-dir ("images") with Sec. 3.4's recipe; --init WEIGHTS fine-tunes (resnet_finetune).
    "resnet18": ModelEntry("ResNet18", "images", "resnet_imagenet", 11_699_112, 11_689_512),
    "resnet34": ModelEntry("ResNet34", "images", "resnet_imagenet", 21_814_696, 21_797_672),
    "resnet50": ModelEntry("ResNet50", "images", "resnet_imagenet", 25_610_152, 25_557_032),
    "resnet101": ModelEntry("ResNet101", "images", "resnet_imagenet", 44_654_504, 44_549_160),
    "resnet152": ModelEntry("ResNet152", "images", "resnet_imagenet", 60_344_232, 60_192_808),
    # Singh et al. 2016, Table 2: Swapout v2(20|32) W x2|x4 and their stochastic-depth twins
    # (the swapout_* and stochastic_depth_* rows of models.resnet.VARIANTS).
    "swapout-20x2": _swapout(20, 2, "swapout", 1_082_362, 1_079_642),
    "swapout-20x4": _swapout(20, 4, "swapout", 4_304_378, 4_298_970),
    "swapout-32x2": _swapout(32, 2, "swapout", 1_860_090, 1_855_578),
    "swapout-32x4": _swapout(32, 4, "swapout", 7_408_122, 7_399_130),
    "stochastic-depth-20x2": _swapout(20, 2, "stochastic_depth", 1_082_362, 1_079_642),
    "stochastic-depth-20x4": _swapout(20, 4, "stochastic_depth", 4_304_378, 4_298_970),
    "stochastic-depth-32x2": _swapout(32, 2, "stochastic_depth", 1_860_090, 1_855_578),
    "stochastic-depth-32x4": _swapout(32, 4, "stochastic_depth", 7_408_122, 7_399_130),
    # Jang et al. 2016, Sec. 4.2: categorical VAE, 20 x 10 latents, on binarised images.
    "concrete-vae": ModelEntry("ConcreteVAE", "digits", "concrete_vae", 1_169_881, 1_169_880),
    # He et al. 2017: Mask R-CNN with FPN, 91 classes (COCO's ids), frozen BN and stem + conv2
    # (builder()); the recipe trains every stage from scratch, or loads torchvision's weights.
    "mask-rcnn": ModelEntry("MaskRCNN", "coco", "mask_rcnn", 44_507_633, 44_178_993,
                            {"backbone": "resnet50_fpn"}),
    "mask-rcnn-r101": ModelEntry("MaskRCNN", "coco", "mask_rcnn", 63_551_985, 63_118_897,
                                 {"backbone": "resnet101_fpn"}),
    # The CPU quick start: ResNet-18-FPN, small heads, on the shipped digits-instances.
    "mask-rcnn-tiny": ModelEntry("MaskRCNNTiny", "digits-instances", "mask_rcnn_tiny",
                                 12_481_297, 12_471_697),
}


def get(name):
    """The `ModelEntry` of `name`; a ValueError lists the valid names."""
    if name not in MODELS:
        raise ValueError(f"Expected a model name in {', '.join(MODELS)}. "
                         f"Received: model={name!r}")
    return MODELS[name]
