"""`ResNetConfig`: the one value that says which ResNet-family graph to build.

Each factory (`ResNet20()` ... `ResNet152()`, `ResNetBackbone`, `WideResNet`,
`SwapoutResNet`) turns its explicit keyword arguments into a `ResNetConfig` once and
hands that to the builder (`resnet_features`), instead of forwarding a dozen keyword
arguments through every layer of the code.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from keras_zoo.layers.norm_layer import check_norm_layer
from keras_zoo.models.resnet.variants import NORMALIZATIONS, VARIANTS

FAMILY_DEFAULTS = {
    # Sec. 4.2: a 3x3 stem at full resolution, levels C0..C2; option A (zero-padding
    # shortcuts) and per-pixel mean subtraction.
    "cifar": {"shortcut": "zero_pad", "normalization": "per_pixel", "num_classes": 10,
              "input_shape": (32, 32, 3), "backbone_input_shape": (32, 32, 3), "min_size": 4,
              "first_level": 0},
    # Table 1: a 7x7/2 stem and 3x3/2 max-pool, levels C2..C5; Sec. 3.3 / Table 3:
    # option B (projections where the shape changes).
    "imagenet": {"shortcut": "projection", "normalization": "torch", "num_classes": 1000,
                 "input_shape": (224, 224, 3), "backbone_input_shape": (None, None, 3),
                 "min_size": 32, "first_level": 2},
}
BLOCKS = ("basic", "bottleneck")


def positive_int(name, value):
    """Returns `value`, or raises a ValueError unless it is an int >= 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive int. Received: {name}={value!r}")
    return value


def _order(name):
    return (VARIANTS[name]["family"] != "cifar", int(name[len("resnet"):]))


def get_variant(variant):
    """The `VARIANTS` row of `variant`, or a ValueError listing the valid names."""
    if variant not in VARIANTS:
        raise ValueError(f"Expected `variant` to be one of {sorted(VARIANTS, key=_order)}. "
                         f"Received: variant={variant!r}")
    return VARIANTS[variant]


def cifar_stage_blocks(depth, depth_offset):
    """Blocks per stage n of a three-stage CIFAR net of `depth` = 6n + `depth_offset`
    (He et al. 2015, Sec. 4.2: 6n + 2; WRN counts its two projections: 6n + 4)."""
    examples = ", ".join(str(6 * n + depth_offset) for n in range(1, 5))
    if (not isinstance(depth, int) or isinstance(depth, bool) or depth < 6 + depth_offset
            or (depth - depth_offset) % 6):
        raise ValueError(f"Expected `depth` = 6n + {depth_offset} with n >= 1 ({examples}, ...). "
                         f"Received: depth={depth!r}")
    return ((depth - depth_offset) // 6,) * 3


def _channels_needed(norm):
    """The channel count an `ImageNormalization(**norm)` needs, or None for any."""
    for key in ("mean", "std"):
        if isinstance(norm.get(key), (tuple, list)) and len(norm[key]) > 1:
            return len(norm[key])
    return 3 if norm.get("channel_order") == "bgr" else None


@dataclasses.dataclass(frozen=True)
class ResNetConfig:
    """A ResNet-family network: its layout and every option of its layers.

    The layout: `family` "cifar" (a 3x3 stem, stages named "stage{s}_block{j}", levels
    C0, C1, ...) or "imagenet" (7x7/2 stem and 3x3/2 max-pool, "conv{level}_block{j}",
    levels C2, ...); `block` "basic" or "bottleneck"; `stage_blocks` and `stage_filters`
    per stage (stages after the first start with stride 2); `stem_filters`. `variant`
    names the network in messages and default model names.

    The options are those of `layers.BasicBlock` / `layers.BottleneckBlock` for every
    block (`preact`, `shortcut`, `stride_on`, `norm_layer`, `bn_epsilon`, `bn_momentum`,
    `kernel_initializer`, `kernel_regularizer`), the stem's `normalization` (a key of
    `NORMALIZATIONS` or a dict of `layers.ImageNormalization` arguments), `merge_fn(
    block_index, num_blocks) -> merge layer or None` (None: Add everywhere) and
    `freeze_at` (0 trains everything, 1 freezes the stem, k >= 2 the stem and the first
    k - 1 stages: detectron2's FREEZE_AT).

    Build one with `ResNetConfig.from_variant("resnet50", ...)` or directly (the wide
    and Swapout nets do), then `resnet.build_backbone(config)` or
    `resnet.build_classifier(config, num_classes, input_shape=...)`.
    """

    variant: str
    family: str
    block: str
    stage_blocks: tuple
    stage_filters: tuple
    stem_filters: int
    preact: bool = False
    shortcut: str = "projection"
    stride_on: str = "3x3"
    normalization: Any = "torch"
    merge_fn: Callable | None = None
    norm_layer: str = "batch"
    freeze_at: int = 0
    bn_epsilon: float = 1e-5
    bn_momentum: float = 0.9
    kernel_initializer: Any = "he_normal"
    kernel_regularizer: Any = None

    def __post_init__(self):
        if self.family not in FAMILY_DEFAULTS:
            raise ValueError(f"Expected `family` to be one of {tuple(FAMILY_DEFAULTS)}. "
                             f"Received: family={self.family!r}")
        if self.block not in BLOCKS:
            raise ValueError(f"Expected `block` to be one of {BLOCKS}. "
                             f"Received: block={self.block!r}")
        if len(self.stage_blocks) != len(self.stage_filters) or not self.stage_blocks:
            raise ValueError("Expected one filter count per stage. Received: stage_blocks="
                             f"{self.stage_blocks}, stage_filters={self.stage_filters}")
        if not isinstance(self.normalization, dict) and self.normalization not in NORMALIZATIONS:
            raise ValueError(f"Expected `normalization` to be one of {sorted(NORMALIZATIONS)} or "
                             "a dict of ImageNormalization arguments. "
                             f"Received: normalization={self.normalization!r}")
        check_norm_layer(self.norm_layer)
        units = len(self.stage_blocks) + 1
        if (not isinstance(self.freeze_at, int) or isinstance(self.freeze_at, bool)
                or not 0 <= self.freeze_at <= units):
            raise ValueError(f"Expected `freeze_at` to be an int in [0, {units}] (0 freezes "
                             "nothing, 1 the stem, k >= 2 the stem and the first k - 1 stages). "
                             f"Received: freeze_at={self.freeze_at!r}")

    @classmethod
    def from_variant(cls, variant, *, width=1, plain=False, shortcut=None, normalization=None,
                     **options):
        """The config of a `VARIANTS` row.

        Args:
            variant: "resnet20" ... "resnet1202" (CIFAR), "resnet18" ... "resnet152".
            width: int multiplier of the stem's and every stage's filters.
            plain: drop every shortcut (the plain nets of Sec. 4.1).
            shortcut, normalization: None picks the family's (the paper's) choice.
            **options: the other `ResNetConfig` options.
        """
        row = get_variant(variant)
        defaults = FAMILY_DEFAULTS[row["family"]]
        filters = tuple(f * positive_int("width", width) for f in row["filters"])
        if plain:
            shortcut = "none"  # the plain twin of Sec. 4.1 / Fig. 6
        return cls(variant=variant, family=row["family"], block=row["block"],
                   stage_blocks=row["stage_blocks"], stage_filters=filters,
                   stem_filters=filters[0],
                   shortcut=defaults["shortcut"] if shortcut is None else shortcut,
                   normalization=(defaults["normalization"] if normalization is None
                                  else normalization), **options)

    def image_normalization(self):
        """The `layers.ImageNormalization` arguments of `normalization`."""
        if isinstance(self.normalization, dict):
            return dict(self.normalization)
        return dict(NORMALIZATIONS[self.normalization])

    def validate_input_shape(self, input_shape):
        """Raises a ValueError naming the expected shape unless `input_shape` fits."""
        family = FAMILY_DEFAULTS[self.family]
        norm = self.image_normalization()
        need_hw = norm.get("per_pixel_mean", False)
        channels = _channels_needed(norm)

        def size_ok(d):
            return (d is None and not need_hw) or (
                isinstance(d, int) and not isinstance(d, bool) and d >= family["min_size"])

        ok = (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3
              and size_ok(input_shape[0]) and size_ok(input_shape[1])
              and isinstance(input_shape[2], int) and input_shape[2] >= 1
              and channels in (None, input_shape[2]))
        if not ok:
            hw = "" if need_hw else " (or None)"
            raise ValueError(
                f"Expected input_shape=(height, width, channels) for {self.variant} with "
                f"normalization={self.normalization!r}: height, width >= {family['min_size']}"
                f"{hw}, channels {channels or '>= 1'}, e.g. {family['input_shape']}. "
                f"Received: input_shape={input_shape!r}")
