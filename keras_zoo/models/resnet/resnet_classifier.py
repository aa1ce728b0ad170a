"""ResNet classifiers: `ResNet20()` ... `ResNet1202()`, `ResNet18()` ... `ResNet152()`.

One template stamps out a factory per `VARIANTS` row, with the row's family defaults
written into its signature, so every factory has an explicit, inspectable signature
with the paper's defaults and no variant is a near-copy.
"""

import keras

from keras_zoo.models.resnet.resnet_backbone import image_input, resnet_features
from keras_zoo.models.resnet.resnet_config import FAMILY_DEFAULTS, ResNetConfig, positive_int
from keras_zoo.models.resnet.variants import VARIANTS


def build_classifier(config, num_classes, *, input_shape, classifier_activation="softmax",
                     name=None):
    """The graph of `config` + global average pool + `num_classes`-way FC (Sec. 3.4 / 4.2).

    The model is flat (the normalisation layer is `model.get_layer("normalization")`);
    the FC is "fc" and the final activation "predictions", which runs in float32 so mixed
    precision keeps float32 outputs. `name` None: the config's variant.
    """
    positive_int("num_classes", num_classes)
    inputs = image_input(config, input_shape)
    features = resnet_features(inputs, config)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features[max(features)])
    x = keras.layers.Dense(num_classes, kernel_regularizer=config.kernel_regularizer,
                           name="fc")(x)
    outputs = keras.layers.Activation(classifier_activation or "linear", dtype="float32",
                                      name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or config.variant)


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
        merge_fn: `merge_fn(block_index, num_blocks)` -> merge layer per block (Swapout).
        norm_layer: "batch", "frozen" (`layers.FrozenBatchNormalization`) or "sync"
            (statistics across replicas), for every normalisation.
        freeze_at: 0 trains everything, 1 freezes the stem, k >= 2 the stem and the first
            k - 1 stages (detectron2's FREEZE_AT); the FC always trains.
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: every layer's.
        name: model name, default "{variant}".

    Returns:
        `keras.Model` mapping `[batch, H, W, C]` pixels to `[batch, num_classes]`.
"""


def _make(variant):
    spec = VARIANTS[variant]
    defaults = FAMILY_DEFAULTS[spec["family"]]

    def factory(num_classes=defaults["num_classes"], *, input_shape=defaults["input_shape"],
                shortcut=defaults["shortcut"], plain=False, preact=False, stride_on="3x3",
                normalization=defaults["normalization"], classifier_activation="softmax",
                width=1, merge_fn=None, norm_layer="batch", freeze_at=0, bn_epsilon=1e-5,
                bn_momentum=0.9, kernel_initializer="he_normal", kernel_regularizer=None,
                name=None):
        config = ResNetConfig.from_variant(
            variant, shortcut=shortcut, plain=plain, preact=preact, stride_on=stride_on,
            normalization=normalization, width=width, merge_fn=merge_fn,
            norm_layer=norm_layer, freeze_at=freeze_at, bn_epsilon=bn_epsilon,
            bn_momentum=bn_momentum, kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer)
        return build_classifier(config, num_classes, input_shape=input_shape,
                                classifier_activation=classifier_activation, name=name)

    depth = variant[len("resnet"):]
    factory.__doc__ = _DOCS[spec["family"]].format(
        depth=depth, n=spec["stage_blocks"][0], block=spec["block"],
        stages="/".join(map(str, spec["stage_blocks"]))) + _ARGS.format(variant=variant)
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
FACTORIES = {name: globals()["ResNet" + name[len("resnet"):]] for name in VARIANTS}
