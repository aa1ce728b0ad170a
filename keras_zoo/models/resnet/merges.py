"""`merge_layers`: one residual merge layer per block from a merge kind and its schedule."""

from keras_zoo import layers
from keras_zoo.checks import one_of

MERGES = ("swapout", "stochastic_depth", "add")


def merge_layers(kind, num_blocks, *, keep_final=0.5, schedule="linear", seed=None):
    """The merges of `num_blocks` residual blocks, first to last.

    Block i merges with `Swapout(keep_x=p_i, keep_fx=p_i)` (Singh et al. 2016: the best
    schedule is Linear(1, 0.5) for both θ1 and θ2) or `StochasticDepth(rate=1 - p_i)`
    (Huang et al. 2016, Eq. 4), p_i from `layers.keep_schedule(num_blocks, keep_final,
    schedule=schedule)`; "add" keeps every block's plain sum.

    Args:
        kind: "swapout", "stochastic_depth" or "add".
        num_blocks: the number of blocks.
        keep_final: keep probability of the last block.
        schedule: "linear" (1 to `keep_final`) or "uniform" (`keep_final` everywhere).
        seed: optional int; block i's merge gets seed `seed + i`.

    Returns:
        A list of `num_blocks` layers (None for "add": the block's default `Add`), each
        named "merge" inside its block, for `ResNetBackbone(merges=...)`.
    """
    one_of("merge", kind, MERGES)
    keeps = layers.keep_schedule(num_blocks, keep_final, schedule=schedule)
    if kind == "add":
        return [None] * num_blocks

    def seed_of(i):
        return None if seed is None else seed + i

    if kind == "swapout":
        return [layers.Swapout(p, p, seed=seed_of(i), name="merge") for i, p in enumerate(keeps)]
    return [layers.StochasticDepth(1.0 - p, seed=seed_of(i), name="merge")
            for i, p in enumerate(keeps)]
