"""`Decision`: one step of the controller, the unit of every search space."""

import typing

import numpy as np


class Decision(typing.NamedTuple):
    """One controller step: a categorical choice, or an anchor point (skip bits).

    Every search space (`SearchSpace`, `ChoiceSpace`, `RecurrentCellSpace`)
    is an ordered tuple of decisions; the `Controller`, the policy-gradient
    updates, random search and regularized evolution see nothing else of it.

    Attributes:
        layer: the layer, tree node or position the step belongs to (names
            the controller's weights with `name`).
        name: what is decided (``"filter_height"``, ``"activation"``, ...).
        choices: the values of a categorical step (their number is what the
            controller needs); None for an anchor point.
        offset: where the step's entries start in an action vector.
        size: its number of entries: 1 for a categorical step; for an anchor
            one 0/1 entry per earlier anchor (the k-th anchor of a space has
            k entries: Zoph & Le 2016, Sec. 3.3).
    """

    layer: int
    name: str
    choices: tuple | None
    offset: int
    size: int


def num_actions(decisions):
    """Length of an action vector of `decisions`."""
    last = decisions[-1]
    return last.offset + last.size


def check_actions(decisions, actions):
    """`actions` as an int32 vector, or a ValueError naming the first bad entry."""
    actions = np.asarray(actions)
    if actions.shape != (num_actions(decisions),) or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(f"Expected an int action vector of shape ({num_actions(decisions)},). "
                         f"Received: shape={actions.shape}, dtype={actions.dtype}")
    for d in decisions:
        entries = actions[d.offset:d.offset + d.size]
        high = 2 if d.choices is None else len(d.choices)
        if ((entries < 0) | (entries >= high)).any():
            raise ValueError(f"Expected entries in [0, {high}) for {d.name} of {d.layer}. "
                             f"Received: {entries.tolist()}")
    return actions.astype(np.int32)


def uniform_actions(decisions, rng):
    """A uniformly random action vector: every categorical choice equally
    likely, every skip bit 1 with probability 1/2 (random search)."""
    actions = np.zeros(num_actions(decisions), np.int32)
    for d in decisions:
        high = 2 if d.choices is None else len(d.choices)
        actions[d.offset:d.offset + d.size] = rng.integers(0, high, d.size)
    return actions
