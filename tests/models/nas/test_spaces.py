"""The search-space protocol: ChoiceSpace, RecurrentCellSpace and CellArchitecture, the
builder `spaces.get` and JSON round trips of every space."""

import numpy as np
import pytest

from keras_zoo.models.nas import (
    CellArchitecture,
    ChoiceSpace,
    RecurrentCellSpace,
    SearchSpace,
    spaces,
)
from keras_zoo.models.nas.cell_architecture import tree_children

pytestmark = pytest.mark.no_keras_state  # no Keras layers: see tests/conftest.py

SPACES = [ChoiceSpace([9, 9, 9, 9, 9]), ChoiceSpace([1, 4, 2]), RecurrentCellSpace(2),
          RecurrentCellSpace(8), SearchSpace(3, strides=(1, 2))]
IDS = ["choices-9x5", "choices-mixed", "cell-base2", "cell-base8", "cnn"]


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_every_space_keeps_the_protocol(space):
    rng = np.random.default_rng(0)
    assert spaces.is_space(space)
    last = space.decisions[-1]
    assert space.num_actions == last.offset + last.size
    for _ in range(10):
        arch = space.sample(rng)
        actions = space.encode(arch)
        assert actions.shape == (space.num_actions,) and actions.dtype == np.int32
        assert space.decode(actions) == arch
        assert space.from_record(space.to_record(arch)) == arch
    for form in (space, spaces.serialize(space), spaces.to_json(space)):
        rebuilt = spaces.from_json(form) if isinstance(form, str) else spaces.get(form)
        assert rebuilt == space


def test_a_list_of_counts_is_a_choice_space():
    space = spaces.get([9, 9, 9, 9, 9])
    assert space == ChoiceSpace([9] * 5) and space.size == 9**5
    assert [(d.layer, d.name, d.choices, d.offset, d.size) for d in space.decisions[:2]] == [
        (0, "choice", tuple(range(9)), 0, 1), (1, "choice", tuple(range(9)), 1, 1)]
    arch = space.decode(np.array([0, 8, 3, 4, 5]))
    assert arch == [0, 8, 3, 4, 5] and all(type(c) is int for c in arch)
    assert space.to_record(arch) == [0, 8, 3, 4, 5]
    # A CNN space's bare config (what older controllers stored) still reads.
    assert spaces.get(SearchSpace(2).get_config()) == SearchSpace(2)


def test_uniform_sampling_of_a_choice_space():
    # 6,000 draws of a 3-way choice: 5 standard deviations of a frequency of 1/3 are
    # 5 sqrt(2/9 / 6000) = 0.030.
    space = ChoiceSpace([3, 2])
    rng = np.random.default_rng(3)
    draws = np.array([space.sample(rng) for _ in range(6000)])
    np.testing.assert_allclose(np.bincount(draws[:, 0]) / 6000, 1 / 3, atol=0.030)
    np.testing.assert_allclose(np.bincount(draws[:, 1]) / 6000, 1 / 2, atol=0.033)


def test_bad_spaces_and_architectures_are_refused():
    with pytest.raises(ValueError, match="counts"):
        ChoiceSpace([3, 0])
    with pytest.raises(ValueError, match="at least one decision"):
        ChoiceSpace([])
    with pytest.raises(ValueError, match="list of 2 choice indices"):
        ChoiceSpace([3, 3]).encode([1])
    with pytest.raises(ValueError, match=r"entries in \[0, 3\)"):
        ChoiceSpace([3, 3]).encode([1, 3])
    with pytest.raises(ValueError, match="Expected a search space"):
        spaces.get("nas-bench")
    with pytest.raises(ValueError, match="space class"):
        spaces.get({"class_name": "Other", "config": {}})
    with pytest.raises(ValueError, match="base"):
        RecurrentCellSpace(9)
    with pytest.raises(ValueError, match="base 2"):
        RecurrentCellSpace(2).encode(CellArchitecture.named("nascell"))


def test_tree_children_worked_examples():
    assert tree_children(2) == ((0, 1),)  # Fig. 5: leaves 0, 1 and the root 2
    assert tree_children(3) == ((0, 1), (3, 2))  # leaf 2 waits a level for node 3
    assert tree_children(8) == ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11), (12, 13))


def test_recurrent_cell_space_follows_figure_5():
    space = RecurrentCellSpace(2)
    steps = [(d.layer, d.name, len(d.choices)) for d in space.decisions]
    assert steps == [(0, "combination", 2), (0, "activation", 4), (1, "combination", 2),
                     (1, "activation", 4), (2, "combination", 2), (2, "activation", 4),
                     (3, "inject_combination", 2), (3, "inject_activation", 4),
                     (4, "memory_node", 3), (4, "inject_node", 3)]
    assert space.size == 8**4 * 3**2
    # Fig. 5's example: (Add, Tanh), (ElemMult, ReLU), (ElemMult, Sigmoid), inject (Add,
    # ReLU), cell indices 1 (c_t from node 1) and 0 (c_{t-1} into node 0).
    figure5 = CellArchitecture(2, ("add", "multiply", "multiply"), ("tanh", "relu", "sigmoid"),
                               "add", "relu", memory_node=1, inject_node=0)
    assert space.encode(figure5).tolist() == [0, 1, 1, 2, 1, 3, 0, 2, 1, 0]
    assert RecurrentCellSpace(8).num_actions == 2 * 15 + 4


def test_cell_architecture_values():
    cell = CellArchitecture.named("nascell")
    assert cell.num_nodes == 15 and (cell.memory_node, cell.inject_node) == (12, 8)
    assert CellArchitecture.from_dict(cell.to_dict()) == cell
    assert hash(CellArchitecture.from_dict(cell.to_dict())) == hash(cell)
    with pytest.raises(ValueError, match="cell name"):
        CellArchitecture.named("lstm")
    with pytest.raises(ValueError, match="combinations 3 values"):
        CellArchitecture(2, ("add",), ("tanh",) * 3, "add", "tanh", 0, 0)
    with pytest.raises(ValueError, match="memory_node a node index"):
        CellArchitecture(2, ("add",) * 3, ("tanh",) * 3, "add", "tanh", 3, 0)
    with pytest.raises(ValueError, match="format"):
        CellArchitecture.from_dict({"base": 2})
