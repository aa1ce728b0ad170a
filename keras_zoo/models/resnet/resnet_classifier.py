"""ResNet classifiers: `ResNet20()` ... `ResNet1202()`, `ResNet18()` ... `ResNet152()`.

Two templates (CIFAR, ImageNet) stamp out one factory per `VARIANTS` row, so every
factory has an explicit, inspectable signature and no variant is a near-copy.
"""

import keras

from keras_zoo.models.resnet.resnet_backbone import (
    _FAMILY_DEFAULTS,
    get_variant,
    resnet_features,
    validate_input_shape,
)
from keras_zoo.models.resnet.variants import VARIANTS


def build_classifier(variant, num_classes, *, input_shape, classifier_activation="softmax",
                     name=None, **backbone_kwargs):
    """Backbone graph + global average pool + `num_classes`-way FC (Sec. 3.4 / 4.2).

    The model is flat (the normalisation layer is `model.get_layer("normalization")`);
    the final activation runs in float32 so mixed precision keeps float32 outputs.
    """
    spec = get_variant(variant)
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError("Expected `num_classes` to be a positive int. "
                         f"Received: num_classes={num_classes!r}")
    normalization = backbone_kwargs.get("normalization") or _FAMILY_DEFAULTS[
        spec["family"]]["normalization"]
    validate_input_shape(input_shape, variant, normalization)
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    features = resnet_features(inputs, variant, **backbone_kwargs)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features[max(features)])
    x = keras.layers.Dense(num_classes, kernel_regularizer=backbone_kwargs.get(
        "kernel_regularizer"), name="fc")(x)
    outputs = keras.layers.Activation(classifier_activation or "linear", dtype="float32",
                                      name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or variant)


def _cifar_factory(variant):
    depth = variant[len("resnet"):]

    def factory(num_classes=10, *, input_shape=(32, 32, 3), shortcut="zero_pad", plain=False,
                preact=False, normalization="per_pixel", classifier_activation="softmax",
                width=1, merge_fn=None, bn_epsilon=1e-5, bn_momentum=0.9,
                kernel_initializer="he_normal", kernel_regularizer=None, name=None):
        return build_classifier(
            variant, num_classes, input_shape=input_shape, shortcut=shortcut, plain=plain,
            preact=preact, normalization=normalization,
            classifier_activation=classifier_activation, width=width, merge_fn=merge_fn,
            bn_epsilon=bn_epsilon, bn_momentum=bn_momentum,
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
            name=name)

    n = VARIANTS[variant]["stage_blocks"][0]
    factory.__doc__ = f"""CIFAR ResNet-{depth} (He et al. 2015, Sec. 4.2, Table 6: n={n}).

    A 3x3/16 conv, three stages of {n} basic blocks with 16/32/64 filters on 32/16/8
    maps, global average pooling and a `num_classes`-way FC with softmax.

    Args:
        num_classes: int, classes (10 for CIFAR-10).
        input_shape: (H, W, C) of the raw pixels.
        shortcut: "zero_pad" (option A, the paper's CIFAR choice), "projection" (option B).
        plain: bool, the plain twin without shortcuts (Fig. 6).
        preact: bool, pre-activation units (He et al. 2016).
        normalization: "per_pixel" (Sec. 4.2: mean image subtracted; set it with
            `model.get_layer("normalization").adapt(x_train)`), "torch", "caffe", "unit".
        classifier_activation: "softmax" or None for logits (float32 either way).
        width: int multiplier of the stage widths (wide ResNets).
        merge_fn: `merge_fn(block_index, num_blocks)` -> merge layer per block (Swapout).
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: every layer's.
        name: model name, default "{variant}".

    Returns:
        `keras.Model` mapping `[batch, H, W, C]` pixels to `[batch, num_classes]`.
    """
    return factory


def _imagenet_factory(variant):
    depth = variant[len("resnet"):]

    def factory(num_classes=1000, *, input_shape=(224, 224, 3), shortcut="projection",
                plain=False, preact=False, stride_on="3x3", normalization="torch",
                classifier_activation="softmax", width=1, merge_fn=None, bn_epsilon=1e-5,
                bn_momentum=0.9, kernel_initializer="he_normal", kernel_regularizer=None,
                name=None):
        return build_classifier(
            variant, num_classes, input_shape=input_shape, shortcut=shortcut, plain=plain,
            preact=preact, stride_on=stride_on, normalization=normalization,
            classifier_activation=classifier_activation, width=width, merge_fn=merge_fn,
            bn_epsilon=bn_epsilon, bn_momentum=bn_momentum,
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
            name=name)

    spec = VARIANTS[variant]
    factory.__doc__ = f"""ImageNet ResNet-{depth} (He et al. 2015, Table 1).

    7x7/2 conv and 3x3/2 max-pool (explicitly padded 3 and 1, like torchvision), four
    stages of {'/'.join(map(str, spec['stage_blocks']))} {spec['block']} blocks, global
    average pooling and a `num_classes`-way FC with softmax. Convs are bias-free.

    Args:
        num_classes: int, classes (1000 for ImageNet).
        input_shape: (H, W, C) of the raw pixels; H and W may be None.
        shortcut: "projection" (option B, Sec. 3.3, default), "zero_pad" (option A).
        plain: bool, the plain twin without shortcuts (Table 2).
        preact: bool, pre-activation units (He et al. 2016).
        stride_on: "3x3" (torchvision v1.5, default) or "1x1" (the paper's Caffe models,
            `keras.applications`); bottleneck nets only.
        normalization: "torch" (ImageNet mean/std), "caffe" (BGR, mean only), "unit".
        classifier_activation: "softmax" or None for logits (float32 either way).
        width: int multiplier of the stage widths.
        merge_fn: `merge_fn(block_index, num_blocks)` -> merge layer per block.
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: every layer's.
        name: model name, default "{variant}".

    Returns:
        `keras.Model` mapping `[batch, H, W, C]` pixels to `[batch, num_classes]`.
    """
    return factory


def _make(variant):
    template = _cifar_factory if VARIANTS[variant]["family"] == "cifar" else _imagenet_factory
    factory = template(variant)
    factory.__name__ = factory.__qualname__ = "ResNet" + variant[len("resnet"):]
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
