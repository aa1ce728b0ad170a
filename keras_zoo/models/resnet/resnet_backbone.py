"""ResNet backbone: raw pixels -> feature pyramid, for every row of `VARIANTS`."""

import keras

from keras_zoo.layers import BasicBlock, BottleneckBlock, ImageNormalization
from keras_zoo.layers._residual import SHORTCUTS
from keras_zoo.models.resnet.variants import NORMALIZATIONS, VARIANTS

_BLOCKS = {"basic": BasicBlock, "bottleneck": BottleneckBlock}
_FAMILY_DEFAULTS = {
    # Sec. 4.2: option A (zero-padding shortcuts) on CIFAR; per-pixel mean subtraction.
    "cifar": {"shortcut": "zero_pad", "normalization": "per_pixel", "min_size": 4},
    # Sec. 3.3 / Table 3: option B (projections where the shape changes) on ImageNet.
    "imagenet": {"shortcut": "projection", "normalization": "torch", "min_size": 32},
}


def get_variant(variant):
    """The `VARIANTS` row of `variant`, or a ValueError listing the valid names."""
    if variant not in VARIANTS:
        raise ValueError(f"Expected `variant` to be one of {sorted(VARIANTS, key=_order)}. "
                         f"Received: variant={variant!r}")
    return VARIANTS[variant]


def _order(name):
    return (VARIANTS[name]["family"] != "cifar", int(name[len("resnet"):]))


def validate_input_shape(input_shape, variant, normalization):
    """Raises a ValueError naming the expected shape unless `input_shape` fits."""
    family = get_variant(variant)["family"]
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"Expected `normalization` to be one of {sorted(NORMALIZATIONS)}. "
                         f"Received: normalization={normalization!r}")
    min_size = _FAMILY_DEFAULTS[family]["min_size"]
    example = "(32, 32, 3)" if family == "cifar" else "(224, 224, 3)"
    norm = NORMALIZATIONS[normalization]
    need_hw = norm.get("per_pixel_mean", False)
    need_rgb = "channel_order" in norm or isinstance(norm.get("mean"), tuple)

    def size_ok(d):
        return (d is None and not need_hw) or (
            isinstance(d, int) and not isinstance(d, bool) and d >= min_size)

    ok = (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3
          and size_ok(input_shape[0]) and size_ok(input_shape[1])
          and isinstance(input_shape[2], int) and input_shape[2] >= 1
          and (input_shape[2] == 3 or not need_rgb))
    if not ok:
        hw = "" if need_hw else " (or None)"
        channels = "3" if need_rgb else ">= 1"
        raise ValueError(
            f"Expected input_shape=(height, width, channels) for {variant} with "
            f"normalization={normalization!r}: height, width >= {min_size}{hw}, "
            f"channels {channels}, e.g. {example}. Received: input_shape={input_shape!r}")


def resnet_features(inputs, variant, *, preact=False, shortcut=None, plain=False,
                    stride_on="3x3", normalization=None, width=1, merge_fn=None,
                    bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal",
                    kernel_regularizer=None):
    """Applies the ResNet graph to a symbolic `inputs` (raw pixels).

    Returns a dict `{f"C{k}": tensor}` of stage outputs keyed by level k, where the
    map is 2**k times smaller than the input: ImageNet nets give C2..C5 (strides
    4..32, FPN's convention), CIFAR nets C0..C2 (their three stages at strides 1, 2, 4).
    Pre-activation nets apply the final BN-ReLU to the last level.
    """
    spec = get_variant(variant)
    defaults = _FAMILY_DEFAULTS[spec["family"]]
    shortcut = defaults["shortcut"] if shortcut is None else shortcut
    normalization = defaults["normalization"] if normalization is None else normalization
    if shortcut not in SHORTCUTS:
        raise ValueError(f"Expected `shortcut` to be one of {SHORTCUTS}. "
                         f"Received: shortcut={shortcut!r}")
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f"Expected `width` to be a positive int. Received: width={width!r}")
    if plain:
        shortcut = "none"  # the plain twin of Sec. 4.1 / Fig. 6
    conv = {"use_bias": False, "kernel_initializer": kernel_initializer,
            "kernel_regularizer": kernel_regularizer}
    bn = {"epsilon": bn_epsilon, "momentum": bn_momentum}

    validate_input_shape(tuple(inputs.shape[1:]), variant, normalization)
    x = ImageNormalization(**NORMALIZATIONS[normalization], name="normalization")(inputs)
    if spec["family"] == "cifar":
        x = keras.layers.Conv2D(spec["filters"][0] * width, 3, padding="same", name="conv1_conv",
                                **conv)(x)
        first_level = 0
    else:  # Table 1, conv1 and conv2_x's max-pool, padded like torchvision
        x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = keras.layers.Conv2D(64 * width, 7, strides=2, name="conv1_conv", **conv)(x)
        first_level = 2
    if not preact:  # a pre-activation net's first block normalises the stem output
        x = keras.layers.BatchNormalization(name="conv1_bn", **bn)(x)
        x = keras.layers.Activation("relu", name="conv1_relu")(x)
    if spec["family"] == "imagenet":
        x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    block_cls = _BLOCKS[spec["block"]]
    block_kwargs = {"preact": preact, "shortcut": shortcut, "bn_epsilon": bn_epsilon,
                    "bn_momentum": bn_momentum, "kernel_initializer": kernel_initializer,
                    "kernel_regularizer": kernel_regularizer}
    if spec["block"] == "bottleneck":
        block_kwargs["stride_on"] = stride_on
    num_blocks = sum(spec["stage_blocks"])
    features, index = {}, 0
    for stage, (blocks, filters) in enumerate(zip(spec["stage_blocks"], spec["filters"])):
        level = first_level + stage
        for j in range(blocks):
            name = (f"conv{level}_block{j + 1}" if spec["family"] == "imagenet"
                    else f"stage{stage + 1}_block{j + 1}")
            merge = None if merge_fn is None else merge_fn(index, num_blocks)
            x = block_cls(filters * width, stride=2 if j == 0 and stage > 0 else 1, merge=merge,
                          name=name, **block_kwargs)(x)
            index += 1
        features[f"C{level}"] = x
    if preact:  # He et al. 2016: BN-ReLU after the last unit
        x = keras.layers.BatchNormalization(name="post_bn", **bn)(x)
        features[f"C{level}"] = keras.layers.Activation("relu", name="post_relu")(x)
    return features


def ResNetBackbone(variant, *, input_shape=None, preact=False, shortcut=None, plain=False,
                   stride_on="3x3", normalization=None, width=1, merge_fn=None,
                   bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal",
                   kernel_regularizer=None, name=None):
    """A functional `keras.Model`: raw pixels -> feature pyramid dict.

    Args:
        variant: a key of `VARIANTS`: "resnet20" ... "resnet1202" (CIFAR),
            "resnet18" ... "resnet152" (ImageNet).
        input_shape: `(H, W, C)`; default (32, 32, 3) for CIFAR nets, (None, None, 3)
            for ImageNet nets.
        preact: pre-activation units (He et al. 2016).
        shortcut: "zero_pad" (option A), "projection" (option B) or "none"; None picks the
            paper's choice: option A on CIFAR (Sec. 4.2), option B on ImageNet (Sec. 3.3).
        plain: drop every shortcut (the plain nets of Sec. 4.1).
        stride_on: "3x3" or "1x1", where bottleneck blocks put their stride.
        normalization: a key of `NORMALIZATIONS`; None picks "per_pixel" for CIFAR nets
            (Sec. 4.2) and "torch" for ImageNet nets. The layer is named "normalization".
        width: int multiplier of every stage's filters (wide ResNets).
        merge_fn: optional `merge_fn(block_index, num_blocks) -> keras.layers.Layer or None`
            giving each block its merge layer (e.g. a Swapout schedule); None keeps Add.
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: for every layer.
        name: model name, default the variant.

    Returns:
        `keras.Model` mapping `[batch, H, W, C]` pixels to `{"C2": ..., "C5": ...}`
        (ImageNet, strides 4..32) or `{"C0": ..., "C2": ...}` (CIFAR, strides 1..4).
    """
    spec = get_variant(variant)
    family = _FAMILY_DEFAULTS[spec["family"]]
    if input_shape is None:
        input_shape = (32, 32, 3) if spec["family"] == "cifar" else (None, None, 3)
    validate_input_shape(input_shape, variant, normalization or family["normalization"])
    inputs = keras.Input(shape=tuple(input_shape), name="images")
    features = resnet_features(
        inputs, variant, preact=preact, shortcut=shortcut, plain=plain, stride_on=stride_on,
        normalization=normalization, width=width, merge_fn=merge_fn, bn_epsilon=bn_epsilon,
        bn_momentum=bn_momentum, kernel_initializer=kernel_initializer,
        kernel_regularizer=kernel_regularizer)
    return keras.Model(inputs, features, name=name or f"{variant}_backbone")
