"""`SearchSpace`: the CNN space of Zoph & Le 2016 (arXiv:1611.01578), Sec. 3.1 and 3.3."""

import dataclasses

import keras
import numpy as np

from keras_zoo.checks import positive_int
from keras_zoo.models.nas import decision
from keras_zoo.models.nas.architecture import Architecture
from keras_zoo.models.nas.decision import Decision
from keras_zoo.models.nas.layer_spec import LayerSpec

CATEGORICAL = ("filter_height", "filter_width", "num_filters", "stride")


def _choices(name, values, *, minimum=1):
    values = tuple(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                         for v in values) or len(set(values)) != len(values):
        raise ValueError(f"Expected {name} a non-empty sequence of distinct ints >= {minimum}. "
                         f"Received: {name}={values!r}")
    return tuple(int(v) for v in values)


@keras.saving.register_keras_serializable(package="keras_zoo")
@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """Convolutional child networks of `num_layers` layers (Zoph & Le 2016, Sec. 3.1, 3.3).

    For every layer the controller picks a filter height, a filter width and
    a number of filters (the paper's values are the defaults, Sec. 4.1),
    optionally a stride, and, at the layer's anchor point, which earlier
    layers feed it (skip connections: a sigmoid per earlier layer). Without
    skip connections the layers form a chain. The order of a layer's steps is
    `filter_height, filter_width, num_filters, [stride], [anchor]`.

    An action vector (int32 ``[num_actions]``) holds one entry per categorical
    step, the index of the chosen value, and one 0/1 entry per earlier layer
    at each anchor; `encode` and `decode` convert between it and an
    `Architecture`. This is one implementation of the search-space protocol
    (see `spaces`): a trial record's ``"arch"`` is `Architecture.to_dict`.

    Args:
        num_layers: convolutional layers of a child.
        filter_heights, filter_widths: kernel sizes to choose from.
        num_filters: output channels to choose from.
        strides: None fixes the stride to 1 (the paper's first experiment);
            a sequence such as ``(1, 2, 3)`` makes the stride a decision.
        skip_connections: predict the inputs of every layer (anchor points);
            False chains layer i to layer i - 1.

    Example:

    >>> space = SearchSpace(4)
    >>> arch = space.sample(np.random.default_rng(0))
    >>> space.decode(space.encode(arch)) == arch
    True
    """

    num_layers: int
    filter_heights: tuple = (1, 3, 5, 7)  # Sec. 4.1
    filter_widths: tuple = (1, 3, 5, 7)  # Sec. 4.1
    num_filters: tuple = (24, 36, 48, 64)  # Sec. 4.1
    strides: tuple | None = None  # Sec. 4.1: stride fixed to 1, or predicted in (1, 2, 3)
    skip_connections: bool = True

    def __post_init__(self):
        positive_int("num_layers", self.num_layers)
        for name in ("filter_heights", "filter_widths", "num_filters"):
            object.__setattr__(self, name, _choices(name, getattr(self, name)))
        if self.strides is not None:
            object.__setattr__(self, "strides", _choices("strides", self.strides))
        if not isinstance(self.skip_connections, bool):
            raise ValueError(f"Expected skip_connections a bool. "
                             f"Received: skip_connections={self.skip_connections!r}")

    @property
    def decisions(self):
        """The controller's steps, in order: a tuple of `Decision`."""
        steps, offset = [], 0
        for layer in range(self.num_layers):
            for name, choices in self._categorical():
                steps.append(Decision(layer, name, choices, offset, 1))
                offset += 1
            if self.skip_connections:
                steps.append(Decision(layer, "anchor", None, offset, layer))
                offset += layer
        return tuple(steps)

    def _categorical(self):
        pairs = [("filter_height", self.filter_heights), ("filter_width", self.filter_widths),
                 ("num_filters", self.num_filters)]
        if self.strides is not None:
            pairs.append(("stride", self.strides))
        return pairs

    @property
    def num_actions(self):
        """Length of an action vector."""
        return decision.num_actions(self.decisions)

    @property
    def size(self):
        """Number of distinct architectures in the space."""
        per_layer = int(np.prod([len(c) for _, c in self._categorical()]))
        skips = self.num_layers * (self.num_layers - 1) // 2 if self.skip_connections else 0
        return per_layer**self.num_layers * 2**skips

    def _chain_inputs(self, layer):
        return () if layer == 0 else (layer - 1,)

    def encode(self, arch):
        """`Architecture` -> int32 action vector ``[num_actions]``.

        Raises:
            ValueError: `arch` is not in this space.
        """
        if not isinstance(arch, Architecture) or arch.num_layers != self.num_layers:
            raise ValueError(f"Expected an Architecture of {self.num_layers} layers. Received: "
                             f"{arch if not isinstance(arch, Architecture) else arch.num_layers}")
        actions = np.zeros(self.num_actions, np.int32)
        for step in self.decisions:
            layer = arch.layers[step.layer]
            if step.choices is None:
                actions[step.offset + np.asarray(layer.inputs, int)] = 1
                continue
            value = getattr(layer, step.name)
            if value not in step.choices:
                raise ValueError(f"Expected layer {step.layer} {step.name} in {step.choices}. "
                                 f"Received: {step.name}={value}")
            actions[step.offset] = step.choices.index(value)
        for i, layer in enumerate(arch.layers):
            if self.strides is None and layer.stride != 1:
                raise ValueError(f"Expected stride 1 (the space has no stride decision). "
                                 f"Received: layer {i} stride={layer.stride}")
            if not self.skip_connections and layer.inputs != self._chain_inputs(i):
                raise ValueError(f"Expected layer {i} to take inputs {self._chain_inputs(i)} "
                                 f"(a chain: the space has no skip connections). "
                                 f"Received: inputs={layer.inputs}")
        return actions

    def decode(self, actions):
        """int action vector ``[num_actions]`` -> `Architecture`."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_actions,):
            raise ValueError(f"Expected an action vector of shape ({self.num_actions},). "
                             f"Received: shape={actions.shape}")
        fields = [{"stride": 1, "inputs": self._chain_inputs(i)} for i in range(self.num_layers)]
        for step in self.decisions:
            entries = actions[step.offset:step.offset + step.size]
            if step.choices is None:
                if not np.isin(entries, (0, 1)).all():
                    raise ValueError(f"Expected 0/1 skip entries at layer {step.layer}'s anchor. "
                                     f"Received: {entries.tolist()}")
                fields[step.layer]["inputs"] = tuple(int(j) for j in np.flatnonzero(entries))
            else:
                index = int(entries[0])
                if not 0 <= index < len(step.choices):
                    raise ValueError(f"Expected a choice index in [0, {len(step.choices)}) for "
                                     f"layer {step.layer} {step.name}. Received: {index}")
                fields[step.layer][step.name] = step.choices[index]
        return Architecture(tuple(LayerSpec(**f) for f in fields))

    def sample(self, rng):
        """A uniformly random architecture (every categorical choice equally
        likely, every skip connection with probability 1/2): random search.

        Args:
            rng: a `numpy.random.Generator` (or an int seed of one).
        """
        return self.decode(decision.uniform_actions(self.decisions, np.random.default_rng(rng)))

    def to_record(self, arch):
        """`arch` as the JSON value of a trial record (`Architecture.to_dict`)."""
        return arch.to_dict()

    def from_record(self, value):
        """Inverse of `to_record`."""
        return Architecture.from_dict(value)

    def get_config(self):
        config = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
