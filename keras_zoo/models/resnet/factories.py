"""ResNet classifiers: `ResNet20()` ... `ResNet1202()`, `ResNet18()` ... `ResNet152()`.

One template stamps out a factory per `VARIANTS` row of He et al.'s nets, with the
row's defaults written into its signature (the keras.applications convention: every
factory has an explicit, inspectable signature with the paper's defaults). Each is a
thin call: `ResNetBackbone.from_variant(...)` and an `ImageClassifier` on it.
"""

from keras_zoo.models.resnet.image_classifier import ImageClassifier
from keras_zoo.models.resnet.resnet_backbone import ResNetBackbone
from keras_zoo.models.resnet.variants import CLASSIFIER_DEFAULTS, VARIANTS

_DOCS = {
    "cifar": """CIFAR ResNet-{depth} (He et al. 2015, Sec. 4.2, Table 6: n={n}).

    A 3x3/16 conv, three stages of {n} basic blocks with 16/32/64 filters on 32/16/8
    maps, global average pooling and a `num_classes`-way FC with softmax.
""",
    "imagenet": """ImageNet ResNet-{depth} (He et al. 2015, Table 1).

    7x7/2 conv and 3x3/2 max-pool (explicitly padded 3 and 1, like torchvision), four
    stages of {stages} {block} blocks, global average pooling and a `num_classes`-way FC
    with softmax. Convs are bias-free.
""",
}
_ARGS = """
    Args:
        num_classes: int, classes (10 for CIFAR-10, 1000 for ImageNet).
        input_shape: (H, W, C) of the raw pixels (ImageNet nets: H and W may be None).
        shortcut: "zero_pad" (option A, the paper's CIFAR choice, Sec. 4.2), "projection"
            (option B, its ImageNet choice, Sec. 3.3).
        plain: bool, the plain twin without shortcuts (Fig. 6, Table 2).
        preact: bool, pre-activation units (He et al. 2016).
        stride_on: "3x3" (torchvision v1.5, default) or "1x1" (the paper's Caffe models,
            `keras.applications`); bottleneck nets only.
        normalization: a key of `NORMALIZATIONS` or a dict of `layers.ImageNormalization`
            arguments: "per_pixel" (Sec. 4.2: mean image subtracted; set it with
            `model.get_layer("normalization").adapt(x_train)`), "torch" (ImageNet
            mean/std), "caffe" (BGR, mean only), "cifar10", "unit".
        classifier_activation: "softmax" or None for logits (float32 either way).
        width: int multiplier of the stage widths (wide ResNets).
        merges: None (Add in every block) or one merge layer per block, first to last
            (`models.resnet.merge_layers`: Swapout or stochastic-depth schedules).
        norm_layer: "batch", "frozen" (`layers.FrozenBatchNormalization`) or "sync"
            (statistics across replicas), for every normalisation.
        freeze_at: 0 trains everything, 1 freezes the stem, k >= 2 the stem and the first
            k - 1 stages (detectron2's FREEZE_AT); the FC always trains.
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: every layer's.
        name: model name, default "{variant}".

    Returns:
        An `ImageClassifier` mapping `[batch, H, W, C]` pixels to `[batch, num_classes]`
        (its `backbone`: the `ResNetBackbone`, named "{variant}_backbone").
"""


def _make(variant):
    row = VARIANTS[variant]
    defaults = CLASSIFIER_DEFAULTS[row["stem"]]

    def factory(num_classes=defaults["num_classes"], *, input_shape=defaults["input_shape"],
                shortcut=row["shortcut"], plain=False, preact=False, stride_on="3x3",
                normalization=row["normalization"], classifier_activation="softmax",
                width=1, merges=None, norm_layer="batch", freeze_at=0, bn_epsilon=1e-5,
                bn_momentum=0.9, kernel_initializer="he_normal", kernel_regularizer=None,
                name=None):
        backbone = ResNetBackbone.from_variant(
            variant, width=width, plain=plain, input_shape=input_shape, shortcut=shortcut,
            preact=preact, stride_on=stride_on, normalization=normalization, merges=merges,
            norm_layer=norm_layer, freeze_at=freeze_at, bn_epsilon=bn_epsilon,
            bn_momentum=bn_momentum, kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer, name=f"{name or variant}_backbone")
        return ImageClassifier(backbone, num_classes,
                               classifier_activation=classifier_activation,
                               head_regularizer=kernel_regularizer, name=name or variant)

    depth = variant[len("resnet"):]
    factory.__doc__ = _DOCS[row["stem"]].format(
        depth=depth, n=row["stage_blocks"][0], block=row["block"],
        stages="/".join(map(str, row["stage_blocks"]))) + _ARGS.format(variant=variant)
    factory.__name__ = factory.__qualname__ = "ResNet" + depth
    factory.__module__ = __name__
    return factory


ResNet20 = _make("resnet20")
ResNet32 = _make("resnet32")
ResNet44 = _make("resnet44")
ResNet56 = _make("resnet56")
ResNet110 = _make("resnet110")
ResNet1202 = _make("resnet1202")
ResNet18 = _make("resnet18")
ResNet34 = _make("resnet34")
ResNet50 = _make("resnet50")
ResNet101 = _make("resnet101")
ResNet152 = _make("resnet152")

# Factory per variant name, for the CLI's flat name -> builder map.
FACTORIES = {name: globals()["ResNet" + name[len("resnet"):]] for name in VARIANTS
             if name.startswith("resnet")}
