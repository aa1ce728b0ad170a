"""Wide residual networks (Zagoruyko & Komodakis 2016, arXiv:1605.07146).

`WideResNet(depth, width)` is WRN-depth-width: a 3x3/16 stem, three stages
of n = (depth - 4) / 6 pre-activation basic blocks with 16k/32k/64k filters
on 32/16/8 maps (Table 1), BN-ReLU, global average pooling and a classifier.
It is a configuration of the one ResNet builder (`models.resnet`);
`variants.wide` is the layout that `SwapoutResNet` shares.
"""

from keras_zoo.models.resnet import ImageClassifier, ResNetBackbone
from keras_zoo.models.resnet.variants import cifar_stage_blocks, wide


def classifier_or_backbone(row, *, include_top, num_classes, input_shape, classifier_activation,
                           kernel_regularizer, name, default_name, **options):
    """A `ResNetBackbone` of a `variants` row (with `options` over it) and, with
    `include_top`, an `ImageClassifier` on it, named `name` or `default_name` (the
    backbone: "..._backbone")."""
    backbone = ResNetBackbone(
        **{**row, **options}, input_shape=input_shape, kernel_regularizer=kernel_regularizer,
        name=f"{name or default_name}_backbone" if include_top or not name else name)
    if not include_top:
        return backbone
    return ImageClassifier(backbone, num_classes, classifier_activation=classifier_activation,
                           head_regularizer=kernel_regularizer, name=name or default_name)


def WideResNet(depth=28, width=10, *, num_classes=10, input_shape=(32, 32, 3),
               normalization="cifar10", classifier_activation="softmax", include_top=True,
               norm_layer="batch", kernel_regularizer=None, name=None):
    """WRN-depth-width (Zagoruyko & Komodakis 2016, Table 1), e.g. WRN-28-10.

    depth = 6n + 4 counts the stem, 6n block convolutions, the two
    projection shortcuts and the classifier. Blocks are pre-activation
    `BasicBlock`s (BN-ReLU-conv, He et al. 2016) with 1x1 projection
    shortcuts on the pre-activated input where the shape changes; no dropout.

    Args:
        depth: 6n + 4 (16, 22, 28, 40, ...).
        width: widening factor k; stage filters 16k, 32k, 64k.
        num_classes: classes of the classifier ("fc", then "predictions").
        input_shape: (H, W, C) of the raw pixels; H and W may be None.
        normalization: a key of `models.resnet.NORMALIZATIONS` ("cifar10": WRN's
            per-channel mean/std, "unit", "per_pixel", ...) or a dict of
            `layers.ImageNormalization` arguments (the layer is named "normalization").
        classifier_activation: "softmax" or None for logits (float32 either way).
        include_top: False returns the backbone instead: raw pixels -> `{"C0": ...,
            "C1": ..., "C2": ...}`, the three stages at strides 1, 2, 4 (the last after
            the final BN-ReLU), as `models.ResNetBackbone` gives ResNet's.
        norm_layer: "batch", "frozen" (`layers.FrozenBatchNormalization`) or "sync"
            (statistics across replicas), for every normalisation.
        kernel_regularizer: optional regulariser of every convolution and dense kernel.
        name: model name, default `"wrn_{depth}_{width}"` (`"..._backbone"` without top).

    Returns:
        A functional `keras.Model` mapping raw pixels to class probabilities.

    Example:

    >>> model = WideResNet(16, 1)
    >>> model.output_shape
    (None, 10)
    """
    return classifier_or_backbone(
        wide(cifar_stage_blocks(depth, 4), width), include_top=include_top,
        num_classes=num_classes, input_shape=input_shape,
        classifier_activation=classifier_activation, kernel_regularizer=kernel_regularizer,
        name=name, default_name=f"wrn_{depth}_{width}", normalization=normalization,
        norm_layer=norm_layer)
