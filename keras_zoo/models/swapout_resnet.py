"""Swapout networks (Singh, Hoiem, Forsyth 2016, arXiv:1605.06465) and their
stochastic-depth twins: the wide pre-activation configuration of `WideResNet`
with other merges."""

from keras_zoo.models.resnet.merges import merge_layers
from keras_zoo.models.resnet.variants import cifar_stage_blocks, wide
from keras_zoo.models.wide_resnet import classifier_or_backbone


def SwapoutResNet(depth=32, width=4, *, keep_final=0.5, schedule="linear", merge="swapout",
                  seed=None, num_classes=10, input_shape=(32, 32, 3), normalization="cifar10",
                  stem_filters=16, shortcut="projection", classifier_activation="softmax",
                  include_top=True, norm_layer="batch", kernel_regularizer=None, name=None):
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
        shortcut: `BasicBlock` shortcut where shapes change (`"projection"` or `"zero_pad"`).
        num_classes, input_shape, normalization, classifier_activation: as in
            `models.WideResNet`.
        include_top, norm_layer, kernel_regularizer: as in `models.WideResNet`
            (`include_top=False`: the `{"C0", "C1", "C2"}` backbone).
        name: model name, default `"swapout_{depth}x{width}"` (or the merge's;
            `"..._backbone"` without top).

    Returns:
        A functional `keras.Model` mapping raw pixels to class probabilities.

    Example:

    >>> model = SwapoutResNet(20, 2)
    >>> [b.merge.keep_x for b in model.layers if hasattr(b, "merge")][:2]
    [1.0, 0.9375]
    """
    stage_blocks = cifar_stage_blocks(depth, 2)
    # The merges exist before the graph (their seeds are drawn before the convs').
    merges = merge_layers(merge, sum(stage_blocks), keep_final=keep_final, schedule=schedule,
                          seed=seed)
    default_name = {"swapout": "swapout", "stochastic_depth": "stochastic_depth",
                    "add": "preact_resnet"}[merge]
    row = {**wide(stage_blocks, width), "stem_filters": stem_filters, "shortcut": shortcut}
    return classifier_or_backbone(
        row, include_top=include_top, num_classes=num_classes, input_shape=input_shape,
        classifier_activation=classifier_activation, kernel_regularizer=kernel_regularizer,
        name=name, default_name=f"{default_name}_{depth}x{width}", normalization=normalization,
        norm_layer=norm_layer, merges=None if merge == "add" else merges)
