"""Swapout networks (Singh, Hoiem, Forsyth 2016, arXiv:1605.06465) and their
stochastic-depth twins, on the pre-activation blocks of `WideResNet`."""

from keras_zoo import layers
from keras_zoo.models.wide_resnet import build_preact_resnet

MERGES = ("swapout", "stochastic_depth", "add")

# The paper's CIFAR configurations (Table 2), "Swapout v2(depth) W x width": widths
# x2 (stages 32/64/128) and x4 (64/128/256; v2(32) W x4: 4.76% CIFAR-10 error), and
# their stochastic-depth twins (same nets, `StochasticDepth` merges).
VARIANTS = {
    f"{prefix}-{depth}x{width}": {"depth": depth, "width": width, "merge": merge}
    for prefix, merge in (("swapout", "swapout"), ("stochastic-depth", "stochastic_depth"))
    for depth in (20, 32) for width in (2, 4)
}


def SwapoutResNet(depth=32, width=4, *, keep_final=0.5, schedule="linear", merge="swapout",
                  seed=None, num_classes=10, input_shape=(32, 32, 3), normalization="cifar10",
                  stem_filters=16, shortcut="projection", classifier_activation="softmax",
                  kernel_regularizer=None, name=None):
    """Swapout v2(depth) W x width: a pre-activation CIFAR ResNet whose merges are `Swapout`.

    depth = 6n + 2 as in He et al.'s CIFAR nets: a 3x3/16 stem, three stages of
    n `BasicBlock(preact=True)` units with 16w/32w/64w filters (w = 2: 32/64/128,
    w = 4: 64/128/256; Singh et al. Sec. 4), BN-ReLU, global average pooling
    and a classifier. Block i merges with `Swapout(keep_x=p_i, keep_fx=p_i)`,
    p_i from `layers.keep_schedule(3n, keep_final, schedule=schedule)`: the
    paper's best schedule is Linear(1, 0.5) for both θ1 and θ2. Only the
    merge changes, so `merge="stochastic_depth"` (rate 1 - p_i, Huang et al.
    2016) and `merge="add"` (a plain pre-activation ResNet) are the same net.

    Use `models.stochastic_predict` for stochastic inference (mean softmax of
    N = 30 sampled passes); `model.predict` is deterministic inference.

    Args:
        depth: 6n + 2 (20, 32, 44, ...).
        width: widening factor w of the 16/32/64 stage filters.
        keep_final: keep probability of the last block.
        schedule: `"linear"` (1 to `keep_final`) or `"uniform"` (`keep_final` everywhere).
        merge: `"swapout"`, `"stochastic_depth"` or `"add"`.
        seed: optional int; block i's merge gets seed `seed + i`.
        stem_filters: filters of the stem (16, the CIFAR ResNet stem; the paper
            does not state it).
        num_classes, input_shape, normalization, shortcut, classifier_activation,
        kernel_regularizer: see `models.wide_resnet.build_preact_resnet`.
        name: model name, default `"swapout_{depth}x{width}"` (or the merge's).

    Returns:
        A functional `keras.Model` mapping raw pixels to class probabilities.

    Example:

    >>> model = SwapoutResNet(20, 2)
    >>> [b.merge.keep_x for b in model.layers if hasattr(b, "merge")][:2]
    [1.0, 0.9375]
    """
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"Expected `depth` = 6n + 2 with n >= 1 (20, 32, 44, ...). "
                         f"Received: depth={depth!r}")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"Expected `width` to be a positive int. Received: width={width!r}")
    if merge not in MERGES:
        raise ValueError(f"Expected `merge` to be one of {MERGES}. Received: merge={merge!r}")
    n = (depth - 2) // 6
    keeps = layers.keep_schedule(3 * n, keep_final, schedule=schedule)

    def seed_of(i):
        return None if seed is None else seed + i

    if merge == "swapout":
        merges = [layers.Swapout(p, p, seed=seed_of(i), name="merge")
                  for i, p in enumerate(keeps)]
    elif merge == "stochastic_depth":
        merges = [layers.StochasticDepth(1.0 - p, seed=seed_of(i), name="merge")
                  for i, p in enumerate(keeps)]
    else:
        merges = [None] * (3 * n)
    default_name = {"swapout": "swapout", "stochastic_depth": "stochastic_depth",
                    "add": "preact_resnet"}[merge]
    return build_preact_resnet(
        stage_blocks=(n, n, n), stage_filters=(16 * width, 32 * width, 64 * width),
        merges=merges, stem_filters=stem_filters, num_classes=num_classes,
        input_shape=input_shape, normalization=normalization, shortcut=shortcut,
        classifier_activation=classifier_activation, kernel_regularizer=kernel_regularizer,
        name=name or f"{default_name}_{depth}x{width}")
