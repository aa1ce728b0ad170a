"""The ResNet graph builder (every ResNet-family model draws its graph here) and
`ResNetBackbone`: raw pixels -> feature pyramid."""

import keras

from keras_zoo.layers import BasicBlock, BottleneckBlock, ImageNormalization, get_norm_layer
from keras_zoo.models.resnet.resnet_config import FAMILY_DEFAULTS, ResNetConfig

_BLOCKS = {"basic": BasicBlock, "bottleneck": BottleneckBlock}


def image_input(config, input_shape):
    """`keras.Input` named "images" for raw pixels of `input_shape`, once it fits `config`."""
    config.validate_input_shape(input_shape)
    return keras.Input(shape=tuple(input_shape), name="images")


def resnet_features(inputs, config):
    """Applies the graph of `config` (a `ResNetConfig`) to symbolic `inputs` (raw pixels).

    Layer names: "normalization"; the stem "conv1_conv", "conv1_bn", "conv1_relu" (not in
    pre-activation nets: their first block normalises the stem output) and, ImageNet
    family, "conv1_pad", "pool1_pad", "pool1_pool"; blocks "conv{level}_block{j}"
    (ImageNet) or "stage{s}_block{j}" (CIFAR); pre-activation nets end with "post_bn",
    "post_relu" (He et al. 2016: BN-ReLU after the last unit).

    Returns:
        `{f"C{k}": tensor}`, the stage outputs keyed by level k, where the map is 2**k
        times smaller than the input: ImageNet nets give C2..C5 (strides 4..32, FPN's
        convention), CIFAR nets C0..C2 (strides 1, 2, 4).
    """
    conv = {"use_bias": False, "kernel_initializer": config.kernel_initializer,
            "kernel_regularizer": config.kernel_regularizer}
    imagenet = config.family == "imagenet"
    units = [[]]  # the layers of the stem, then of each stage: what `freeze_at` counts

    def apply(layer, x):
        units[-1].append(layer)
        return layer(x)

    def norm(name):
        return get_norm_layer(config.norm_layer, epsilon=config.bn_epsilon,
                              momentum=config.bn_momentum, name=name)

    x = ImageNormalization(**config.image_normalization(), name="normalization")(inputs)
    if imagenet:  # Table 1, conv1 and conv2_x's max-pool, padded like torchvision
        x = apply(keras.layers.ZeroPadding2D(3, name="conv1_pad"), x)
        x = apply(keras.layers.Conv2D(config.stem_filters, 7, strides=2, name="conv1_conv",
                                      **conv), x)
    else:  # Sec. 4.2: a 3x3 conv at full resolution
        x = apply(keras.layers.Conv2D(config.stem_filters, 3, padding="same", name="conv1_conv",
                                      **conv), x)
    if not config.preact:
        x = apply(norm("conv1_bn"), x)
        x = apply(keras.layers.Activation("relu", name="conv1_relu"), x)
    if imagenet:
        x = apply(keras.layers.ZeroPadding2D(1, name="pool1_pad"), x)
        x = apply(keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool"), x)

    block_kwargs = {"preact": config.preact, "shortcut": config.shortcut,
                    "norm_layer": config.norm_layer, "bn_epsilon": config.bn_epsilon,
                    "bn_momentum": config.bn_momentum,
                    "kernel_initializer": config.kernel_initializer,
                    "kernel_regularizer": config.kernel_regularizer}
    if config.block == "bottleneck":
        block_kwargs["stride_on"] = config.stride_on
    num_blocks = sum(config.stage_blocks)
    first_level = FAMILY_DEFAULTS[config.family]["first_level"]
    features, index = {}, 0
    for stage, (blocks, filters) in enumerate(zip(config.stage_blocks, config.stage_filters)):
        units.append([])
        level = first_level + stage
        for j in range(blocks):
            name = f"conv{level}_block{j + 1}" if imagenet else f"stage{stage + 1}_block{j + 1}"
            merge = None if config.merge_fn is None else config.merge_fn(index, num_blocks)
            x = apply(_BLOCKS[config.block](filters, stride=2 if j == 0 and stage > 0 else 1,
                                            merge=merge, name=name, **block_kwargs), x)
            index += 1
        features[f"C{level}"] = x
    if config.preact:
        x = apply(norm("post_bn"), x)
        features[f"C{level}"] = apply(keras.layers.Activation("relu", name="post_relu"), x)
    for unit in units[:config.freeze_at]:
        for layer in unit:  # its weights never train and its normalisation runs in inference
            layer.trainable = False
    return features


def build_backbone(config, *, input_shape=None, name=None):
    """The functional backbone of `config`: `[batch, H, W, C]` raw pixels -> the feature
    dict of `resnet_features`. `input_shape` None: (32, 32, 3) for the CIFAR family,
    (None, None, 3) for ImageNet. `name` None: "{variant}_backbone"."""
    if input_shape is None:
        input_shape = FAMILY_DEFAULTS[config.family]["backbone_input_shape"]
    inputs = image_input(config, input_shape)
    return keras.Model(inputs, resnet_features(inputs, config),
                       name=name or f"{config.variant}_backbone")


def ResNetBackbone(variant, *, input_shape=None, preact=False, shortcut=None, plain=False,
                   stride_on="3x3", normalization=None, width=1, merge_fn=None,
                   norm_layer="batch", freeze_at=0, bn_epsilon=1e-5, bn_momentum=0.9,
                   kernel_initializer="he_normal", kernel_regularizer=None, name=None):
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
        normalization: a key of `NORMALIZATIONS` or a dict of `layers.ImageNormalization`
            arguments; None picks "per_pixel" for CIFAR nets (Sec. 4.2) and "torch" for
            ImageNet nets. The layer is named "normalization".
        width: int multiplier of every stage's filters (wide ResNets).
        merge_fn: optional `merge_fn(block_index, num_blocks) -> keras.layers.Layer or None`
            giving each block its merge layer (e.g. a Swapout schedule); None keeps Add.
        norm_layer: "batch", "frozen" (`layers.FrozenBatchNormalization`: detection
            fine-tuning) or "sync" (statistics across replicas), for every normalisation.
        freeze_at: 0 trains everything; 1 freezes the stem; k >= 2 the stem and the first
            k - 1 stages (conv2_x ... conv{k}_x), detectron2's FREEZE_AT (torchvision's
            `trainable_backbone_layers=3` is freeze_at=2). Frozen layers get
            `trainable=False`: their weights never train, their BN runs in inference mode.
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: for every layer.
        name: model name, default "{variant}_backbone".

    Returns:
        `keras.Model` mapping `[batch, H, W, C]` pixels to `{"C2": ..., "C5": ...}`
        (ImageNet, strides 4..32) or `{"C0": ..., "C2": ...}` (CIFAR, strides 1..4).

    Example:

    >>> backbone = ResNetBackbone("resnet50", norm_layer="frozen", freeze_at=2)
    >>> sorted(backbone.output)
    ['C2', 'C3', 'C4', 'C5']
    """
    config = ResNetConfig.from_variant(
        variant, preact=preact, shortcut=shortcut, plain=plain, stride_on=stride_on,
        normalization=normalization, width=width, merge_fn=merge_fn, norm_layer=norm_layer,
        freeze_at=freeze_at, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum,
        kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer)
    return build_backbone(config, input_shape=input_shape, name=name)
