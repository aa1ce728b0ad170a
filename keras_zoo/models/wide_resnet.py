"""Wide residual networks (Zagoruyko & Komodakis 2016, arXiv:1605.07146).

`WideResNet(depth, width)` is WRN-depth-width: a 3x3/16 stem, three stages
of n = (depth - 4) / 6 pre-activation basic blocks with 16k/32k/64k filters
on 32/16/8 maps (Table 1), BN-ReLU, global average pooling and a classifier.
`build_preact_resnet` is the shared builder that `SwapoutResNet` reuses
with other merges; the blocks themselves are `layers.BasicBlock`.
"""

import keras

from keras_zoo import layers

# WRN's "meanstd" preprocessing: per-channel CIFAR-10 statistics in the [0, 255]
# scale of the raw inputs (the reference code, pytorch/main.py of
# szagoruyko/wide-residual-networks).
CIFAR10_MEAN = (125.3, 123.0, 113.9)
CIFAR10_STD = (63.0, 62.1, 66.7)

NORMALIZATIONS = {
    "cifar10": {"mean": CIFAR10_MEAN, "std": CIFAR10_STD},
    "unit": {"std": 255.0},  # scale [0, 255] to [0, 1]; any channel count
    "per_pixel": {"per_pixel_mean": True},  # set by ImageNormalization.adapt
}


def _normalization(normalization, channels):
    if isinstance(normalization, dict):
        return dict(normalization)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"Expected `normalization` to be one of {sorted(NORMALIZATIONS)} or a "
                         f"dict of ImageNormalization arguments. "
                         f"Received: normalization={normalization!r}")
    if normalization == "cifar10" and channels != 3:
        raise ValueError("Expected 3-channel inputs for normalization='cifar10'. Received: "
                         f"{channels} channels; pass normalization='unit' or a dict.")
    return dict(NORMALIZATIONS[normalization])


def build_preact_resnet(*, stage_blocks, stage_filters, merges, stem_filters=16,
                        num_classes=10, input_shape=(32, 32, 3), normalization="cifar10",
                        shortcut="projection", classifier_activation="softmax",
                        kernel_regularizer=None, name="preact_resnet"):
    """Pre-activation ResNet of `layers.BasicBlock`s with one merge layer per block.

    Args:
        stage_blocks: blocks per stage, e.g. `(4, 4, 4)`; stages after the
            first start with stride 2.
        stage_filters: filters per stage, e.g. `(160, 320, 640)`.
        merges: one merge layer (or None for `Add`) per block, first to last.
        stem_filters: filters of the 3x3 stem convolution.
        num_classes, input_shape, classifier_activation: the classifier head.
        normalization: `"cifar10"`, `"unit"`, `"per_pixel"` or a dict of
            `layers.ImageNormalization` arguments (the layer is named "normalization").
        shortcut: `BasicBlock` shortcut where shapes change (`"projection"` or `"zero_pad"`).
        kernel_regularizer: optional regulariser of every convolution and dense kernel.

    Returns:
        A functional `keras.Model` from raw pixels `[B, H, W, C]` to `[B, num_classes]`.
    """
    if len(stage_blocks) != len(stage_filters):
        raise ValueError("Expected one filter count per stage. Received: "
                         f"stage_blocks={stage_blocks}, stage_filters={stage_filters}")
    if len(merges) != sum(stage_blocks):
        raise ValueError(f"Expected one merge per block ({sum(stage_blocks)}). "
                         f"Received: {len(merges)} merges")
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    norm = _normalization(normalization, input_shape[-1])
    x = layers.ImageNormalization(**norm, name="normalization")(inputs)
    x = keras.layers.Conv2D(stem_filters, 3, padding="same", use_bias=False,
                            kernel_initializer="he_normal",
                            kernel_regularizer=kernel_regularizer, name="stem_conv")(x)
    merges = list(merges)
    for s, (blocks, filters) in enumerate(zip(stage_blocks, stage_filters)):
        for b in range(blocks):
            x = layers.BasicBlock(
                filters, stride=2 if s > 0 and b == 0 else 1, preact=True, shortcut=shortcut,
                merge=merges.pop(0), kernel_regularizer=kernel_regularizer,
                name=f"stage{s + 1}_block{b + 1}")(x)
    x = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="final_bn")(x)
    x = keras.layers.Activation("relu", name="final_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation,
                                 kernel_regularizer=kernel_regularizer, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def WideResNet(depth=28, width=10, *, num_classes=10, input_shape=(32, 32, 3),
               normalization="cifar10", classifier_activation="softmax",
               kernel_regularizer=None, name=None):
    """WRN-depth-width (Zagoruyko & Komodakis 2016, Table 1), e.g. WRN-28-10.

    depth = 6n + 4 counts the stem, 6n block convolutions, the two
    projection shortcuts and the classifier. Blocks are pre-activation
    `BasicBlock`s (BN-ReLU-conv, He et al. 2016) with 1x1 projection
    shortcuts on the pre-activated input where the shape changes; no dropout.

    Args:
        depth: 6n + 4 (16, 22, 28, 40, ...).
        width: widening factor k; stage filters 16k, 32k, 64k.
        num_classes, input_shape, normalization, classifier_activation,
        kernel_regularizer: see `build_preact_resnet`.
        name: model name, default `"wrn_{depth}_{width}"`.

    Returns:
        A functional `keras.Model` mapping raw pixels to class probabilities.

    Example:

    >>> model = WideResNet(16, 1)
    >>> model.output_shape
    (None, 10)
    """
    if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(f"Expected `depth` = 6n + 4 with n >= 1 (16, 22, 28, 40, ...). "
                         f"Received: depth={depth!r}")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"Expected `width` to be a positive int. Received: width={width!r}")
    n = (depth - 4) // 6
    return build_preact_resnet(
        stage_blocks=(n, n, n), stage_filters=(16 * width, 32 * width, 64 * width),
        merges=[None] * (3 * n), num_classes=num_classes, input_shape=input_shape,
        normalization=normalization, classifier_activation=classifier_activation,
        kernel_regularizer=kernel_regularizer, name=name or f"wrn_{depth}_{width}")
