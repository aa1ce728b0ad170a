"""ResNet variants as data (STYLE.md practice 8): one row per network.

CIFAR nets (He et al. 2015, Sec. 4.2): depth 6n+2, a 3x3/16 stem, three stages of n
basic blocks on 32/16/8 maps with 16/32/64 filters. ImageNet nets (Table 1): a 7x7/2
stem and 3x3/2 max-pool, four stages of basic (18/34) or bottleneck (50/101/152)
blocks with 64/128/256/512 (bottleneck width) filters.
"""

_CIFAR_FILTERS = (16, 32, 64)  # Sec. 4.2
_IMAGENET_FILTERS = (64, 128, 256, 512)  # Table 1


def _cifar(depth):
    n = (depth - 2) // 6
    return {"family": "cifar", "block": "basic", "stage_blocks": (n, n, n),
            "filters": _CIFAR_FILTERS}


def _imagenet(block, stage_blocks):
    return {"family": "imagenet", "block": block, "stage_blocks": stage_blocks,
            "filters": _IMAGENET_FILTERS}


VARIANTS = {
    **{f"resnet{d}": _cifar(d) for d in (20, 32, 44, 56, 110, 1202)},  # Table 6
    "resnet18": _imagenet("basic", (2, 2, 2, 2)),  # Table 1
    "resnet34": _imagenet("basic", (3, 4, 6, 3)),
    "resnet50": _imagenet("bottleneck", (3, 4, 6, 3)),
    "resnet101": _imagenet("bottleneck", (3, 4, 23, 3)),
    "resnet152": _imagenet("bottleneck", (3, 8, 36, 3)),
}

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
