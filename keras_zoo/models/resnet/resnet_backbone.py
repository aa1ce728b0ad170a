"""`ResNetBackbone`: raw pixels -> the feature pyramid of a ResNet-family network."""

import keras

from keras_zoo.checks import is_int, one_of, positive_int, positive_ints
from keras_zoo.layers import BasicBlock, BottleneckBlock, ImageNormalization, get_norm_layer
from keras_zoo.layers.norm_layer import check_norm_layer
from keras_zoo.models.preset import PresetMixin
from keras_zoo.models.resnet import merges as merge_schedules
from keras_zoo.models.resnet.image_classifier import ImageClassifier
from keras_zoo.models.resnet.variants import NORMALIZATIONS, get_variant

BLOCKS = {"basic": BasicBlock, "bottleneck": BottleneckBlock}
# Per stem: the level of the first stage (the map is 2**level times smaller than the
# input), the smallest input side, the default input shape and an example for messages.
STEMS = {
    # Sec. 4.2: a 3x3 conv at full resolution; levels C0, C1, C2.
    "cifar": {"first_level": 0, "min_size": 4, "input_shape": (32, 32, 3),
              "example": (32, 32, 3)},
    # Table 1: a 7x7/2 conv and a 3x3/2 max-pool; levels C2 ... C5 (FPN's convention).
    "imagenet": {"first_level": 2, "min_size": 32, "input_shape": (None, None, 3),
                 "example": (224, 224, 3)},
}


def _serialized(value):
    if value is None or isinstance(value, (str, dict)):
        return value
    return keras.saving.serialize_keras_object(value)


def _channels_needed(norm):
    """The channel count an `ImageNormalization(**norm)` needs, or None for any."""
    for key in ("mean", "std"):
        if isinstance(norm.get(key), (tuple, list)) and len(norm[key]) > 1:
            return len(norm[key])
    return 3 if norm.get("channel_order") == "bgr" else None


@keras.saving.register_keras_serializable(package="keras_zoo")
class ResNetBackbone(PresetMixin, keras.Model):
    """A ResNet-family network as a functional model: raw pixels -> feature pyramid.

    The constructor arguments are the whole configuration (`get_config` returns them);
    the named networks are rows of `resnet.VARIANTS` (`from_variant`). Layer names:
    "normalization"; the stem "conv1_conv", "conv1_bn", "conv1_relu" (not in
    pre-activation nets: their first block normalises the stem output) and, ImageNet
    stem, "conv1_pad", "pool1_pad", "pool1_pool"; blocks "conv{level}_block{j}"
    (ImageNet stem) or "stage{s}_block{j}" (CIFAR stem); pre-activation nets end with
    "post_bn", "post_relu" (He et al. 2016: BN-ReLU after the last unit).

    Args:
        stage_blocks: blocks per stage (ResNet-50: (3, 4, 6, 3), Table 1); every stage
            after the first starts with stride 2.
        stage_filters: filters per stage (bottleneck blocks: their width, output 4x).
        block: "basic" (two 3x3 convs) or "bottleneck" (1x1-3x3-1x1).
        stem: "imagenet" (7x7/2 conv + 3x3/2 max-pool, Table 1) or "cifar" (3x3 conv at
            full resolution, Sec. 4.2).
        stem_filters: filters of the stem conv; None: the first stage's filters.
        preact: pre-activation units (He et al. 2016).
        shortcut: "projection" (option B, Sec. 3.3), "zero_pad" (option A, Sec. 4.2) or
            "none" (the plain nets of Sec. 4.1).
        stride_on: "3x3" (torchvision v1.5) or "1x1" (the paper's Caffe models), where
            bottleneck blocks put their stride.
        normalization: a key of `resnet.NORMALIZATIONS` or a dict of
            `layers.ImageNormalization` arguments ("per_pixel": Sec. 4.2's mean image,
            set by `get_layer("normalization").adapt(images)`).
        merges: None (every block adds), or one merge per block, first to last: None
            (Add), a Keras layer called on ``[shortcut, residual]`` (`layers.Swapout`,
            `layers.StochasticDepth`) or its serialised config (`merges.merge_layers`
            builds schedules).
        norm_layer: "batch", "frozen" (`layers.FrozenBatchNormalization`) or "sync"
            (statistics across replicas), for every normalisation.
        freeze_at: 0 trains everything; 1 freezes the stem; k >= 2 the stem and the first
            k - 1 stages (detectron2's FREEZE_AT; torchvision's
            `trainable_backbone_layers=3` is freeze_at=2). Frozen layers get
            `trainable=False`: their weights never train, their BN runs in inference mode.
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: every layer's.
        input_shape: `(H, W, C)` of the raw pixels; None: (32, 32, 3) for the CIFAR stem,
            (None, None, 3) for the ImageNet stem.
        dtype: the dtype policy of every layer (None: the global policy at construction),
            recorded in the config.
        **kwargs: `keras.Model` arguments (`name`, `trainable`).

    Call arguments:
        inputs: ``[B, H, W, C]`` raw pixels (uint8 or float in [0, 255]).

    Returns:
        ``{f"C{k}": [B, H / 2**k, W / 2**k, C_k]}``, the stage outputs by level k:
        C2..C5 with the ImageNet stem (strides 4..32), C0..C2 with the CIFAR stem.
        ``backbone.pyramid_outputs`` holds the same dict of symbolic outputs.

    Example:

    >>> backbone = ResNetBackbone.from_variant("resnet50", norm_layer="frozen", freeze_at=2)
    >>> sorted(backbone.output)
    ['C2', 'C3', 'C4', 'C5']
    >>> ResNetBackbone((2, 2), (8, 16), stem="cifar", input_shape=(16, 16, 3)).output_shape
    {'C0': (None, 16, 16, 8), 'C1': (None, 8, 8, 16)}
    """

    def __init__(self, stage_blocks, stage_filters, *, block="basic", stem="imagenet",
                 stem_filters=None, preact=False, shortcut="projection", stride_on="3x3",
                 normalization="torch", merges=None, norm_layer="batch", freeze_at=0,
                 bn_epsilon=1e-5, bn_momentum=0.9, kernel_initializer="he_normal",
                 kernel_regularizer=None, input_shape=None, dtype=None, **kwargs):
        stage_blocks = positive_ints("stage_blocks", stage_blocks)
        stage_filters = positive_ints("stage_filters", stage_filters)
        if len(stage_blocks) != len(stage_filters) or not stage_blocks:
            raise ValueError("Expected one filter count per stage. Received: "
                             f"stage_blocks={stage_blocks}, stage_filters={stage_filters}")
        one_of("block", block, tuple(BLOCKS))
        one_of("stem", stem, tuple(STEMS))
        check_norm_layer(norm_layer)
        if not isinstance(normalization, dict):
            one_of("normalization", normalization, tuple(NORMALIZATIONS))
        units = len(stage_blocks) + 1
        if not is_int(freeze_at) or not 0 <= freeze_at <= units:
            raise ValueError(f"Expected `freeze_at` to be an int in [0, {units}] (0 freezes "
                             "nothing, 1 the stem, k >= 2 the stem and the first k - 1 stages). "
                             f"Received: freeze_at={freeze_at!r}")
        num_blocks = sum(stage_blocks)
        merge_list = [None] * num_blocks if merges is None else list(merges)
        if len(merge_list) != num_blocks:
            raise ValueError(f"Expected one merge per block ({num_blocks}). Received: "
                             f"{len(merge_list)} merges")
        merge_list = [keras.saving.deserialize_keras_object(m) if isinstance(m, dict) else m
                      for m in merge_list]
        stem_filters = stage_filters[0] if stem_filters is None else stem_filters
        norm = dict(NORMALIZATIONS[normalization]) if isinstance(
            normalization, str) else dict(normalization)
        input_shape = STEMS[stem]["input_shape"] if input_shape is None else tuple(input_shape)
        self._check_input_shape(input_shape, stem, norm, normalization, kwargs.get("name"))

        # Every layer gets the model's dtype policy (the global one when none is given), so
        # a model saved under mixed precision comes back mixed whatever the loader's.
        policy = keras.dtype_policies.get(dtype) if dtype is not None else (
            keras.config.dtype_policy())
        layer_options = {"norm_layer": norm_layer, "bn_epsilon": bn_epsilon,
                         "bn_momentum": bn_momentum, "kernel_initializer": kernel_initializer,
                         "kernel_regularizer": kernel_regularizer}
        inputs = keras.Input(shape=input_shape, name="images")
        features = _resnet_graph(inputs, stage_blocks, stage_filters, block=block, stem=stem,
                                 stem_filters=stem_filters, preact=preact, shortcut=shortcut,
                                 stride_on=stride_on, norm=norm, merges=merge_list,
                                 freeze_at=freeze_at, dtype=policy, **layer_options)
        super().__init__(inputs=inputs, outputs=features, **kwargs)
        self.dtype_policy = policy  # functional models take no `dtype` argument
        self.stage_blocks = stage_blocks
        self.stage_filters = stage_filters
        self.block = block
        self.stem = stem
        self.stem_filters = stem_filters
        self.preact = bool(preact)
        self.shortcut = shortcut
        self.stride_on = stride_on
        self.normalization = normalization
        self.merges = merges if merges is None else merge_list
        self.norm_layer = norm_layer
        self.freeze_at = freeze_at
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum
        self.kernel_initializer = _serialized(kernel_initializer)
        self.kernel_regularizer = _serialized(kernel_regularizer)
        self.pyramid_outputs = features

    @staticmethod
    def _check_input_shape(input_shape, stem, norm, normalization, name):
        spec = STEMS[stem]
        need_hw = norm.get("per_pixel_mean", False)
        channels = _channels_needed(norm)

        def size_ok(d):
            return (d is None and not need_hw) or (is_int(d) and d >= spec["min_size"])

        ok = (len(input_shape) == 3 and size_ok(input_shape[0]) and size_ok(input_shape[1])
              and is_int(input_shape[2]) and input_shape[2] >= 1
              and channels in (None, input_shape[2]))
        if not ok:
            hw = "" if need_hw else " (or None)"
            raise ValueError(
                f"Expected input_shape=(height, width, channels) for {name or 'the backbone'} "
                f"with normalization={normalization!r}: height, width >= {spec['min_size']}"
                f"{hw}, channels {channels or '>= 1'}, e.g. {spec['example']}. "
                f"Received: input_shape={input_shape!r}")

    @classmethod
    def _from_other_preset(cls, preset_cls, directory, load, overrides):
        """The backbone of a classifier preset (`ImageClassifier`), sharing its weights."""
        if issubclass(preset_cls, ImageClassifier) and not overrides:
            return load().backbone
        return super()._from_other_preset(preset_cls, directory, load, overrides)

    @classmethod
    def from_variant(cls, variant, *, width=1, plain=False, seed=None, **overrides):
        """The backbone of a `resnet.VARIANTS` row, e.g. ``from_variant("resnet50")``.

        Args:
            variant: "resnet20" ... "resnet1202", "plain20" ... "plain110" (CIFAR),
                "resnet18" ... "resnet152" (ImageNet), "wrn_28_10", "swapout_32x4",
                "stochastic_depth_20x2", ... (`list(resnet.VARIANTS)`).
            width: int multiplier of every stage's filters (and of the stem's, where
                the row leaves it to the first stage's).
            plain: drop every shortcut (the plain twin, Sec. 4.1).
            seed: the seed of a row's stochastic merges (block i: `seed + i`).
            **overrides: other constructor arguments replacing the row's (None keeps
                the row's value); `name` defaults to "{variant}_backbone".
        """
        row = get_variant(variant)
        merge = row.pop("merge", None)
        if merge is not None and overrides.get("merges") is None:
            row["merges"] = merge_schedules.merge_layers(
                merge["kind"], sum(row["stage_blocks"]), keep_final=merge["keep_final"],
                schedule=merge["schedule"], seed=seed)
        row.update({k: v for k, v in overrides.items() if v is not None})
        row["stage_filters"] = tuple(f * positive_int("width", width)
                                     for f in row["stage_filters"])
        if plain:
            row["shortcut"] = "none"  # the plain twin of Sec. 4.1 / Fig. 6
        row.setdefault("name", f"{variant}_backbone")
        return cls(**row)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "stage_blocks": self.stage_blocks,
            "stage_filters": self.stage_filters,
            "block": self.block,
            "stem": self.stem,
            "stem_filters": self.stem_filters,
            "preact": self.preact,
            "shortcut": self.shortcut,
            "stride_on": self.stride_on,
            "normalization": self.normalization,
            "merges": None if self.merges is None else [_serialized(m) for m in self.merges],
            "norm_layer": self.norm_layer,
            "freeze_at": self.freeze_at,
            "bn_epsilon": self.bn_epsilon,
            "bn_momentum": self.bn_momentum,
            "kernel_initializer": self.kernel_initializer,
            "kernel_regularizer": self.kernel_regularizer,
            "input_shape": tuple(self.input.shape[1:]),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _resnet_graph(inputs, stage_blocks, stage_filters, *, block, stem, stem_filters, preact,
                  shortcut, stride_on, norm, merges, freeze_at, norm_layer, bn_epsilon,
                  bn_momentum, kernel_initializer, kernel_regularizer, dtype):
    """Applies the ResNet layers to symbolic `inputs`; returns ``{f"C{k}": tensor}``."""
    conv = {"use_bias": False, "kernel_initializer": kernel_initializer,
            "kernel_regularizer": kernel_regularizer, "dtype": dtype}
    imagenet = stem == "imagenet"
    units = [[]]  # the layers of the stem, then of each stage: what `freeze_at` counts

    def apply(layer, x):
        units[-1].append(layer)
        return layer(x)

    def bn(name):
        return get_norm_layer(norm_layer, epsilon=bn_epsilon, momentum=bn_momentum, dtype=dtype,
                              name=name)

    x = ImageNormalization(**norm, dtype=dtype, name="normalization")(inputs)
    if imagenet:  # Table 1, conv1 and conv2_x's max-pool, padded like torchvision
        x = apply(keras.layers.ZeroPadding2D(3, dtype=dtype, name="conv1_pad"), x)
        x = apply(keras.layers.Conv2D(stem_filters, 7, strides=2, name="conv1_conv", **conv), x)
    else:  # Sec. 4.2: a 3x3 conv at full resolution
        x = apply(keras.layers.Conv2D(stem_filters, 3, padding="same", name="conv1_conv",
                                      **conv), x)
    if not preact:
        x = apply(bn("conv1_bn"), x)
        x = apply(keras.layers.Activation("relu", dtype=dtype, name="conv1_relu"), x)
    if imagenet:
        x = apply(keras.layers.ZeroPadding2D(1, dtype=dtype, name="pool1_pad"), x)
        x = apply(keras.layers.MaxPooling2D(3, strides=2, dtype=dtype, name="pool1_pool"), x)

    block_options = {"preact": preact, "shortcut": shortcut, "norm_layer": norm_layer,
                     "bn_epsilon": bn_epsilon, "bn_momentum": bn_momentum,
                     "kernel_initializer": kernel_initializer,
                     "kernel_regularizer": kernel_regularizer, "dtype": dtype}
    if block == "bottleneck":
        block_options["stride_on"] = stride_on
    first_level = STEMS[stem]["first_level"]
    features, index = {}, 0
    for stage, (blocks, filters) in enumerate(zip(stage_blocks, stage_filters)):
        units.append([])
        level = first_level + stage
        for j in range(blocks):
            name = f"conv{level}_block{j + 1}" if imagenet else f"stage{stage + 1}_block{j + 1}"
            x = apply(BLOCKS[block](filters, stride=2 if j == 0 and stage > 0 else 1,
                                    merge=merges[index], name=name, **block_options), x)
            index += 1
        features[f"C{level}"] = x
    if preact:
        x = apply(bn("post_bn"), x)
        features[f"C{level}"] = apply(keras.layers.Activation("relu", dtype=dtype,
                                                              name="post_relu"), x)
    for unit in units[:freeze_at]:
        for layer in unit:  # its weights never train and its normalisation runs in inference
            layer.trainable = False
    return features
