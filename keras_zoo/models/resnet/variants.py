"""ResNet-family variants as data (STYLE.md practice 8): one row of `ResNetBackbone`
arguments per named network, and the pixel normalisations they pick from.

CIFAR nets (He et al. 2015, Sec. 4.2): depth 6n+2, a 3x3/16 stem, three stages of n
basic blocks on 32/16/8 maps with 16/32/64 filters, option A shortcuts, per-pixel mean;
their plain twins (Sec. 4.1, Fig. 6) drop every shortcut. ImageNet nets (Table 1): a
7x7/2 stem and 3x3/2 max-pool, four stages of basic (18/34) or bottleneck (50/101/152)
blocks with 64/128/256/512 (bottleneck width) filters, option B (Sec. 3.3). Wide nets
(Zagoruyko & Komodakis 2016, Table 1): pre-activation basic blocks with 16k/32k/64k
filters and projection shortcuts. Swapout v2(depth) W x width (Singh et al. 2016, Sec.
4) and their stochastic-depth twins: the wide pre-activation layout of depth 6n+2 whose
merges follow a linear keep schedule from 1 to 0.5.

A row's "merge" entry, where present, is data too: the merge kind and its keep
schedule, which `resnet.merges.merge_layers` turns into one layer per block.
"""

from keras_zoo.checks import positive_int

# Pixel normalisations (`layers.ImageNormalization` arguments), in the [0, 255] scale of
# the raw inputs: the one table every ResNet-family model picks from.
NORMALIZATIONS = {
    # He et al. 2015, Sec. 4.2 (CIFAR): per-pixel mean subtracted, set by `adapt`.
    "per_pixel": {"per_pixel_mean": True},
    # WRN's "meanstd": per-channel CIFAR-10 statistics (szagoruyko/wide-residual-networks,
    # pytorch/main.py), the WideResNet and SwapoutResNet default.
    "cifar10": {"mean": (125.3, 123.0, 113.9), "std": (63.0, 62.1, 66.7)},
    # torchvision / timm ImageNet statistics (per channel, RGB).
    "torch": {"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)},
    # Caffe models and keras.applications ResNet50/101/152 (BGR, mean only).
    "caffe": {"mean": (103.939, 116.779, 123.68), "std": 1.0, "channel_order": "bgr"},
    # Only scale to [0, 1]; any channel count.
    "unit": {"std": 255.0},
    # Identity (float cast): for backbones fed already-normalised images (Mask R-CNN).
    "none": {},
}

_CIFAR_FILTERS = (16, 32, 64)  # Sec. 4.2
_IMAGENET_FILTERS = (64, 128, 256, 512)  # Table 1


def cifar_stage_blocks(depth, depth_offset):
    """Blocks per stage n of a three-stage CIFAR net of `depth` = 6n + `depth_offset`
    (He et al. 2015, Sec. 4.2: 6n + 2; WRN counts its two projections: 6n + 4)."""
    examples = ", ".join(str(6 * n + depth_offset) for n in range(1, 5))
    if (not isinstance(depth, int) or isinstance(depth, bool) or depth < 6 + depth_offset
            or (depth - depth_offset) % 6):
        raise ValueError(f"Expected `depth` = 6n + {depth_offset} with n >= 1 ({examples}, ...). "
                         f"Received: depth={depth!r}")
    return ((depth - depth_offset) // 6,) * 3


def cifar(depth, *, plain=False):
    """He et al.'s CIFAR ResNet-`depth` (option A) or its plain twin."""
    return {"stem": "cifar", "block": "basic", "stage_blocks": cifar_stage_blocks(depth, 2),
            "stage_filters": _CIFAR_FILTERS, "shortcut": "none" if plain else "zero_pad",
            "normalization": "per_pixel"}


def imagenet(block, stage_blocks):
    """An ImageNet ResNet of Table 1."""
    return {"stem": "imagenet", "block": block, "stage_blocks": stage_blocks,
            "stage_filters": _IMAGENET_FILTERS, "shortcut": "projection",
            "normalization": "torch"}


def wide(stage_blocks, width, *, merge=None):
    """The wide pre-activation CIFAR layout: a 3x3/16 stem, three stages of
    `stage_blocks` pre-activation basic blocks with 16w/32w/64w filters, projections
    where the shape changes, WRN's per-channel normalisation; `merge` as in the module
    docstring."""
    row = {"stem": "cifar", "block": "basic", "stage_blocks": tuple(stage_blocks),
           "stage_filters": tuple(f * positive_int("width", width) for f in _CIFAR_FILTERS),
           "stem_filters": 16, "preact": True, "shortcut": "projection",
           "normalization": "cifar10"}
    if merge is not None:
        row["merge"] = merge
    return row


def swapout(depth, width, kind):
    """Swapout v2(`depth`) W x `width` (Singh et al. 2016) or its stochastic-depth twin:
    keep probabilities Linear(1, 0.5) over the blocks (Sec. 4)."""
    return wide(cifar_stage_blocks(depth, 2), width,
                merge={"kind": kind, "keep_final": 0.5, "schedule": "linear"})


VARIANTS = {
    **{f"resnet{d}": cifar(d) for d in (20, 32, 44, 56, 110, 1202)},  # Table 6
    **{f"plain{d}": cifar(d, plain=True) for d in (20, 32, 44, 56, 110)},  # Fig. 6
    "resnet18": imagenet("basic", (2, 2, 2, 2)),  # Table 1
    "resnet34": imagenet("basic", (3, 4, 6, 3)),
    "resnet50": imagenet("bottleneck", (3, 4, 6, 3)),
    "resnet101": imagenet("bottleneck", (3, 4, 23, 3)),
    "resnet152": imagenet("bottleneck", (3, 8, 36, 3)),
    # WRN Table 1 / Table 4's CIFAR rows.
    **{f"wrn_{d}_{k}": wide(cifar_stage_blocks(d, 4), k) for d, k in ((16, 8), (28, 10), (40, 4))},
    # Singh et al. 2016, Table 2 (v2(32) W x4: 4.76% CIFAR-10 error) and their twins.
    **{f"{name}_{d}x{w}": swapout(d, w, kind)
       for name, kind in (("swapout", "swapout"), ("stochastic_depth", "stochastic_depth"))
       for d in (20, 32) for w in (2, 4)},
}

# What the classifier factories default to, by stem: Sec. 4.2 (CIFAR-10, 32x32) and
# Table 1 (ImageNet, 1000 classes, 224x224 crops).
CLASSIFIER_DEFAULTS = {"cifar": {"num_classes": 10, "input_shape": (32, 32, 3)},
                       "imagenet": {"num_classes": 1000, "input_shape": (224, 224, 3)}}


def get_variant(name):
    """The `VARIANTS` row of `name` (a copy), or a ValueError listing the valid names."""
    if name not in VARIANTS:
        raise ValueError(f"Expected `variant` to be one of {list(VARIANTS)}. "
                         f"Received: variant={name!r}")
    return dict(VARIANTS[name])
