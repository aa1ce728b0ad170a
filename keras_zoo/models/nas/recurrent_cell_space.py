"""`RecurrentCellSpace`: the recurrent-cell search space of Zoph & Le 2016, Sec. 3.4."""

import keras
import numpy as np

from keras_zoo.models.nas import decision
from keras_zoo.models.nas.cell_architecture import (
    ACTIVATIONS,
    COMBINATIONS,
    CellArchitecture,
    check_base,
)
from keras_zoo.models.nas.decision import Decision


@keras.saving.register_keras_serializable(package="keras_zoo")
class RecurrentCellSpace:
    """Recurrent cells on a base-N tree (Zoph & Le 2016, Sec. 3.4, Fig. 5).

    The controller decides, node by node (leaves first, the root last; see
    `cell_architecture.tree_children`), a combination (add, elementwise
    multiply) and an activation (identity, tanh, ReLU, sigmoid); then the
    "cell inject" combination and activation; then the two "cell indices":
    the node whose pre-activation becomes the new memory c_t, and the node
    whose output c_{t-1} is injected into. That is ``2 (2N - 1) + 4``
    categorical decisions, in Fig. 5's order. An architecture is a
    `CellArchitecture`; a trial record's ``"arch"`` is its `to_dict`.

    Args:
        base: leaves of the tree, 2 to 8 (the paper's Penn Treebank search: 8).

    Example:

    >>> space = RecurrentCellSpace(8)
    >>> space.encode(CellArchitecture.named("nascell")).shape
    (34,)
    """

    def __init__(self, base=8):  # Sec. 4.2: "base number of 8"
        self.base = check_base(base)

    def __eq__(self, other):
        return isinstance(other, RecurrentCellSpace) and other.base == self.base

    def __hash__(self):
        return hash(("RecurrentCellSpace", self.base))

    def __repr__(self):
        return f"RecurrentCellSpace({self.base})"

    @property
    def num_nodes(self):
        return 2 * self.base - 1

    @property
    def decisions(self):
        steps = []
        for node in range(self.num_nodes):
            steps.append(Decision(node, "combination", COMBINATIONS, 2 * node, 1))
            steps.append(Decision(node, "activation", ACTIVATIONS, 2 * node + 1, 1))
        offset, nodes = 2 * self.num_nodes, tuple(range(self.num_nodes))
        steps.append(Decision(self.num_nodes, "inject_combination", COMBINATIONS, offset, 1))
        steps.append(Decision(self.num_nodes, "inject_activation", ACTIVATIONS, offset + 1, 1))
        steps.append(Decision(self.num_nodes + 1, "memory_node", nodes, offset + 2, 1))
        steps.append(Decision(self.num_nodes + 1, "inject_node", nodes, offset + 3, 1))
        return tuple(steps)

    @property
    def num_actions(self):
        return 2 * self.num_nodes + 4

    @property
    def size(self):
        """Number of distinct cells: (2 x 4)^(2N - 1) nodes x 2 x 4 x (2N - 1)^2."""
        return (len(COMBINATIONS) * len(ACTIVATIONS)) ** (self.num_nodes + 1) * self.num_nodes**2

    def encode(self, arch):
        """`CellArchitecture` -> int32 action vector ``[num_actions]``."""
        if not isinstance(arch, CellArchitecture) or arch.base != self.base:
            raise ValueError(f"Expected a CellArchitecture of base {self.base}. Received: "
                             f"{getattr(arch, 'base', type(arch).__name__)}")
        values = [v for c, a in zip(arch.combinations, arch.activations) for v in (c, a)]
        values += [arch.inject_combination, arch.inject_activation, arch.memory_node,
                   arch.inject_node]
        return np.array([d.choices.index(v) for d, v in zip(self.decisions, values)], np.int32)

    def decode(self, actions):
        """int action vector -> `CellArchitecture`."""
        actions = decision.check_actions(self.decisions, actions)
        values = [d.choices[a] for d, a in zip(self.decisions, actions)]
        n = 2 * self.num_nodes
        return CellArchitecture(self.base, tuple(values[0:n:2]), tuple(values[1:n:2]),
                                *values[n:])

    def sample(self, rng):
        """A uniformly random cell; `rng` a `numpy.random.Generator` or int seed."""
        return self.decode(decision.uniform_actions(self.decisions, np.random.default_rng(rng)))

    def to_record(self, arch):
        return arch.to_dict()

    def from_record(self, value):
        return CellArchitecture.from_dict(value)

    def get_config(self):
        return {"base": self.base}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
