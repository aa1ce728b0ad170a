"""`CellArchitecture`: one recurrent cell of the base-N tree space, as a plain value."""

import dataclasses

from keras_zoo.checks import is_int

COMBINATIONS = ("add", "multiply")  # Sec. 3.4: "addition, elementwise multiplication, etc."
ACTIVATIONS = ("identity", "tanh", "relu", "sigmoid")  # Sec. 3.4 / Fig. 5
FORMAT = "keras_zoo.nas.cell"


def check_base(base):
    """`base` as an int, or a ValueError unless it is 2 to 8 (Sec. 3.4, 4.2)."""
    if not is_int(base) or not 2 <= base <= 8:
        raise ValueError(f"Expected base an int in [2, 8]. Received: base={base!r}")
    return int(base)


def tree_children(base):
    """The (left, right) children of each inner node of a base-`base` tree.

    Leaves are nodes ``0 .. base-1``; inner nodes are numbered on from
    `base`, level by level, pairing a level's nodes left to right (an odd
    node out moves up a level unchanged). The last node is the root. For
    base 8 (TensorFlow's `NASCell`): 8 -> (0, 1), ..., 11 -> (6, 7),
    12 -> (8, 9), 13 -> (10, 11), 14 -> (12, 13).

    Returns:
        A tuple of ``base - 1`` pairs; pair k belongs to node ``base + k``.
    """
    level, children, next_node = list(range(base)), [], base
    while len(level) > 1:
        upper = []
        for k in range(0, len(level) - 1, 2):
            children.append((level[k], level[k + 1]))
            upper.append(next_node)
            next_node += 1
        if len(level) % 2:
            upper.append(level[-1])
        level = upper
    return tuple(children)


@dataclasses.dataclass(frozen=True)
class CellArchitecture:
    """A recurrent cell of Zoph & Le 2016, Sec. 3.4 (Fig. 5, Appendix Fig. 8).

    A tree of ``2 base - 1`` nodes computes h_t from x_t, h_{t-1} and the
    memory c_{t-1}. Leaf i combines ``W_i x_t`` and ``U_i h_{t-1}``, an inner
    node its two children (`tree_children`), each with its combination
    (``add`` or ``multiply``) followed by its activation. The memory is
    injected after node `inject_node`'s activation:
    ``inject_activation(inject_combination(a, c_{t-1}))`` replaces that
    node's output. The new memory c_t is node `memory_node`'s combination
    before its activation; h_t is the root's output.

    Attributes:
        base: number of leaves, 2 to 8 (the paper's PTB search: 8).
        combinations: one of `COMBINATIONS` per node.
        activations: one of `ACTIVATIONS` per node.
        inject_combination, inject_activation: how c_{t-1} joins.
        memory_node: node whose pre-activation becomes c_t ("cell index", first).
        inject_node: node after whose activation c_{t-1} is injected
            ("cell index", second).

    Example:

    >>> cell = CellArchitecture.named("nascell")
    >>> CellArchitecture.from_dict(cell.to_dict()) == cell
    True
    """

    base: int
    combinations: tuple
    activations: tuple
    inject_combination: str
    inject_activation: str
    memory_node: int
    inject_node: int

    def __post_init__(self):
        check_base(self.base)
        nodes = 2 * self.base - 1
        for name, allowed in (("combinations", COMBINATIONS), ("activations", ACTIVATIONS)):
            values = tuple(getattr(self, name))
            if len(values) != nodes or any(v not in allowed for v in values):
                raise ValueError(f"Expected {name} {nodes} values of {allowed}. "
                                 f"Received: {name}={values!r}")
            object.__setattr__(self, name, values)
        if self.inject_combination not in COMBINATIONS or \
                self.inject_activation not in ACTIVATIONS:
            raise ValueError(f"Expected inject_combination in {COMBINATIONS} and "
                             f"inject_activation in {ACTIVATIONS}. Received: "
                             f"{self.inject_combination!r}, {self.inject_activation!r}")
        for name in ("memory_node", "inject_node"):
            value = getattr(self, name)
            if not is_int(value) or not 0 <= value < nodes:
                raise ValueError(f"Expected {name} a node index in [0, {nodes}). "
                                 f"Received: {name}={value!r}")

    @property
    def num_nodes(self):
        return 2 * self.base - 1

    @classmethod
    def named(cls, name):
        """A cell of `CELLS`: ``"nascell"`` is the cell found on Penn Treebank."""
        if name not in CELLS:
            raise ValueError(f"Expected a cell name in {sorted(CELLS)}. Received: {name!r}")
        return CELLS[name]

    def to_dict(self):
        fields = dataclasses.asdict(self)
        return {"format": FORMAT,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}}

    @classmethod
    def from_dict(cls, value):
        fields = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(value, dict) or value.get("format") != FORMAT or \
                set(value) != fields | {"format"}:
            raise ValueError(f"Expected a cell dict with format={FORMAT!r} and keys "
                             f"{sorted(fields)}. Received: {str(value)[:200]}")
        return cls(**{k: v for k, v in value.items() if k != "format"})


# The cell of Zoph & Le 2016, Appendix A, Fig. 8 (test perplexity 62.4 on Penn Treebank),
# wired as TensorFlow's NASCell (tf.contrib.rnn / tensorflow_addons.rnn): leaves 0-7, inner
# nodes 8-11 on the leaves, 12-13 on those, root 14; c_{t-1} added to node 8's output under
# tanh; c_t is node 12's product (its activation is the identity).
CELLS = {
    "nascell": CellArchitecture(
        base=8,
        combinations=("add", "add", "add", "multiply", "add", "add", "add", "add",
                      "multiply", "add", "multiply", "add", "multiply", "add", "multiply"),
        activations=("sigmoid", "relu", "sigmoid", "relu", "tanh", "sigmoid", "tanh", "sigmoid",
                     "tanh", "tanh", "tanh", "sigmoid", "identity", "tanh", "tanh"),
        inject_combination="add", inject_activation="tanh", memory_node=12, inject_node=8),
}
