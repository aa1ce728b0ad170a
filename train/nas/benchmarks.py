"""Tabular benchmarks: rewards read from a table of trained architectures (no training).

`NASBench201` is NAS-Bench-201's cell space (Dong & Yang 2020,
arXiv:2001.00326): a cell of 4 nodes and 6 edges, each edge one of 5
operations, 15,625 cells, every one trained on CIFAR-10. The accuracies come
from the ``analog-nasbench`` wheel (the optional ``nasbench`` extra: ``pip
install 'keras_zoo[nasbench]'``), which ships the table of all 15,625 cells
with their trained CIFAR-10 accuracy as ``baseline_accuracy``.
"""

import functools

import numpy as np

from keras_zoo.models.nas import ChoiceSpace

EDGES, OPERATIONS = 6, 5


@functools.lru_cache(maxsize=1)
def _table():
    """Accuracies ``[5, 5, 5, 5, 5, 5]`` (percent) indexed by the wheel's cell tuples."""
    try:
        from analognasbench import AnalogNASBench
    except ImportError:
        raise ValueError("Expected the 'nasbench' extra for NAS-Bench-201 rewards (pip install "
                         "'keras_zoo[nasbench]'). Received: analog-nasbench is not "
                         "installed") from None
    data = AnalogNASBench().data
    table = np.full((OPERATIONS,) * EDGES, np.nan)
    for cell, entry in data.items():
        table[tuple(cell)] = entry.baseline_accuracy
    if len(data) != OPERATIONS**EDGES or np.isnan(table).any():
        raise ValueError(f"Expected analog-nasbench to hold all {OPERATIONS**EDGES} cells. "
                         f"Received: {len(data)} cells")
    table.setflags(write=False)
    return table


class NASBench201:
    """The trained CIFAR-10 accuracy of a NAS-Bench-201 cell, as a reward.

    An architecture is a list of 6 operation indices in [0, 5), one per
    edge, in the order and numbering of the wheel's cell tuples; its search
    space is ``ChoiceSpace([5] * 6)`` (`space`). ``reward(arch)`` is the
    accuracy as a fraction; ``accuracy(arch)`` in percent. In the wheel's
    numbering operation 1 is the zero operation: the 6-tuple of 1s (no path
    from input to output) scores 10.0%, chance on CIFAR-10. The table's best
    cell, (2, 2, 0, 2, 3, 2), scores 94.07%.

    The object holds the table as a 15,625-entry array, so it pickles to
    worker processes.

    Example:

    >>> bench = NASBench201()
    >>> bench.accuracy([2, 2, 0, 2, 3, 2]), bench.best_accuracy
    (94.0664, 94.0664)
    >>> records = search(bench.space, bench, trials=100, seed=0, algorithm="evolution")
    """

    def __init__(self):
        self.accuracies = _table()
        self.space = ChoiceSpace([OPERATIONS] * EDGES)

    @property
    def best_accuracy(self):
        """The highest accuracy of the table, percent."""
        return float(self.accuracies.max())

    def accuracy(self, arch):
        """The trained accuracy of `arch` (6 operation indices), percent."""
        return float(self.accuracies[tuple(self.space.encode(arch))])

    def __call__(self, arch):
        """The reward: the accuracy as a fraction in [0, 1]."""
        return self.accuracy(arch) / 100.0
