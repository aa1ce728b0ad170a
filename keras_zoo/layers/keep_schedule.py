"""Keep-probability schedules over the residual blocks of a network."""

from keras_zoo.checks import positive_int
from keras_zoo.layers import _stochastic

SCHEDULES = ("linear", "uniform")


def keep_schedule(num_blocks, final=0.5, *, schedule="linear"):
    """Keep probabilities for `num_blocks` residual blocks, first to last.

    `"linear"` goes from 1 at the first block to `final` at the last,
    `p_i = 1 - i / (num_blocks - 1) * (1 - final)` for `i = 0 ... num_blocks - 1`:
    Swapout's best schedule "Linear(1, 0.5)" (Singh et al. 2016, Sec. 4, for
    both θ1 and θ2), and the linear decay rule of stochastic depth (Huang et
    al. 2016, Eq. 4) with the first block always kept. One block gets `final`.
    `"uniform"` gives every block `final`.

    Args:
        num_blocks: positive int, the number of merges.
        final: keep probability of the last block (0.5 in both papers).
        schedule: `"linear"` or `"uniform"`.

    Returns:
        A list of `num_blocks` floats. For `StochasticDepth` use
        `rate = 1 - p` for each entry.

    Example:

    >>> keep_schedule(5, 0.5)
    [1.0, 0.875, 0.75, 0.625, 0.5]
    """
    positive_int("num_blocks", num_blocks)
    final = _stochastic.check_probability("final", final)
    if schedule not in SCHEDULES:
        raise ValueError(
            f"Expected `schedule` to be one of {SCHEDULES}. Received: schedule={schedule!r}")
    if schedule == "uniform" or num_blocks == 1:
        return [final] * num_blocks
    return [1.0 - i / (num_blocks - 1) * (1.0 - final) for i in range(num_blocks)]
